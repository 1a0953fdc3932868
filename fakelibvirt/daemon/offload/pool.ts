/**
 * The daemon's worker threads, one pool per process shared by every daemon in it (a fleet serves
 * hundreds of hosts). libvirtd runs every call on a pool of worker threads (min_workers 5,
 * max_workers 20) so that one long call stalls only its own client; the fake's calls are pure CPU,
 * so more threads than cores would only share the same cores (and each holds a V8 heap): the pool
 * holds at most min(max_workers, cores − 1) workers, at least one, the main thread keeping a core
 * for everyone else; they start on the first large call and stay (referenced only while working). Only large calls come here (limits.ts, offloadBytes); every
 * other call keeps the in-thread path.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isCompiled, siblingModule } from '../../../src/fs/package-files.ts';
import type { HardwareProfile } from '../../profile/schema.ts';
import type { OffloadJob, OffloadOutcome } from './protocol.ts';

type JobInput = Omit<OffloadJob, 'id' | 'profile' | 'profileId'> & { readonly profile: HardwareProfile };

interface Slot {
  readonly worker: Worker;
  /** Profiles this worker has been sent. */
  readonly profiles: Set<number>;
  busy: number;
  readonly pending: Map<number, (o: OffloadOutcome | null) => void>;
}

const BOOT = new URL('./worker-boot.mjs', import.meta.url);
const ENTRY = siblingModule(import.meta.url, 'worker');

/**
 * The worker's code as one plain-JavaScript module (esbuild, which tsx already brings), loaded from
 * a data: URL: no file is written, and the thread needs no TypeScript loader, whose hooks thread
 * would cost ~35 MB per worker (a bundled worker costs ~25 MB in all). When esbuild cannot be
 * loaded the worker boots through tsx instead.
 */
let entry: Promise<URL> | null = null;
function workerEntry(): Promise<URL> {
  // Compiled (an installed package): the worker is plain JavaScript already.
  if (isCompiled(import.meta.url)) return Promise.resolve(ENTRY);
  entry ??= (async () => {
    try {
      const esbuild = (await import('esbuild')) as typeof import('esbuild');
      const out = await esbuild.build({ entryPoints: [fileURLToPath(ENTRY)], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent' });
      return new URL(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0]!.contents).toString('base64')}`);
    } catch {
      return BOOT;
    }
  })();
  return entry;
}

export class OffloadPool {
  private readonly slots: Slot[] = [];
  private readonly profileIds = new WeakMap<HardwareProfile, number>();
  private nextProfileId = 1;
  private nextJob = 1;

  constructor(readonly size: number) {}

  /** Workers started so far. */
  get started(): number {
    return this.slots.length;
  }

  /**
   * Runs a job on the least busy worker (a new one while under the size). Resolves null when the
   * worker died under it: the caller closes that connection, as a daemon thread's crash would.
   */
  async run(input: JobInput): Promise<OffloadOutcome | null> {
    const slot = this.pick(await workerEntry());
    const id = this.nextJob++;
    const profileId = this.idOf(input.profile);
    const first = !slot.profiles.has(profileId);
    slot.profiles.add(profileId);
    const { profile, ...rest } = input;
    const job: OffloadJob = { ...rest, id, profileId, ...(first && { profile }) };
    // Pieces that own their whole buffer move to the worker; the others (a packet's first and
    // last, which share a socket read with their neighbours) are copied by the message.
    const transfer = input.parts.filter((p) => p.byteOffset === 0 && p.byteLength === p.buffer.byteLength).map((p) => p.buffer as ArrayBuffer);
    return new Promise((resolve) => {
      // Referenced only while it works: an idle pool never holds the process open.
      if (slot.busy++ === 0) slot.worker.ref();
      slot.pending.set(id, (o) => {
        if (--slot.busy === 0) slot.worker.unref();
        resolve(o);
      });
      slot.worker.postMessage(job, [...new Set(transfer)]);
    });
  }

  /** Ends every worker (tests; a process that ends needs nothing: the workers are unref'ed). */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private idOf(p: HardwareProfile): number {
    let id = this.profileIds.get(p);
    if (id === undefined) this.profileIds.set(p, (id = this.nextProfileId++));
    return id;
  }

  private pick(url: URL): Slot {
    const idle = this.slots.find((s) => s.busy === 0);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.spawn(url);
    return this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private spawn(url: URL): Slot {
    // A small young generation: this thread's heap is the daemon's memory too.
    const worker = new Worker(url, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    let answered = false;
    const slot: Slot = { worker, profiles: new Set(), busy: 0, pending: new Map() };
    worker.on('message', (o: OffloadOutcome) => {
      answered = true;
      const done = slot.pending.get(o.id);
      slot.pending.delete(o.id);
      done?.(o);
    });
    const fail = () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const done of slot.pending.values()) done(null);
      slot.pending.clear();
    };
    worker.on('error', () => {
      // A bundle that cannot run here: later workers boot through tsx.
      if (!answered && url !== BOOT) entry = Promise.resolve(BOOT);
      fail();
    });
    worker.on('exit', fail);
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.slots.push(slot);
    return slot;
  }
}

let shared: OffloadPool | null = null;

/** The process's pool, sized by the first daemon that asks (its limits.maxWorkers). */
export function offloadPool(maxWorkers: number): OffloadPool {
  shared ??= new OffloadPool(Math.max(1, Math.min(maxWorkers, availableParallelism() - 1)));
  return shared;
}
