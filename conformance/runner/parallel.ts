/**
 * The same run spread over worker threads, one profile at a time per worker, the most expensive
 * profiles (most key slots to fill) first. Cases of one profile stay in one worker, in order, so
 * results equal a sequential run's; only the wall time changes.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DriverDescription } from '../contract.ts';
import { FakeTarget } from './fake-target.ts';
import { selectCases, selectProfiles } from './select.ts';
import { countStatuses, type CaseResult, type RunReport } from './types.ts';
import { isCompiled, siblingModule } from '../../src/fs/package-files.ts';

/** The worker bundled beside the CLI when bin/sevharness.js runs a checkout's bundle (esbuild define); absent otherwise. */
declare const SEVHARNESS_BUNDLED_WORKER: string | undefined;

/**
 * The bundle's own worker (plain JavaScript, no loader); compiled JavaScript's sibling; TypeScript
 * source through tsx's loader in the thread (worker-boot.mjs).
 */
const WORKER_ENTRY =
  typeof SEVHARNESS_BUNDLED_WORKER === 'string'
    ? new URL(SEVHARNESS_BUNDLED_WORKER)
    : isCompiled(import.meta.url)
      ? siblingModule(import.meta.url, 'worker')
      : new URL('./worker-boot.mjs', import.meta.url);

export interface WorkerSetup {
  readonly driverSpec: string;
  readonly cwd: string;
  readonly cases?: readonly string[];
}
export type WorkerRequest = { readonly kind: 'run'; readonly profile: string } | { readonly kind: 'stop' };
export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'progress'; readonly profile: string; readonly caseId: string }
  | { readonly kind: 'done'; readonly report: RunReport }
  | { readonly kind: 'failed'; readonly profile: string | null; readonly message: string };

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
 * Worker threads when they pay: each costs about a second to start (its own module graph), so a
 * run takes them only when it is several profiles long and includes the slot cases that boot every
 * key slot of a host (or is otherwise a large matrix); small selections stay in this thread.
 */
export function autoJobs(profiles: readonly string[] | undefined, cases: readonly string[] | undefined): number {
  const cores = availableParallelism();
  // No idle core to give them (measured at load 20 on 2 cores: 2 threads took 363 s wall and 70 s
  // CPU where one took 293 s and 50 s): threads only add their start-up and contention.
  if (cores < 2 || loadavg()[0]! > cores - 1) return 1;
  const profileCount = profiles?.length ?? Infinity;
  if (profileCount < 2) return 1;
  const caseList = cases ?? [];
  const heavy = cases === undefined || caseList.some((c) => c === 'slots' || c.startsWith('slots.'));
  const cells = profileCount * (cases === undefined ? Infinity : caseList.length);
  return heavy || cells >= 400 ? Math.min(defaultJobs(), profileCount) : 1;
}

/** Heavier first: slot cases boot every SEV and SEV-ES slot the host has. */
function byCost(names: readonly string[], target: FakeTarget): string[] {
  const cost = (n: string) => {
    const t = target.truth(n);
    return t.maxGuests + t.maxESGuests;
  };
  return [...names].sort((a, b) => cost(b) - cost(a));
}

export async function runConformanceParallel(opts: ParallelRunOptions): Promise<RunReport> {
  const t0 = performance.now();
  const probe = new FakeTarget();
  let profiles: readonly string[];
  let queue: string[];
  let caseCount: number;
  try {
    profiles = selectProfiles(opts.profiles, probe.profileNames());
    // Checked here so that an unknown case fails the run before any worker starts.
    caseCount = selectCases(opts.cases).length;
    queue = byCost(profiles, probe);
  } finally {
    await probe.close();
  }
  const total = profiles.length * caseCount;
  const reports = new Map<string, RunReport>();
  let done = 0;
  const setup: WorkerSetup = { driverSpec: opts.driverSpec, cwd: opts.cwd ?? process.cwd(), ...(opts.cases && { cases: opts.cases }) };
  const jobs = Math.max(1, Math.min(opts.jobs ?? defaultJobs(), queue.length));

  const work = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(WORKER_ENTRY, { workerData: setup });
      const next = () => {
        const profile = queue.shift();
        w.postMessage(profile ? { kind: 'run', profile } : { kind: 'stop' });
      };
      w.on('message', (m: WorkerReply) => {
        if (m.kind === 'ready') next();
        else if (m.kind === 'progress') opts.onProgress?.({ done: done++, total, profile: m.profile, caseId: m.caseId });
        else if (m.kind === 'done') {
          reports.set(m.report.profiles[0]!, m.report);
          next();
        } else {
          reject(new Error(m.profile ? `profile ${m.profile}: ${m.message}` : m.message));
          void w.terminate();
        }
      });
      w.on('error', reject);
      w.on('exit', () => resolve());
    });
  await Promise.all(Array.from({ length: jobs }, work));

  const results: CaseResult[] = [];
  for (const p of profiles) {
    for (const r of reports.get(p)?.results ?? []) {
      results.push(r);
      opts.onResult?.(r);
    }
  }
  const first = reports.get(profiles[0]!);
  const driver: DriverDescription = [...reports.values()].find((r) => r.driver.ops.length > 0)?.driver ?? first!.driver;
  return { driver, target: 'fake', profiles, results, wallMs: Math.round(performance.now() - t0), counts: countStatuses(results) };
}
