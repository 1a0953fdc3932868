/**
 * The driver under test as the runner holds it: created from the factory on demand, replaced on a
 * restart, and called only through `call`, which enforces the contract on every answer (a
 * malformed answer is a `MalformedAnswer`, a hung call a timeout error).
 */
import type { z } from 'zod';
import { DriverDescriptionSchema, OPERATION_NAMES, OPERATIONS, PROTOCOL_LIMITS_MS, RefusalSchema, SLOW_OPERATIONS, type DriverDescription, type OpParams, type OpResult, type OperationName, type Outcome, type SevDriver } from '../contract.ts';
import type { DriverFactory } from './driver-spec.ts';
import { MalformedAnswer, RunnerUsageError } from './outcomes.ts';

/** How long the runner waits on a driver before it gives the case up and replaces the driver. */
export interface DriverLimits {
  /** Per-operation limits in milliseconds. */
  readonly opsMs: Readonly<Record<OperationName, number>>;
  /** Starting a driver (the factory, including a process driver's `hello`). */
  readonly startMs: number;
  /** `close()` at a service stop; a driver that does not close in time is abandoned. */
  readonly closeMs: number;
}

/** Overrides of some limits (tests use tiny ones); the rest keep their defaults. */
export interface DriverLimitsOverride {
  readonly opsMs?: Readonly<Partial<Record<OperationName, number>>>;
  readonly startMs?: number;
  readonly closeMs?: number;
}

/** PROTOCOL.md §6: 30 s per operation, 60 s for spawn and lifecycle; the process adapter enforces its own as well. */
export const DEFAULT_DRIVER_LIMITS: DriverLimits = {
  opsMs: Object.fromEntries(
    OPERATION_NAMES.map((op) => [op, SLOW_OPERATIONS.has(op) ? PROTOCOL_LIMITS_MS.slowOp : PROTOCOL_LIMITS_MS.op]),
  ) as Record<OperationName, number>,
  startMs: 30_000,
  closeMs: 10_000,
};

function checkLimit(what: string, ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new RunnerUsageError(`driver limit ${what} must be a positive number of milliseconds, got ${String(ms)}`);
  return ms;
}

/** The defaults with `o` applied; a limit that is not a positive finite number is a usage error. */
export function driverLimits(o: DriverLimitsOverride = {}): DriverLimits {
  const opsMs = { ...DEFAULT_DRIVER_LIMITS.opsMs };
  for (const [op, ms] of Object.entries(o.opsMs ?? {}) as Array<[string, number | undefined]>) {
    if (!Object.hasOwn(opsMs, op)) throw new RunnerUsageError(`driver limit for unknown operation '${op}' (known: ${Object.keys(opsMs).join(', ')})`);
    if (ms !== undefined) opsMs[op as OperationName] = checkLimit(`opsMs.${op}`, ms);
  }
  return {
    opsMs,
    startMs: checkLimit('startMs', o.startMs ?? DEFAULT_DRIVER_LIMITS.startMs),
    closeMs: checkLimit('closeMs', o.closeMs ?? DEFAULT_DRIVER_LIMITS.closeMs),
  };
}

/** A driver call that outlived its limit; the case is an error and the driver is replaced. */
export class DriverTimeout extends Error {
  override readonly name = 'DriverTimeout';
}

/** A limit as messages state it (short limits keep their fraction: 0.05 s). */
const seconds = (ms: number): string => `${ms / 1000} s`;

