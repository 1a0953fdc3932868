/** The boot judge: the driver's spawn really produced an encrypted guest, as the fake host sees it. */
import { isRefusal } from '../../contract.ts';
import type { HostSnapshot } from '../../../fakelibvirt/host/fake-host.ts';
import { refusalText, type CaseContext } from '../case-context.ts';
import { fail, NotApplicable, PASS, type Verdict } from '../outcomes.ts';
import type { GuestEvidence } from '../target.ts';
import type { ExpectationOf, Judge } from './types.ts';

export async function inspectOrSkip(ctx: CaseContext, why: string): Promise<HostSnapshot> {
  const snap = await ctx.host.inspect();
  if (!snap) throw new NotApplicable(`the target cannot look inside the host (${why})`);
  return snap;
}

const hex = (n: number) => `0x${n.toString(16)}`;

function judgePolicy(policy: number, exp: ExpectationOf<'boot'>): Verdict {
  if ((policy & exp.policy.set) !== exp.policy.set) return fail(`guest policy ${hex(policy)} lacks bits ${hex(exp.policy.set & ~policy)}`);
  if ((policy & exp.policy.clear) !== 0) return fail(`guest policy ${hex(policy)} has bits ${hex(policy & exp.policy.clear)} that must be clear`);
  return PASS;
}

/**
 * Judges a guest on a real host's evidence: libvirt runs it with the policy asked for, and a probe
 * guest launched as it was reports that encryption from its own kernel (libvirt's say-so alone
 * never passes). ASIDs, pinning and firmware state are not visible there: a case about pinning
 * does not apply.
 */
export function judgeEvidence(e: GuestEvidence, domainName: string, exp: ExpectationOf<'boot'>, area: string): Verdict {
  if (area === 'memory') throw new NotApplicable('a real host does not show how much memory a guest pins');
  if (!e.running) return fail(`guest ${domainName} is not running`);
  if (e.policy === null) return fail(`guest ${domainName} runs without <launchSecurity>: it is not encrypted`);
  const p = judgePolicy(e.policy, exp);
  if (!p.ok) return p;
  if (e.guestKernel !== exp.asidKind) {
    const seen = e.guestKernel === 'none' ? 'no memory encryption' : e.guestKernel.toUpperCase();
    return fail(`a probe guest launched as ${domainName} was reports ${seen} from its own kernel; expected ${exp.asidKind.toUpperCase()}`);
  }
  const line = e.kernelLines.find((l) => /Memory Encryption Features active/i.test(l))?.trim() ?? e.guestKernel;
  return { ok: true, note: `judged on the guest kernel's own report (${line}); ASID, pinning and firmware state are not visible on a real host` };
}

/** Judges one running guest of a snapshot against a boot expectation. */
export function judgeGuest(snap: HostSnapshot, domainName: string, exp: ExpectationOf<'boot'>): Verdict {
  const g = snap.guests.find((x) => x.name === domainName);
  if (!g) return fail(`spawn answered domain ${domainName}, which the host does not know`);
  if (g.state !== 'running') return fail(`guest ${domainName} is ${g.state}, not running`);
  if (g.asid === undefined) return fail(`guest ${domainName} runs without an ASID: it is not encrypted`);
  const kind = snap.asids.inUse.find((a) => a.domain === domainName)?.kind;
  if (kind !== exp.asidKind) return fail(`guest ${domainName} has a ${kind ?? 'no'} ASID (${g.asid}), expected ${exp.asidKind}`);
  const { min, max } = exp.asidRange;
  if (g.asid < min || g.asid > max) return fail(`guest ${domainName} has ASID ${g.asid}, outside ${min}–${max}`);
  const policy = Number.parseInt(g.policy ?? '', 16);
  if (Number.isNaN(policy)) return fail(`guest ${domainName} has no launch policy`);
  const p = judgePolicy(policy, exp);
  if (!p.ok) return p;
  if (g.pinnedKiB < exp.pinnedKiBAtLeast) return fail(`guest pins ${g.pinnedKiB} KiB, expected at least ${exp.pinnedKiBAtLeast} KiB`);
  if (g.firmwareState !== exp.firmwareState) return fail(`guest firmware state is ${g.firmwareState ?? 'unknown'}, expected ${exp.firmwareState}`);
  if (g.faults.length) return fail(`guest runs but cannot work encrypted: ${g.faults.join(', ')}`);
  return PASS;
}

export const judgeBoot: Judge<'boot'> = async (exp, ctx) => {
  const r = await ctx.spawn();
  if (isRefusal(r)) return fail(`expected the guest to boot, spawn refused ${refusalText(r)}`);
  if (ctx.host.guestEvidence && (await ctx.host.inspect()) === null) {
    const e = await ctx.host.guestEvidence(r.domainName);
    if (e) return judgeEvidence(e, r.domainName, exp, ctx.kase.area);
  }
  return judgeGuest(await inspectOrSkip(ctx, 'ASID, policy and pinning of the guest'), r.domainName, exp);
};
