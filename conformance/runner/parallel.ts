/**
 * The same run spread over this thread and worker processes (lanes.ts). The matrix is cut into
 * pieces, each some cases of one profile run in order on a fresh driver: a profile's slot cases
 * (which boot every key slot of the host: the long poles) and the rest of its cases. One lane
 * prefers the rest, the others the slot pieces, biggest hosts first; a lane with nothing of its own
 * left takes the other kind's smallest. Lanes that each run one narrow kind warm up less code than
 * lanes that each run whole profiles (measured: slots and the rest apart cost 1.6 s CPU more than
 * together, two halves of the profiles 3.2 s more). Results are put back in profile and catalogue
 * order; each case's verdict is its own (a fresh host, a driver that has seen no other profile).
 */
import { availableParallelism, loadavg } from 'node:os';
import type { Case } from '../catalogue/types.ts';
import type { DriverDescription } from '../contract.ts';
import { resolveDriverSpec } from './driver-spec.ts';
import { FakeTarget } from './fake-target.ts';
import { localLane, workerLane, type Lane, type Piece } from './lanes.ts';
import { selectCases, selectProfiles } from './select.ts';
import { countStatuses, type CaseResult, type RunReport } from './types.ts';

export interface ParallelRunOptions {
  /** The `--driver` value; each worker resolves it itself. */
  readonly driverSpec: string;
  readonly cwd?: string;
  readonly jobs?: number;
  readonly profiles?: readonly string[];
  readonly cases?: readonly string[];
  readonly onResult?: (r: CaseResult) => void;
  readonly onProgress?: (p: { readonly done: number; readonly total: number; readonly profile: string; readonly caseId: string }) => void;
}

export const defaultJobs = (): number => Math.max(1, Math.min(availableParallelism(), 4));

/**
 * Worker threads when they pay: each starts its own module graph (≈ 0.5 s CPU from the bundle) and
 * warms up its own caches and JIT code (two lanes cost ≈ 1.6 s CPU more than one for the whole
 * matrix), so a run takes them only when it includes the slot cases on several profiles (or is
 * otherwise a large matrix); small selections stay in this thread.
 */
export function autoJobs(
  profiles: readonly string[] | undefined,
  cases: readonly string[] | undefined,
  opts: { readonly processDriver?: boolean } = {},
): number {
  const cores = availableParallelism();
  // No idle core to give them (measured at load 20 on 2 cores: 2 threads took 363 s wall and 70 s
  // CPU where one took 293 s and 50 s): threads only add their start-up and contention. A process
  // driver's lanes spend most of their time waiting for its interpreter to start, so they pay with
  // less than a whole core free (Python example, 2 cores: two lanes 5.0 s vs one 6.5 s at load
  // 1.7–2.0; 5.3 s vs 6.8 s at load 0.7–1.2).
  const busy = opts.processDriver === true ? cores : cores - 1;
  if (cores < 2 || loadavg()[0]! > busy) return 1;
  const profileCount = profiles?.length ?? Infinity;
  const caseList = cases ?? [];
  const heavy = cases === undefined || caseList.some((c) => c === 'slots' || c.startsWith('slots.'));
  const cells = profileCount * (cases === undefined ? Infinity : caseList.length);
  return (heavy && profileCount >= 4) || cells >= 400 ? defaultJobs() : 1;
}

/** A piece and its kind and expected cost (key slots to fill, for slot pieces). */
interface Planned extends Piece {
  readonly slots: boolean;
  readonly cost: number;
}

/**
 * The pieces of the matrix: per profile, its slot cases and its other cases. A case stays with the
 * case it continues (catalogue `continues`): they share a run.
 */
