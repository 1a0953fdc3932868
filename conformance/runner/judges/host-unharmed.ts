/**
 * The host-unharmed judge, after a failed operation: no ASID is held by anything but the case's own
 * running guests, and the slot the failure touched is usable again (the next spawn boots).
 */
import { isRefusal } from '../../contract.ts';
import { refusalText } from '../case-context.ts';
import { fail, PASS } from '../outcomes.ts';
import { inspectOrSkip } from './boot.ts';
import type { Judge } from './types.ts';

export const judgeHostUnharmed: Judge<'host-unharmed'> = async (_exp, ctx) => {
  const snap = await inspectOrSkip(ctx, 'ASIDs in use');
  const ours = new Set(ctx.bootedNames());
  const leaked = snap.asids.inUse.filter((a) => !ours.has(a.domain));
  if (leaked.length) return fail(`${leaked.length} ASID(s) leaked by the failed operation (${leaked.map((a) => `${a.asid} held by ${a.domain}`).join(', ')})`);
  const next = await ctx.spawn();
  if (isRefusal(next)) return fail(`after the failure the next spawn was refused: ${refusalText(next)}; the slot was not restored`);
  return PASS;
};
