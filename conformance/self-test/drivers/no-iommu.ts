/**
 * A builder that never puts `iommu='on'` on virtio devices — not at boot, not on hot-plugged
 * volumes and NICs. Everything else in the XML (launchSecurity, locked memory, no iPXE ROM) stays.
 *
 * Who catches it:
 * - xml.qga-virtio-serial on every SEV host: the case requires the explicit virtio-serial controller
 *   to carry `<driver iommu='on'/>` whatever the QEMU version;
 * - on QEMU < 6.0 (naples-7001, QEMU 4.2), where QEMU does not force the platform IOMMU on:
 *   xml.iommu-on-virtio and both hot-plug cases (lifecycle.attach-*-iommu) are strict there, and
 *   the guest starts but records "virtio without iommu" faults (its I/O cannot reach encrypted
 *   memory), which the boot judge rejects: boot.sev-guest-runs-encrypted and
 *   memory.pinned-covers-regions. Cases that boot only to judge something else (slots, lifecycle)
 *   do not look at guest faults.
 * milan-7003-253 (QEMU 6.2) is where the device rule is advisory: only the guest-agent case fails.
 */
import { type DomainIdentity, type GuestPlan, ReferenceSevDriver, WireSource } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** What the builder emits without its IOMMU lines: the attribute and the `<driver>` element go. */
export function withoutIommu(xml: string): string {
  return xml.replace(/<driver iommu='on'\/>/g, '').replace(/ iommu='on'/g, '');
}

class NoIommuDriver extends ReferenceSevDriver {
  override xmlFor(plan: GuestPlan, uuid: string): string {
    return withoutIommu(super.xmlFor(plan, uuid));
  }
}

/** Hot-plugged devices come from the same device templates, so they lack it too, live or persistent. */
class NoIommuDevices extends WireSource {
  override attachDevice(dom: DomainIdentity, xml: string, flags: number): Promise<void> {
    return super.attachDevice(dom, withoutIommu(xml), flags);
  }
  override defineXML(xml: string): Promise<DomainIdentity> {
    return super.defineXML(withoutIommu(xml));
  }
}

export const NO_IOMMU: BrokenDriverSpec = {
  name: 'no-iommu',
  bug: "leaves iommu='on' off every virtio device (boot-time and hot-plugged)",
  variant: (h) => new NoIommuDriver(new NoIommuDevices(h.client), h.files, h.config),
  runs: [
    { profiles: ['naples-7001', 'intel-xeon'] },
    // The QEMU ≥ 6.0 control: the areas that catch it on naples must pass here, bar the agent case.
    { profiles: ['milan-7003-253'], cases: ['xml', 'boot', 'memory', 'lifecycle'] },
  ],
  expectedFailures: [
    { cases: ['xml.qga-virtio-serial'], profiles: ['naples-7001', 'milan-7003-253'], why: 'the guest-agent controller must carry iommu on every host' },
    {
      cases: ['xml.iommu-on-virtio', 'lifecycle.attach-volume-iommu', 'lifecycle.attach-interface-iommu'],
      profiles: ['naples-7001'],
      why: 'QEMU 4.2 does not turn the platform IOMMU on by itself, so every virtio device needs iommu=on',
    },
    {
      cases: ['boot.sev-guest-runs-encrypted', 'memory.pinned-covers-regions'],
      profiles: ['naples-7001'],
      why: 'the booted guest records virtio-without-iommu faults: its I/O cannot reach encrypted memory',
    },
  ],
};