function plan(profiles: readonly string[], cases: readonly Case[], target: FakeTarget, split: boolean): Planned[] {
  const slotIds = new Set(cases.filter((c) => split && c.area === 'slots').map((c) => c.id));
  for (const c of cases) if (c.continues !== undefined && slotIds.has(c.continues)) slotIds.add(c.id);
  for (const c of cases) if (c.continues !== undefined && slotIds.has(c.id)) slotIds.add(c.continues);
  const slotCases = cases.filter((c) => slotIds.has(c.id)).map((c) => c.id);
  const otherCases = cases.filter((c) => !slotIds.has(c.id)).map((c) => c.id);
  return profiles.flatMap((profile) => {
    const t = target.truth(profile);
    return [
      ...(slotCases.length ? [{ profile, cases: slotCases, slots: true, cost: t.maxGuests + t.maxESGuests }] : []),
      ...(otherCases.length ? [{ profile, cases: otherCases, slots: false, cost: split ? 0 : t.maxGuests + t.maxESGuests }] : []),
    ];
  });
}

/** The next piece for a lane: the biggest of the kind it prefers, else the smallest of the other kind. */
function take(queue: Planned[], slots: boolean): Planned | undefined {
  const own = queue.filter((p) => p.slots === slots);
  const pick = own.length ? own.reduce((a, b) => (b.cost > a.cost ? b : a)) : queue.reduce<Planned | undefined>((a, b) => (a === undefined || b.cost <= a.cost ? b : a), undefined);
  if (pick) queue.splice(queue.indexOf(pick), 1);
  return pick;
}

export async function runConformanceParallel(opts: ParallelRunOptions): Promise<RunReport> {
  const t0 = performance.now();
  // This thread runs pieces too, on this target; it holds the profiles' truths already.
  const target = new FakeTarget();
  const lanes: Lane[] = [];
  try {
    const profiles = selectProfiles(opts.profiles, target.profileNames());
    const cwd = opts.cwd ?? process.cwd();
    // Checked here so that an unknown case fails the run before any worker starts.
    const cases = selectCases(opts.cases);
    const driverFactory = await resolveDriverSpec(opts.driverSpec, cwd);
    // A driver that is slow to start (a process) runs whole profiles: a piece more per profile
    // would be a start more, for slot cases it may not even implement.
    const queue = plan(profiles, cases, target, driverFactory.prestart !== true);
    const total = profiles.length * cases.length;
    let done = 0;
    const progress = (p: { readonly profile: string; readonly caseId: string }) => opts.onProgress?.({ done: done++, total, profile: p.profile, caseId: p.caseId });
    const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), queue.length));
    const reports: RunReport[] = [];
    const drain = async (lane: Lane, slots: boolean) => {
      try {
        for (let piece = take(queue, slots); piece !== undefined; piece = take(queue, slots)) reports.push(await lane.run(piece));
      } catch (e) {
        // The other lanes stop after their current piece; the run fails with this.
        queue.length = 0;
        throw e;
      }
    };
    // Workers first: their start overlaps this lane's first piece.
    for (let i = 1; i < jobs; i++) lanes.push(workerLane({ driverSpec: opts.driverSpec, cwd }, progress));
    const here = localLane(driverFactory, target, progress);
    const workers = [...lanes];
    lanes.push(here);
    const ended = await Promise.allSettled([drain(here, jobs === 1), ...workers.map((l) => drain(l, true))]);
    const failed = ended.find((e) => e.status === 'rejected');
    if (failed) throw failed.reason;

    const order = new Map(cases.map((c, i) => [c.id, i]));
    const byProfile = new Map(profiles.map((p) => [p, [] as CaseResult[]]));
    for (const r of reports) for (const c of r.results) byProfile.get(c.profile)?.push(c);
    const results: CaseResult[] = [];
    for (const list of byProfile.values()) {
      for (const r of list.sort((a, b) => order.get(a.caseId)! - order.get(b.caseId)!)) {
        results.push(r);
        opts.onResult?.(r);
      }
    }
    const driver: DriverDescription = reports.find((r) => r.driver.ops.length > 0)?.driver ?? reports[0]!.driver;
    return { driver, target: 'fake', profiles, results, wallMs: Math.round(performance.now() - t0), counts: countStatuses(results) };
  } finally {
    await Promise.all(lanes.map((l) => l.close()));
    await target.close();
  }
}
