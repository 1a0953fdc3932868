/** Judges of request validation: the placement request a driver derives, or its refusal of an operation. */
import { isRefusal, MEM_ENCRYPTION_CONTEXT, type OperationName, type Outcome } from '../../contract.ts';
import type { RefusalCode } from '../../refusal-codes.ts';
import { refusalText, type CaseContext } from '../case-context.ts';
import { fail, PASS } from '../outcomes.ts';
import { judgeTraitSets } from './report.ts';
import type { Judge } from './types.ts';

export const judgeRequest: Judge<'request'> = async (exp, ctx) => {
  const r = await ctx.call('validateRequest', await ctx.validateParams());
  if (isRefusal(r)) return fail(`expected the request accepted (model ${exp.model ?? 'none'}), driver refused ${refusalText(r)}`);
  if (r.model !== exp.model) return fail(`expected model ${exp.model ?? 'null'}, driver derived ${r.model ?? 'null'}`);
  for (const [rc, n] of Object.entries(exp.resources)) {
    if ((r.resources[rc] ?? 0) !== n) return fail(`expected ${rc}: ${n}, driver asked for ${r.resources[rc] ?? 0}`);
  }
  // Encrypted-guest slots the expectation does not name must not be consumed at all.
  const stray = Object.entries(r.resources).filter(([rc, n]) => rc.startsWith(MEM_ENCRYPTION_CONTEXT) && n > 0 && !(rc in exp.resources));
  if (stray.length) return fail(`expected no ${stray.map(([rc]) => rc).join(', ')}, driver asked for ${stray.map(([rc, n]) => `${rc}: ${n}`).join(', ')}`);
  return judgeTraitSets(r.requiredTraits, exp.requiredTraits.includes, exp.requiredTraits.excludes, 'required traits');
};

/** Calls `op` the way the case's request asks for it; spawn and buildGuestXml run against this host. */
async function callForRefusal(op: OperationName, ctx: CaseContext): Promise<{ outcome: Outcome<object>; accepted: string }> {
  switch (op) {
    case 'validateRequest': {
      const r = await ctx.call('validateRequest', await ctx.validateParams());
      return { outcome: r, accepted: isRefusal(r) ? '' : `accepted it (model ${r.model ?? 'none'})` };
    }
    case 'buildGuestXml': {
      const r = await ctx.buildGuestXml();
      const launch = !isRefusal(r) && /<launchSecurity\b/.test(r.xml) ? 'with' : 'without';
      return { outcome: r, accepted: `built guest XML (${launch} launchSecurity)` };
    }
    case 'spawn': {
      const r = await ctx.spawn();
      return { outcome: r, accepted: isRefusal(r) ? '' : `started domain ${r.domainName}` };
    }
    default:
      throw new Error(`the refusal judge cannot call ${op} on its own`);
  }
}

export function codeMatches(code: RefusalCode, exp: { code: RefusalCode; alternatives?: readonly RefusalCode[] }): boolean {
  return code === exp.code || (exp.alternatives ?? []).includes(code);
}

export const expectedCodes = (exp: { code: RefusalCode; alternatives?: readonly RefusalCode[] }): string => [exp.code, ...(exp.alternatives ?? [])].join(' or ');

export const judgeRefusal: Judge<'refusal'> = async (exp, ctx) => {
  const before = exp.op === 'spawn' ? await ctx.host.runningDomains() : null;
  const { outcome, accepted } = await callForRefusal(exp.op, ctx);
  if (!isRefusal(outcome)) return fail(`expected ${exp.op} refused with ${expectedCodes(exp)}, driver ${accepted}`);
  if (!codeMatches(outcome.code, exp)) return fail(`expected ${exp.op} refused with ${expectedCodes(exp)}, driver refused ${refusalText(outcome)}`);
  if (exp.op !== 'spawn') return PASS;
  if (before === null) return { ok: true, note: 'the target cannot list running domains: not checked that the refused spawn left nothing running' };
  const left = await startedSince(ctx, before);
  return left.length ? fail(`spawn refused with ${outcome.code}, yet a guest was left running on the host (${left.join(', ')})`) : PASS;
};

/** Active domains on the case's host that were not active in `before` (the host's own guests are in `before`). */
export async function startedSince(ctx: CaseContext, before: readonly string[]): Promise<string[]> {
  const was = new Set(before);
  return ((await ctx.host.runningDomains()) ?? []).filter((n) => !was.has(n));
}
