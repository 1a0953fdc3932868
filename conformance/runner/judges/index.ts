/** Every expectation kind and its judge; `all` judges its parts in order and stops at the first failure. */
import type { Expectation } from '../../catalogue/types.ts';
import type { CaseContext } from '../case-context.ts';
import { PASS, type Verdict } from '../outcomes.ts';
import { judgeBoot } from './boot.ts';
import { judgeFleetSchedule } from './fleet-schedule.ts';
import { judgeHostUnharmed } from './host-unharmed.ts';
import { judgeLifecycle } from './lifecycle.ts';
import { judgeMemory } from './memory.ts';
import { judgeDetection, judgeInventory, judgeNoWarning, judgeSevFacts, judgeTraits, judgeWarning } from './report.ts';
import { judgeRefusal, judgeRequest } from './request.ts';
import { judgeSchedule } from './schedule.ts';
import { judgeSlots } from './slots.ts';
import type { Judge, JudgeTable } from './types.ts';
import { judgeXml } from './xml.ts';

const judgeAll: Judge<'all'> = async (exp, ctx) => {
  const notes: string[] = [];
  for (const part of exp.of) {
    const v = await judge(part, ctx);
    if (!v.ok) return v;
    if (v.note) notes.push(v.note);
  }
  return notes.length ? { ok: true, note: notes.join('; ') } : PASS;
};

export const JUDGES: JudgeTable = {
  all: judgeAll,
  detection: judgeDetection,
  'sev-facts': judgeSevFacts,
  traits: judgeTraits,
  inventory: judgeInventory,
  warning: judgeWarning,
  'no-warning': judgeNoWarning,
  request: judgeRequest,
  refusal: judgeRefusal,
  xml: judgeXml,
  boot: judgeBoot,
  slots: judgeSlots,
  memory: judgeMemory,
  lifecycle: judgeLifecycle,
  schedule: judgeSchedule,
  'fleet-schedule': judgeFleetSchedule,
  'host-unharmed': judgeHostUnharmed,
};

export function judge(exp: Expectation, ctx: CaseContext): Promise<Verdict> {
  return (JUDGES[exp.kind] as Judge<typeof exp.kind>)(exp as never, ctx);
}

/**
 * Whether judging `full` first takes every step of judging `prefix`, in the same order on the same
 * arranged host, and reports `prefix`'s verdict where those steps end (`ctx.prefixJudged`): a
 * shared run (catalogue `continues`) may then stand for both. Today: the slots judge with and
 * without reuse after delete.
 */
export function judgedAsPrefix(prefix: Expectation, full: Expectation): boolean {
  if (prefix.kind !== 'slots' || full.kind !== 'slots') return false;
  return !prefix.reuseAfterDelete && full.reuseAfterDelete && prefix.model === full.model && prefix.total === full.total && prefix.then.join() === full.then.join();
}
