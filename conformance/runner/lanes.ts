/**
 * Where a parallel run's pieces run: this thread (its modules loaded and warm already), or a worker
 * thread. (Worker processes instead measured the same CPU time, 12.3–14.2 s against 12.6–14.0 s
 * for the whole matrix on two lanes, and need their own clean-up.)
 */
import { Worker } from 'node:worker_threads';
import type { DriverFactory } from './driver-spec.ts';
import { DriverSlot } from './driver-slot.ts';
import type { FakeTarget } from './fake-target.ts';
import { runConformance } from './run.ts';
import type { RunReport } from './types.ts';
import { isCompiled, siblingModule } from '../../src/fs/package-files.ts';

/** The worker bundled beside the CLI when bin/sevharness.js runs a checkout's bundle (esbuild define); absent otherwise. */
declare const SEVHARNESS_BUNDLED_WORKER: string | undefined;

/**
 * The bundle's own worker (plain JavaScript, no loader); compiled JavaScript's sibling; TypeScript
 * source through tsx's loader (worker-boot.mjs).
 */
const WORKER_ENTRY =
  typeof SEVHARNESS_BUNDLED_WORKER === 'string'
    ? new URL(SEVHARNESS_BUNDLED_WORKER)
    : isCompiled(import.meta.url)
      ? siblingModule(import.meta.url, 'worker')
      : new URL('./worker-boot.mjs', import.meta.url);

/** A piece of a run: some cases of one profile, run together on a fresh driver. */
export interface Piece {
  readonly profile: string;
  readonly cases: readonly string[];
}

export interface WorkerSetup {
  readonly driverSpec: string;
  readonly cwd: string;
}
export type WorkerRequest = ({ readonly kind: 'run' } & Piece) | { readonly kind: 'stop' };
export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'progress'; readonly profile: string; readonly caseId: string }
  | { readonly kind: 'done'; readonly report: RunReport }
  | { readonly kind: 'failed'; readonly profile: string | null; readonly message: string };

export type Progress = (p: { readonly profile: string; readonly caseId: string }) => void;

export interface Lane {
  run(piece: Piece): Promise<RunReport>;
  close(): Promise<void>;
}

/**
 * Runs pieces one after another on one driver slot: each piece starts on a fresh driver, and a
 * process driver's next one starts while the runner finishes the last piece (DriverSlot.prestart).
 */
export function pieceRunner(driver: DriverFactory, target: FakeTarget, progress: Progress): Lane {
  const slot = new DriverSlot(driver);
  return {
    run: (piece) => runConformance({ driver, slot, target, profiles: [piece.profile], cases: piece.cases, onProgress: progress }),
    close: () => slot.close(),
  };
}

/** This thread, on the caller's target. */
export const localLane = pieceRunner;

/** A worker thread; it resolves the driver spec itself (a factory cannot cross threads). */
export function workerLane(setup: WorkerSetup, progress: Progress): Lane {
  const worker = new Worker(WORKER_ENTRY, { workerData: setup });
  let exited = false;
  let pending: { resolve(r: RunReport): void; reject(e: Error): void } | null = null;
  let failure: Error | null = null;
  const fail = (e: Error) => {
    failure ??= e;
    pending?.reject(failure);
    pending = null;
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: WorkerReply) => {
      if (m.kind === 'ready') resolve();
      else if (m.kind === 'progress') progress(m);
      else if (m.kind === 'done') {
        pending?.resolve(m.report);
        pending = null;
      } else {
        const e = new Error(m.profile ? `profile ${m.profile}: ${m.message}` : m.message);
        reject(e);
        fail(e);
      }
    });
    worker.on('error', (e) => {
      reject(e);
      fail(e);
    });
    worker.on('exit', (code) => {
      exited = true;
      const e = new Error(`a conformance worker exited (status ${code}) before the run ended`);
      reject(e);
      fail(e);
    });
  });
  ready.catch(() => undefined);
  const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async run(piece) {
      await ready;
      if (failure) throw failure;
      return new Promise<RunReport>((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage({ kind: 'run', ...piece } satisfies WorkerRequest);
      });
    },
    async close() {
      if (!exited) worker.postMessage({ kind: 'stop' } satisfies WorkerRequest);
      await gone;
    },
  };
}
