/**
 * Detection that walks every guest arch the host's capabilities list and asks libvirt for each one's
 * domain capabilities, as nova does, but treats any failed query as "this host has no SEV" instead
 * of skipping the arch that failed. A missing or broken emulator for a foreign arch (qemu-system-i386
 * removed, say) then hides SEV on x86_64.
 *
 * Who catches it: detect.foreign-arch-domcaps-fails on every SEV profile it runs on — the case breaks
 * the host's 32-bit guest arch and expects SEV still detected. Nothing else: with every emulator
 * present the walk succeeds and the report is the reference's (milan-7003-es8 judged in full, and
 * intel-xeon, where there is no SEV to hide, are the controls).
 */
import { type HostReport, parseCapabilities, ReferenceSevDriver } from '../../../src/driver/index.ts';
import { withModels } from '../broken-reference.ts';
import type { BrokenDriverSpec } from '../types.ts';

class StrictArchWalkDriver extends ReferenceSevDriver {
  protected override async detect(): Promise<HostReport> {
    const report = await super.detect();
    for (const { arch } of parseCapabilities(await this.libvirt.getCapabilities()).guests) {
      try {
        await this.libvirt.getDomainCapabilities({ arch });
      } catch {
        return withModels(report, (m) => ({ ...m, available: false, slots: 0 }));
      }
    }
    return report;
  }
}

export const STRICT_ARCH_WALK: BrokenDriverSpec = {
  name: 'strict-arch-walk',
  bug: "gives up SEV detection when the domain-capabilities query of any guest arch fails, instead of skipping that arch",
  variant: (h) => new StrictArchWalkDriver(h.libvirt, h.files, h.config),
  runs: [
    { profiles: ['milan-7003-es8', 'intel-xeon'] },
    { profiles: ['rome-7002', 'genoa-9004'], cases: ['detect'] },
  ],
  expectedFailures: [
    {
      cases: ['detect.foreign-arch-domcaps-fails'],
      profiles: ['milan-7003-es8', 'rome-7002', 'genoa-9004'],
      why: "the i686 domcaps query fails, so the driver reports no SEV on an SEV host",
    },
  ],
};
