/**
 * The slots judge: exactly `total` guests of a model boot together, the next is refused (or fails
 * at the host without harming the others), and optionally a delete frees a slot for a new guest.
 * Guests are small so that memory never runs out before key slots do.
 */
import { isRefusal, type BootRequest } from '../../contract.ts';
import { refusalText, type CaseContext } from '../case-context.ts';
import { fail, NotApplicable, PASS, type Verdict } from '../outcomes.ts';
import { withMemory } from '../requests.ts';
import type { Judge } from './types.ts';

import { SLOT_GUEST_MIB } from '../../catalogue/slots.ts';

export { SLOT_GUEST_MIB };

/** Whether every one of `names` is still active on the case's host; a reason when not. */
export async function othersRunning(ctx: CaseContext, names: readonly string[]): Promise<string | null> {
  const active = await ctx.host.runningDomains();
  if (active === null) throw new NotApplicable('the target cannot list running domains (whether the other guests still run)');
  const running = new Set(active);
  const gone = names.filter((n) => !running.has(n));
  return gone.length ? `${gone.length} earlier guest(s) no longer run (${gone.slice(0, 3).join(', ')}${gone.length > 3 ? ', …' : ''})` : null;
}

async function fill(ctx: CaseContext, request: BootRequest, total: number, model: string): Promise<Verdict | null> {
  for (let i = 1; i <= total; i++) {
    const r = await ctx.spawn(request);
    if (isRefusal(r)) return fail(`${model} guest ${i} of ${total} was refused: ${refusalText(r)}`);
  }
  return null;
}

export const judgeSlots: Judge<'slots'> = async (exp, ctx) => {
  const request = withMemory(ctx.request, SLOT_GUEST_MIB);
  const stop = await fill(ctx, request, exp.total, exp.model);
  if (stop) return stop;
  const first = ctx.bootedNames();

  const next = await ctx.spawn(request);
  if (!isRefusal(next)) return fail(`guest ${exp.total + 1} booted beyond the ${exp.total} ${exp.model} slots (domain ${next.domainName})`);
  if (!exp.then.includes(next.code)) {
    // A spawn that fails at the host is acceptable when it harms nobody (the catalogue's "or its spawn fails without harming others").
    if (next.code !== 'HOST_FAULT') return fail(`guest ${exp.total + 1} refused with ${refusalText(next)}, expected ${exp.then.join(' or ')}`);
  }
  const harmed = await othersRunning(ctx, first);
  if (harmed) return fail(`after refusing guest ${exp.total + 1}: ${harmed}`);

  if (exp.reuseAfterDelete) {
    // Everything the same expectation without the reuse judges has passed (judgedAsPrefix).
    ctx.prefixJudged(PASS);
    const victim = ctx.booted[0]!;
    const del = await ctx.delete(victim);
    if (isRefusal(del)) return fail(`delete of ${victim.spawned.domainName} refused: ${refusalText(del)}`);
    const again = await ctx.spawn(request);
    if (isRefusal(again)) return fail(`after deleting one of ${exp.total} guests, the next ${exp.model} guest was refused: ${refusalText(again)}`);
  }
  return PASS;
};
