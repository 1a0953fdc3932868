/**
 * The fleet-schedule judge: the driver places guests among a thousand hosts (standing-fleet.ts) and
 * every answer is judged by accounting — a placement must be on a host that can take the guest
 * (its slot of the model and its memory free after placement's load and the driver's earlier
 * placements), a refusal (NO_VALID_HOST) is right only when no host can. The candidates carry
 * placement's load alone: the driver's own placements are its claims to count (PROTOCOL.md §4).
 */
import { isRefusal, type BootRequest, type InstanceRef, type MemEncryptionModel } from '../../contract.ts';
import { refusalText, type CaseContext } from '../case-context.ts';
import { fail, MalformedAnswer, PASS, type Verdict } from '../outcomes.ts';
import { encryptionModelOf, requestForKind } from '../requests.ts';
import { FleetLedger, type FleetHostState } from './standing-fleet.ts';
import type { ExpectationOf, Judge } from './types.ts';

interface Placement {
  readonly host: FleetHostState;
  readonly instance: InstanceRef;
  readonly model: MemEncryptionModel | null;
  readonly memoryMiB: number;
}

const someNames = (hs: readonly FleetHostState[]): string => (hs.length <= 3 ? hs.map((h) => h.name).join(', ') : `${hs.slice(0, 3).map((h) => h.name).join(', ')} and ${hs.length - 3} more`);

export const judgeFleetSchedule: Judge<'fleet-schedule'> = async (exp, ctx) => {
  const fleet = await FleetLedger.open(ctx, exp.fleet, exp.hostSevSlotsFree);
  const held: Placement[] = [];
  try {
    return await judgeSteps(exp.steps, fleet, held, ctx);
  } finally {
    // Whatever the verdict, the driver's claims go back (best effort, judged by nobody): the fleet's
    // host names recur in the next case, and a wrong placement must not linger into it.
    if (await ctx.slot.implements('release').catch(() => false)) {
      for (const p of held.splice(0)) await ctx.call('release', { host: p.host.name, instance: p.instance }).catch(() => undefined);
    }
  }
};

async function judgeSteps(steps: ExpectationOf<'fleet-schedule'>['steps'], fleet: FleetLedger, held: Placement[], ctx: CaseContext): Promise<Verdict> {
  // The candidates never change within the case: placement's load stays, the driver counts its own claims.
  const candidates = fleet.candidates();
  for (const [i, step] of steps.entries()) {
    const n = i + 1;
    if ('release' in step) {
      const p = held.shift();
      if (!p) return fail(`step ${n}: nothing is placed to release`);
      const r = await ctx.call('release', { host: p.host.name, instance: p.instance });
      if (isRefusal(r)) return fail(`step ${n}: release of ${p.instance.name} on ${p.host.name} refused: ${refusalText(r)}`);
      fleet.account(p.host, p.model, p.memoryMiB, -1);
      continue;
    }
    const request: BootRequest = requestForKind(step.boot, ctx.config);
    const model = encryptionModelOf(request);
    const memoryMiB = request.flavor.memoryMiB;
    const can = fleet.takers(model, memoryMiB);
    const instance = ctx.newInstance();
    const r = await ctx.call('schedule', { hosts: candidates, request, instance });
    const guest = `the ${step.boot} guest`;
    if (isRefusal(r)) {
      if (can.length > 0) return fail(`step ${n}: ${guest} refused ${refusalText(r)}, yet ${someNames(can)} can take it`);
      if (r.code !== 'NO_VALID_HOST') return fail(`step ${n}: no host can take ${guest}: expected NO_VALID_HOST, driver refused ${refusalText(r)}`);
      continue;
    }
    const h = fleet.host(r.host);
    if (!h) throw new MalformedAnswer(`schedule chose '${r.host}', which is not one of the ${fleet.size} candidates`);
    held.push({ host: h, instance, model, memoryMiB }); // the driver holds the claim, right or wrong
    const why = fleet.cannotTake(h, model, memoryMiB);
    if (why !== null) {
      const instead = can.length ? `; ${someNames(can)} could take it` : '; no host can, NO_VALID_HOST was expected';
      return fail(`step ${n}: ${guest} placed on ${h.name}, but ${why}${instead}`);
    }
    fleet.account(h, model, memoryMiB, 1);
  }
  return PASS;
}
