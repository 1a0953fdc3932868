/**
 * Detection that hard-codes the C-bit position 47 (right on Naples and Rome, wrong from Milan on,
 * where it is 51) instead of reading `<cbitpos>` from domain capabilities. The driver reports 47 and
 * its builder writes 47 into every `<launchSecurity>`.
 *
 * Who catches it, on a C-bit-51 host (milan-7003-253, milan-7003-all-es):
 * - detect.sev-facts-from-domcaps and xml.cbitpos-from-domcaps read the number directly (all-es has
 *   no plain-SEV slots, so these do not apply there);
 * - everything that boots an encrypted guest, because QEMU refuses to start when the requested
 *   cbitpos differs from the host's ("cbitpos check failed"): the boot, memory and slot cases, every
 *   lifecycle case (each starts by booting the guest), the fault case whose "next spawn works" step
 *   boots, and the ES boot and ES slot cases on all-es.
 * naples-7001 is the control: its C-bit is 47, so the bug is invisible there.
 */
import { type HostReport, ReferenceSevDriver } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

const HARD_CODED_CBITPOS = 47;

/** Detection with the C-bit written in; the builder takes it from the report like any other fact. */
class HardcodedCbitposDriver extends ReferenceSevDriver {
  protected override async detect(): Promise<HostReport> {
    const r = await super.detect();
    // Wherever libvirt gave SEV facts (also on an all-ES host, whose ES guests are launched with them).
    return r.sev.cbitpos !== undefined ? { ...r, sev: { ...r.sev, cbitpos: HARD_CODED_CBITPOS } } : r;
  }
}

const SEV_BOOTS = [
  'boot.sev-guest-runs-encrypted', 'slots.sev-exhaustion', 'slots.reuse-after-delete', 'slots.cap-below-usage',
  'memory.pinned-covers-regions', 'memory.no-overcommit', 'faults.firmware-error-on-launch',
  'lifecycle.suspend-refused', 'lifecycle.live-migrate-refused', 'lifecycle.pause-allowed', 'lifecycle.resume-allowed',
  'lifecycle.hard-reboot-allowed', 'lifecycle.cold-migrate-allowed', 'lifecycle.rebuild-allowed', 'lifecycle.shelve-allowed',
  'lifecycle.unshelve-allowed', 'lifecycle.snapshot-allowed', 'lifecycle.resize-to-plain', 'lifecycle.rebuild-revalidates',
  'lifecycle.attach-volume-iommu', 'lifecycle.attach-interface-iommu', 'lifecycle.sev-disabled-with-guests',
];

export const HARDCODED_CBITPOS: BrokenDriverSpec = {
  name: 'hardcoded-cbitpos-47',
  bug: 'reports and writes cbitpos 47 on every host instead of the value in domain capabilities',
  variant: (h) => new HardcodedCbitposDriver(h.libvirt, h.files, h.config),
  // Every boot fails at once on the C-bit-51 hosts, so even their slot cases are cheap here.
  runs: [{ profiles: ['milan-7003-253', 'milan-7003-all-es', 'naples-7001', 'intel-xeon'] }],
  expectedFailures: [
    {
      cases: ['detect.sev-facts-from-domcaps', 'detect.foreign-arch-domcaps-fails', 'xml.cbitpos-from-domcaps'],
      profiles: ['milan-7003-253'],
      why: 'the reported and written cbitpos is 47, the host says 51',
    },
    { cases: SEV_BOOTS, label: 'every case that boots an SEV guest', profiles: ['milan-7003-253'], why: "QEMU refuses to start an SEV guest whose cbitpos is not the host's" },
    {
      cases: ['boot.sev-es-guest-runs-encrypted', 'slots.sev-es-exhaustion'],
      profiles: ['milan-7003-all-es'],
      why: "QEMU refuses to start an SEV-ES guest whose cbitpos is not the host's",
    },
  ],
};
