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
import { BrokenReferenceDriver } from '../broken-reference.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** What the builder emits without its IOMMU lines: the attribute and the `<driver>` element go. */
export function withoutIommu(xml: string): string {
  return xml.replace(/<driver iommu='on'\/>/g, '').replace(/ iommu='on'/g, '');
}

export const NO_IOMMU: BrokenDriverSpec = {
  name: 'no-iommu',
  bug: "leaves iommu='on' off every virtio device (boot-time and hot-plugged)",
  create: () =>
    new BrokenReferenceDriver('no-iommu', {
      core: (core) => {
        const build = core.xmlFor.bind(core);
        core.xmlFor = (plan, uuid) => withoutIommu(build(plan, uuid));
        // Hot-plugged devices come from the same device templates, so they lack it too.
        const attach = core.libvirt.attachDevice.bind(core.libvirt);
        core.libvirt.attachDevice = (dom, xml, flags) => attach(dom, withoutIommu(xml), flags);
        const define = core.libvirt.defineXML.bind(core.libvirt);
        core.libvirt.defineXML = (xml) => define(withoutIommu(xml));
      },
    }),
  profiles: ['naples-7001', 'milan-7003-253'],
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
