/**
 * Correct drivers that differ from the reference where libvirt and the facts allow it: the suite
 * must pass them, or it demands more than the facts do. Each is judged like the reference driver
 * (nothing may fail or error) on bundled profiles and the default run's generated hosts.
 *
 * - hard-limit: sizes `<memtune><hard_limit>` (RAM + video + QEMU's regions + padding, the reference
 *   builder's `memory_policy: 'hard-limit'`) instead of `<memoryBacking><locked/>` — the alternative
 *   libvirt's kbase documents (sev-hardware.md §5.2); memory.locked-backing's title allows it.
 * - launch-security-first: writes `<launchSecurity>` right after `<name>`, not last: libvirt's
 *   domain schema interleaves <domain>'s children and its parser reads them in any order.
 */
import { expandGeneratedSpec } from '../../../fakelibvirt/profile/generate.ts';
import { ReferenceSevDriver } from '../../../src/driver/index.ts';
import type { ReferenceHost } from '../../adapters/reference.ts';
import type { SelfTestRun } from '../types.ts';

export interface CorrectVariantSpec {
  readonly name: string;
  /** What it does differently, in a sentence. */
  readonly change: string;
  readonly variant: (host: ReferenceHost) => ReferenceSevDriver;
  readonly runs: readonly SelfTestRun[];
}

/** The stock builder's XML with `<launchSecurity>` moved to right after `<name>`. */
class LaunchSecurityFirst extends ReferenceSevDriver {
  override xmlFor(...args: Parameters<ReferenceSevDriver['xmlFor']>): string {
    const xml = super.xmlFor(...args);
    const ls = /<launchSecurity[\s\S]*?<\/launchSecurity>/.exec(xml)?.[0];
    if (!ls) return xml;
    return xml.replace(ls, '').replace(/(<\/name>)/, `$1${ls}`);
  }
}

const GENERATED = expandGeneratedSpec('generated:3')!;
const CASES = ['xml', 'boot', 'memory', 'lifecycle', 'faults'];

export const CORRECT_VARIANTS: readonly CorrectVariantSpec[] = [
  {
    name: 'hard-limit',
    change: "sizes <memtune><hard_limit> (RAM + video + QEMU regions + padding) instead of <memoryBacking><locked/>",
    variant: (h) => new ReferenceSevDriver(h.libvirt, h.files, { ...h.config, memory_policy: 'hard-limit' }),
    runs: [{ profiles: ['naples-7001', 'milan-7003-es8', 'genoa-9004', ...GENERATED], cases: CASES }],
  },
  {
    name: 'launch-security-first',
    change: 'writes <launchSecurity> right after <name> instead of as the last child of <domain>',
    variant: (h) => new LaunchSecurityFirst(h.libvirt, h.files, h.config),
    runs: [{ profiles: ['naples-7001', 'milan-7003-es8', 'genoa-9004', ...GENERATED], cases: CASES }],
  },
];
