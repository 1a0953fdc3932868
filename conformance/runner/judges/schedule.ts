/**
 * The schedule judge: a fleet of hosts (the case's own host for 'this', fresh fake hosts of other
 * profiles), each reported by the driver, and a sequence of boots and deletes through the driver's
 * schedule/release. The driver keeps its own claims (PROTOCOL.md: schedule claims, release gives
 * back); the runner passes only what the driver did not claim itself: the case's booted guests.
 */
import { isRefusal, type BootRequest, type CandidateHost, type HostReport, type InstanceRef, type Outcome, type Scheduled } from '../../contract.ts';
import type { FleetHost } from '../../catalogue/types.ts';
import { refusalText, type CaseContext } from '../case-context.ts';
import { fail, MalformedAnswer, PASS, type Verdict } from '../outcomes.ts';
import { requestForKind } from '../requests.ts';
import type { TargetHost } from '../target.ts';
import type { ExpectationOf, Judge } from './types.ts';
import { guestRamMiB, MEMORY_MB } from './standing-fleet.ts';

interface Member {
  readonly name: string;
  readonly host: TargetHost;
  readonly report: HostReport;
  /** Memory guests may use: the host's total minus its reservation. */
  readonly ramMiB: number;
  readonly allocations: Record<string, number>;
  readonly placed: InstanceRef[];
}

export class Fleet {
  private constructor(
    private readonly ctx: CaseContext,
    readonly members: Member[],
  ) {}

  static async open(ctx: CaseContext, hosts: readonly FleetHost[]): Promise<Fleet> {
    const members: Member[] = [];
    for (const fh of hosts) {
      const host = fh.profile === 'this' ? ctx.host : await ctx.openHost(fh.profile);
      const config = fh.maxEncryptedGuests === undefined ? ctx.config : { ...ctx.config, maxEncryptedGuests: fh.maxEncryptedGuests };
      const report = await ctx.report(host, config);
      // The case's own guests already hold slots and memory on its host.
      const allocations = host === ctx.host ? ctx.bootedAllocations(host) : {};
      const usedMiB = ctx.booted.filter((g) => g.host === host).reduce((s, g) => s + g.request.flavor.memoryMiB, 0);
      if (usedMiB) allocations[MEMORY_MB] = usedMiB;
      members.push({ name: fh.name, host, report, ramMiB: guestRamMiB(host.truth), allocations, placed: [] });
    }
    return new Fleet(ctx, members);
  }

  candidates(): CandidateHost[] {
    return this.members.map((m) => ({
      name: m.name,
      report: m.report,
      freeRamMiB: Math.max(0, m.ramMiB - (m.allocations[MEMORY_MB] ?? 0)),
      allocations: { ...m.allocations },
    }));
  }

  /** Asks the driver to place a guest (the driver claims the allocation it answers). */
  async schedule(request: BootRequest): Promise<Outcome<Scheduled> & object> {
    const instance = this.ctx.newInstance();
    const r = await this.ctx.call('schedule', { hosts: this.candidates(), request, instance });
    if (isRefusal(r)) return r;
    const m = this.members.find((x) => x.name === r.host);
    if (!m) throw new MalformedAnswer(`schedule chose '${r.host}', which is not one of the candidates (${this.members.map((x) => x.name).join(', ')})`);
    m.placed.push(instance);
    return r;
  }

  /**
   * Gives back every placement still held, whatever the verdict: the driver's ledger is as the case
   * found it, so a wrong placement does not take a slot from the next case's hosts of the same
   * names. Best effort, judged by nobody (the verdict is made); only where the driver releases.
   */
  async releaseAll(): Promise<void> {
    if (!(await this.ctx.slot.implements('release').catch(() => false))) return;
    for (const m of this.members) {
      for (let instance = m.placed.pop(); instance; instance = m.placed.pop()) {
        await this.ctx.call('release', { host: m.name, instance }).catch(() => undefined);
      }
    }
  }

  /** Releases the last guest placed on `name` (the driver gives its claim back). */
  async release(name: string): Promise<string | null> {
    const m = this.members.find((x) => x.name === name);
    const instance = m?.placed.pop();
    if (!m || !instance) return `nothing was placed on ${name} to delete`;
    const r = await this.ctx.call('release', { host: name, instance });
    return isRefusal(r) ? `release on ${name} refused: ${refusalText(r)}` : null;
  }
}

export const judgeSchedule: Judge<'schedule'> = async (exp, ctx) => {
  const fleet = await Fleet.open(ctx, exp.fleet);
  try {
    return await judgeSteps(exp.steps, fleet, ctx);
  } finally {
    await fleet.releaseAll();
  }
};

async function judgeSteps(steps: ExpectationOf<'schedule'>['steps'], fleet: Fleet, ctx: CaseContext): Promise<Verdict> {
  for (const [i, step] of steps.entries()) {
    const n = i + 1;
    if ('deleteOn' in step) {
      const problem = await fleet.release(step.deleteOn);
      if (problem) return fail(`step ${n}: ${problem}`);
      continue;
    }
    const r = await fleet.schedule(requestForKind(step.boot, ctx.config));
    const want = step.expect;
    if ('refusal' in want) {
      if (!isRefusal(r)) return fail(`step ${n}: expected the ${step.boot} guest refused with ${want.refusal}, driver placed it on ${r.host}`);
      if (r.code !== want.refusal) return fail(`step ${n}: expected ${step.boot} guest refused with ${want.refusal}, driver refused ${refusalText(r)}`);
    } else {
      if (isRefusal(r)) return fail(`step ${n}: expected the ${step.boot} guest on ${want.hostIn.join(' or ')}, driver refused ${refusalText(r)}`);
      if (!want.hostIn.includes(r.host)) return fail(`step ${n}: expected the ${step.boot} guest on ${want.hostIn.join(' or ')}, driver chose ${r.host}`);
    }
  }
  return PASS;
}
