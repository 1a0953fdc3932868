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
import { type EncryptionModel, type GuestPlan, ReferenceSevDriver } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** SNP keeps its own policy; only the two SEV models get the weak one. */
const WEAK_POLICY: Readonly<Partial<Record<EncryptionModel, string>>> = { 'amd-sev': '0x0001', 'amd-sev-es': '0x0005' };

const LAUNCH_POLICY = /(<launchSecurity\b[^>]*>[^]*?<policy>)[^<]*(<\/policy>)/;

class WeakPolicyDriver extends ReferenceSevDriver {
  override xmlFor(plan: GuestPlan, uuid: string): string {
    const xml = super.xmlFor(plan, uuid);
    const weak = plan.model ? WEAK_POLICY[plan.model] : undefined;
    return weak ? xml.replace(LAUNCH_POLICY, `$1${weak}$2`) : xml;
  }
}

export const WEAK_POLICY_DRIVER: BrokenDriverSpec = {
  name: 'weak-policy',
  bug: 'launches SEV guests with policy 0x0001 (0x0005 for SEV-ES): key sharing allowed, not bound to the platform',
  variant: (h) => new WeakPolicyDriver(h.libvirt, h.files, h.config),
  runs: [
    { profiles: ['milan-7003-253', 'intel-xeon'] },
    { profiles: ['milan-7003-all-es'], cases: ['detect', 'xml', 'boot', 'memory'] },
  ],
  expectedFailures: [
    { cases: ['xml.launch-security', 'boot.sev-guest-runs-encrypted'], profiles: ['milan-7003-253'], why: 'policy 0x0001 instead of 0x0033: NOKS clear' },
    { cases: ['xml.sev-es-policy', 'boot.sev-es-guest-runs-encrypted'], profiles: ['milan-7003-all-es'], why: 'policy 0x0005 instead of 0x0037: NOKS clear' },
  ],
};
