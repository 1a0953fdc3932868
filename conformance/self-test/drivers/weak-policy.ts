/**
 * A model table with policy 0x0001 for SEV (and 0x0005 for SEV-ES): debugging off, but key sharing
 * (NOKS), the domain binding and the SEV-only bit left clear — the "minimal policy" a developer
 * copies from a QEMU example. The guest still launches and runs encrypted.
 *
 * Who catches it: the cases that read the policy — xml.launch-security on an SEV host
 * (milan-7003-253), xml.sev-es-policy on an ES host (milan-7003-all-es), and the boot cases, which
 * require NOKS set in the policy the firmware launched with (boot.sev-guest-runs-encrypted,
 * boot.sev-es-guest-runs-encrypted). memory.pinned-covers-regions only asks for NODBG, which is
 * still set; no lifecycle case looks at the policy.
 */
import { hostFragments, buildDomainXml, type HostFragments } from '../../../src/driver/builder.ts';
import type { HostReport } from '../../../src/driver/detect.ts';
import type { EncryptionModel } from '../../../src/driver/inventory.ts';
import { BrokenReferenceDriver } from '../broken-reference.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** SNP keeps its own policy; only the two SEV models get the weak one. */
const WEAK_POLICY: Readonly<Partial<Record<EncryptionModel, string>>> = { 'amd-sev': '0x0001', 'amd-sev-es': '0x0005' };

function weakFragments(report: HostReport, ovmf: readonly { code: string; vars: string }[] | undefined): HostFragments {
  const f = hostFragments(report, ovmf);
  const launchSecurity = { ...f.launchSecurity };
  for (const [m, policy] of Object.entries(WEAK_POLICY) as Array<[EncryptionModel, string]>) {
    launchSecurity[m] = launchSecurity[m].replace(/<policy>[^<]*<\/policy>/, `<policy>${policy}</policy>`);
  }
  return { ...f, launchSecurity };
}

export const WEAK_POLICY_DRIVER: BrokenDriverSpec = {
  name: 'weak-policy',
  bug: 'launches SEV guests with policy 0x0001 (0x0005 for SEV-ES): key sharing allowed, not bound to the platform',
  create: () =>
    new BrokenReferenceDriver('weak-policy', {
      core: (core) => {
        const cache = new WeakMap<HostReport, HostFragments>();
        core.xmlFor = (plan, uuid) => {
          let frag = cache.get(core.report);
          if (!frag) cache.set(core.report, (frag = weakFragments(core.report, core.config.ovmf)));
          return buildDomainXml(plan, frag, { uuid, memoryPolicy: core.config.memory_policy ?? 'locked' });
        };
      },
    }),
  profiles: ['milan-7003-253', 'milan-7003-all-es'],
  expectedFailures: [
    { cases: ['xml.launch-security', 'boot.sev-guest-runs-encrypted'], profiles: ['milan-7003-253'], why: 'policy 0x0001 instead of 0x0033: NOKS clear' },
    { cases: ['xml.sev-es-policy', 'boot.sev-es-guest-runs-encrypted'], profiles: ['milan-7003-all-es'], why: 'policy 0x0005 instead of 0x0037: NOKS clear' },
  ],
};
