/**
 * The memory judge: guests of `guestMiB` are scheduled and spawned on this host; `fit` of them run,
 * the next is refused (by the scheduler or at spawn) and the running ones survive.
 */
import { isRefusal } from '../../contract.ts';
import { refusalText } from '../case-context.ts';
import { fail, PASS } from '../outcomes.ts';
import { withMemory } from '../requests.ts';
import { othersRunning } from './slots.ts';
import { Fleet } from './schedule.ts';
import type { Judge } from './types.ts';

export const judgeMemory: Judge<'memory'> = async (exp, ctx) => {
  const request = withMemory(ctx.request, exp.guestMiB);
  const fleet = await Fleet.open(ctx, [{ name: 'this', profile: 'this' }]);
  for (let i = 1; i <= exp.fit + 1; i++) {
    const placed = await fleet.schedule(request);
    if (isRefusal(placed)) {
      if (i <= exp.fit) return fail(`guest ${i} of ${exp.guestMiB} MiB (${exp.fit} fit) was not scheduled: ${refusalText(placed)}`);
      if (!exp.then.includes(placed.code)) return fail(`guest ${i} refused by the scheduler with ${refusalText(placed)}, expected ${exp.then.join(' or ')}`);
      break;
    }
    const before = ctx.bootedNames();
    const r = await ctx.spawn(request);
    if (i <= exp.fit) {
      if (isRefusal(r)) return fail(`guest ${i} of ${exp.guestMiB} MiB (${exp.fit} fit) was refused at spawn: ${refusalText(r)}`);
      continue;
    }
    if (!isRefusal(r)) {
      const harmed = await othersRunning(ctx, before);
      return fail(`guest ${i} of ${exp.guestMiB} MiB was scheduled and started beyond the host's pinnable memory${harmed ? `; ${harmed}` : ''}`);
    }
    if (!exp.then.includes(r.code)) return fail(`guest ${i} refused at spawn with ${refusalText(r)}, expected ${exp.then.join(' or ')}`);
  }
  const harmed = await othersRunning(ctx, ctx.bootedNames());
  return harmed ? fail(`the refused guest harmed the others: ${harmed}`) : PASS;
};