/** zod issues as one line: `path: message; …`. */
export function zodLine(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

/** `p` or a DriverTimeout after `ms`, of which `spentMs` have already gone (a driver started ahead of time). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, spentMs = 0): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DriverTimeout(`${what} did not answer within ${seconds(ms)}`)), Math.max(0, ms - spentMs));
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function hasRefusalShape(x: unknown): boolean {
  return typeof x === 'object' && x !== null && 'code' in x && !Array.isArray(x);
}

/** Checks an answer against the contract: the operation's result or (except reportHost) a refusal. */
export function checkAnswer<K extends OperationName>(op: K, answer: unknown): Outcome<OpResult<K>> {
  if (op !== 'reportHost' && hasRefusalShape(answer)) {
    const r = RefusalSchema.safeParse(answer);
    if (!r.success) throw new MalformedAnswer(`${op} answered a malformed refusal: ${zodLine(r.error)}`);
    return r.data;
  }
  const schema = OPERATIONS[op].result as unknown as z.ZodType<OpResult<K>>;
  const r = schema.safeParse(answer);
  if (!r.success) throw new MalformedAnswer(`${op} answered a malformed result: ${zodLine(r.error)}`);
  return r.data;
}

type Method<K extends OperationName> = (p: OpParams<K>) => Promise<unknown>;

/** The error code adapters use for an answer that does not match the contract (conformance/adapters/process.ts). */
export const MALFORMED_RESULT = 'MALFORMED_RESULT';

/** A driver that keeps a log (the process adapter's stderr). */
type LoggingDriver = SevDriver & { stderrPosition?: () => number; stderrSince?: (pos: number) => string; stderrTail?: () => string };

const logPosition = (d: SevDriver | null): number => {
  const l = d as LoggingDriver | null;
  return typeof l?.stderrPosition === 'function' ? l.stderrPosition() : 0;
};

function logSince(d: SevDriver | null, pos: number): string {
  const l = d as LoggingDriver | null;
  if (typeof l?.stderrSince === 'function') return l.stderrSince(pos);
  return typeof l?.stderrTail === 'function' ? l.stderrTail() : '';
}

/** A driver being made by the factory, and since when. */
interface Starting {
  readonly driver: Promise<SevDriver>;
  readonly since: number;
}

export class DriverSlot {
  private current: SevDriver | null = null;
  /** The next driver, started when the last one stopped (factories marked `prestart`). */
  private spare: Starting | null = null;
  private logMark = 0;
  private carriedLog = '';
  private desc: DriverDescription | null = null;
  readonly limits: DriverLimits;

  constructor(
    private readonly factory: DriverFactory,
    limits: DriverLimitsOverride = {},
  ) {
    this.limits = driverLimits(limits);
  }

  /** The driver, started if needed; its description is checked against the contract once. */
  async driver(): Promise<SevDriver> {
    if (!this.current) {
      const { driver: starting, since } = this.spare ?? this.start();
      this.spare = null;
      // A spare's start limit counts from its start, as if it had been started now.
      const d = await withTimeout(starting, this.limits.startMs, 'starting the driver', performance.now() - since).catch((e: unknown) => {
        // A driver that turns up after its limit belongs to nobody: close it when it does.
        if (e instanceof DriverTimeout) void starting.then((late) => late.close?.()).catch(() => undefined);
        throw e;
      });
      const desc = DriverDescriptionSchema.safeParse(d.describe());
      if (!desc.success) {
        await d.close?.().catch(() => undefined);
        throw new MalformedAnswer(`describe() is malformed: ${zodLine(desc.error)}`);
      }
      this.current = d;
      this.desc = desc.data;
    }
    return this.current;
  }

  async description(): Promise<DriverDescription> {
    await this.driver();
    return this.desc!;
  }

  /** Whether the driver offers `op` (listed in describe() and present as a method). */
  async implements(op: OperationName): Promise<boolean> {
    const d = await this.driver();
    return this.desc!.ops.includes(op) && typeof d[op] === 'function';
  }

  async call<K extends OperationName>(op: K, params: OpParams<K>): Promise<Outcome<OpResult<K>>> {
    const d = await this.driver();
    const method = d[op] as Method<K> | undefined;
    if (typeof method !== 'function') throw new Error(`the driver has no ${op} operation`);
    const answer = await withTimeout(method.call(d, params), this.limits.opsMs[op], op).catch((e: unknown) => {
      // An adapter that checks answers itself (the process adapter) reports a wrong-shaped answer as
      // an error with this code; it is the driver's wrong answer all the same, judged like one.
      if (e instanceof Error && 'code' in e && e.code === MALFORMED_RESULT) throw new MalformedAnswer(e.message);
      throw e;
    });
    return checkAnswer(op, answer);
  }

  /** Where the current case's share of the driver's log starts; restarts within the case carry theirs over. */
  markLog(): void {
    this.carriedLog = '';
    this.logMark = logPosition(this.current);
  }

  /**
   * The driver's own log since `markLog()` (process drivers' stderr), across the restarts the case
   * caused, including what a stopped driver wrote while it ended; undefined when it wrote nothing.
   */
  log(): string | undefined {
    const text = this.carriedLog + logSince(this.current, this.logMark);
    return text.trim() === '' ? undefined : text;
  }

  private start(): Starting {
    const driver = this.factory();
    // Its failure is reported when it is taken, as a start's is.
    driver.catch(() => undefined);
    return { driver, since: performance.now() };
  }

  /**
   * Ends the current driver (a service stop); the next call starts a new one. With `next` (the
   * default) and a factory marked `prestart` (a process driver: an interpreter and its imports), the
   * next driver starts as soon as this one has closed, while the runner finishes the case.
   */
  async stop(opts: { readonly next?: boolean } = {}): Promise<void> {
    const d = this.current;
    this.current = null;
    if (d?.close) await withTimeout(d.close(), this.limits.closeMs, 'closing the driver').catch(() => undefined);
    this.carriedLog += logSince(d, this.logMark);
    this.logMark = 0;
    if (opts.next !== false && this.factory.prestart === true && this.spare === null) this.spare = this.start();
  }

  /** Ends the current driver and any spare: the end of a run. */
  async close(): Promise<void> {
    await this.stop({ next: false });
    const spare = this.spare;
    this.spare = null;
    if (spare === null) return;
    const d = await withTimeout(spare.driver, this.limits.startMs, 'starting the driver', performance.now() - spare.since).catch(() => null);
    if (d?.close) await withTimeout(d.close(), this.limits.closeMs, 'closing the driver').catch(() => undefined);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.driver();
  }
}
