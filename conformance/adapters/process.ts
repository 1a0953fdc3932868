/**
 * The process adapter: a driver in any language, run as a child process speaking PROTOCOL.md
 * (JSON lines on stdin/stdout), seen by the runner as an ordinary `SevDriver`.
 *
 * One request at a time. What the driver sends is checked against the contract's schemas: a
 * refusal code comes back as a `Refusal` (judged by the runner), everything else that is not a
 * valid result is an Error. A driver that times out, exits or breaks the line discipline is killed
 * and the next call starts a fresh process (with a new `hello`), as PROTOCOL.md §6 requires.
 */
import { packageVersion } from '../../src/fs/package-files.ts';
import { z } from 'zod';
import {
  PROTOCOL_LIMITS_MS,
  SLOW_OPERATIONS,
  DriverDescriptionSchema,
  OPERATIONS,
  PROTOCOL_VERSION,
  type DriverDescription,
  type OperationName,
  type OpParams,
  type OpResult,
  type Outcome,
  type SevDriver,
} from '../contract.ts';
import { REFUSAL_CODE_LIST, type RefusalCode } from '../refusal-codes.ts';
import { LineChannel, describeEnd, type ChannelEnd } from './line-channel.ts';
import { TailBuffer } from './tail-buffer.ts';

export interface ProcessTimeouts {
  /** Process start to the `hello` answer. */
  readonly hello: number;
  /** Any operation but the slow ones. */
  readonly op: number;
  /** `spawn` and `lifecycle`: they boot and stop guests. */
  readonly slowOp: number;
  /** After `shutdown`, and again after SIGTERM, before the next step. */
  readonly shutdown: number;
}

/** PROTOCOL.md §6, in milliseconds. */
export const DEFAULT_TIMEOUTS: ProcessTimeouts = { ...PROTOCOL_LIMITS_MS };

/** Error codes a driver may answer with besides refusals (PROTOCOL.md §2); they always fail the case. */
export const DRIVER_ERROR_CODES = ['BAD_REQUEST', 'UNKNOWN_OP', 'INTERNAL', 'PROTOCOL_MISMATCH'] as const;
export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number];

/** What went wrong on the adapter's side of the pipe. */
export type AdapterErrorCode =
  | 'START_FAILED' // the command could not be run, or `hello` was not a valid description
  | 'TIMEOUT'
  | 'EXITED' // the driver exited while a request was pending
  | 'PROTOCOL_VIOLATION' // stdout carried something other than the awaited response
  | 'MALFORMED_RESULT' // the result does not match the contract's schema
  | 'INVALID_PARAMS' // the runner's params do not match the contract (a runner bug)
  | 'CLOSED';

/** A protocol-level failure: the case errors; `code` says which kind. */
export class ProcessDriverError extends Error {
  override readonly name = 'ProcessDriverError';
  constructor(
    readonly code: DriverErrorCode | AdapterErrorCode | 'UNKNOWN_ERROR_CODE',
    message: string,
  ) {
    super(message);
  }
}

export interface ProcessDriverOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeouts?: Partial<ProcessTimeouts>;
}

export interface ProcessDriver extends SevDriver {
  /** The end of the driver's stderr (all processes so far, restarts included), at most ~64 KiB. */
  stderrTail(): string;
  /** A position in the driver's stderr: `stderrSince(pos)` is what it wrote after it (one case's share). */
  stderrPosition(): number;
  stderrSince(pos: number): string;
}

const STDERR_LIMIT = 64 * 1024;
/** How much of the stderr tail an error message carries. */
const STDERR_IN_ERRORS = 4000;
/** A response line longer than this is not a message but a runaway driver. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

const SUITE_VERSION: string = packageVersion();

const REFUSAL_CODES: ReadonlySet<string> = new Set(REFUSAL_CODE_LIST);
const DRIVER_ERRORS: ReadonlySet<string> = new Set(DRIVER_ERROR_CODES);

const ResponseSchema = z.union([
  z.object({ id: z.number().int(), result: z.unknown().refine((r) => r !== undefined, 'result is missing') }),
  z.object({ id: z.number().int(), error: z.object({ code: z.string().min(1), message: z.string() }) }),
]);
type Response = z.infer<typeof ResponseSchema>;

const clip = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n)}…` : s);

interface Waiter {
  readonly id: number;
  readonly op: string;
  resolve(r: Response): void;
  reject(e: Error): void;
}

/** One run of the driver's process: from spawn to exit. Unusable once `broken` is set. */
class Session {
  private readonly channel: LineChannel;
  private nextId = 0;
  private waiter: Waiter | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  broken: string | null = null;

  constructor(
    command: readonly string[],
    opts: ProcessDriverOptions,
    private readonly stderr: TailBuffer,
    private readonly withTail: (message: string) => string,
  ) {
    this.channel = new LineChannel(command, { cwd: opts.cwd, env: opts.env, stderr, maxLineBytes: MAX_LINE_BYTES }, {
      line: (text) => this.onLine(text),
      violation: (reason) => this.fail('PROTOCOL_VIOLATION', reason),
      end: (how) => this.onEnd(how),
    });
  }

  get exited(): Promise<void> {
    return this.channel.exited;
  }

  request(op: string, params: unknown, timeoutMs: number): Promise<Response> {
    if (this.broken !== null) return Promise.reject(new ProcessDriverError('EXITED', this.withTail(this.broken)));
    const id = this.nextId++;
    return new Promise<Response>((resolve, reject) => {
      this.waiter = { id, op, resolve, reject };
      this.timer = setTimeout(() => this.fail('TIMEOUT', `no answer to ${op} (id ${id}) within ${timeoutMs} ms`), timeoutMs);
      this.channel.send(JSON.stringify({ id, op, params }));
    });
  }

  /** Ends the process at once (it misbehaved or is no longer wanted). */
  kill(): Promise<void> {
    this.channel.signal('SIGKILL');
    return this.channel.exited;
  }

  /** PROTOCOL.md §6: `shutdown`, then SIGTERM, then SIGKILL, each after `graceMs` without an exit. */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.channel.hasExited) return;
    if (this.broken === null && this.waiter === null) {
      this.channel.send(JSON.stringify({ id: this.nextId++, op: 'shutdown', params: {} }));
    }
    this.channel.endInput();
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      if (await this.exitsWithin(graceMs)) return;
      this.stderr.push(`[sevharness] driver did not exit within ${graceMs} ms; sending ${sig}\n`);
      this.channel.signal(sig);
    }
    await this.exitsWithin(graceMs);
  }

  private exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    return Promise.race([this.channel.exited.then(() => true), timeout]).finally(() => clearTimeout(timer));
  }

  private onLine(text: string): void {
    if (this.broken !== null || this.stopping) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.fail('PROTOCOL_VIOLATION', `stdout line is not JSON: ${JSON.stringify(clip(text))}`);
    }
    const r = ResponseSchema.safeParse(parsed);
    if (!r.success) {
      return this.fail('PROTOCOL_VIOLATION', `stdout line is not a response (needs an integer id and exactly one of result/error): ${clip(text)}`);
    }
    const w = this.waiter;
    if (w === null) return this.fail('PROTOCOL_VIOLATION', `stdout line while no request was pending: ${clip(text)}`);
    if (r.data.id !== w.id) return this.fail('PROTOCOL_VIOLATION', `response id ${r.data.id} does not match the pending request's id ${w.id} (${w.op})`);
    // Answered on the next turn of the event loop: what the driver wrote to stderr before its answer
    // is read by then (the pipes are separate), so it lands in the log of the case that caused it.
    const settled = this.settle();
    setImmediate(() => settled?.resolve(r.data));
  }

  private onEnd(how: ChannelEnd): void {
    if (this.broken === null) this.broken = `driver ${describeEnd(how)}`;
    const w = this.settle();
    if (w) w.reject(new ProcessDriverError(how.kind === 'spawn-error' ? 'START_FAILED' : 'EXITED', this.withTail(`driver ${describeEnd(how)} during ${w.op}`)));
  }

  /** Marks the session unusable, rejects the pending request and kills the process. */
  private fail(code: AdapterErrorCode, reason: string): void {
    if (this.broken !== null) return;
    this.broken = reason;
    this.channel.signal('SIGKILL');
    const w = this.settle();
    if (w) w.reject(new ProcessDriverError(code, this.withTail(reason)));
    // With no call to reject, the reason would be lost: keep it where the runner looks for the driver's log.
    else this.stderr.push(`[sevharness] ${reason}; the driver was killed and restarts on the next call\n`);
  }

  private settle(): Waiter | null {
    const w = this.waiter;
    this.waiter = null;
    clearTimeout(this.timer);
    return w;
  }
}

class ProcessDriverImpl {
  private readonly stderr = new TailBuffer(STDERR_LIMIT);
  private readonly timeouts: ProcessTimeouts;
  private session: Session | null = null;
  private readonly dying = new Set<Promise<void>>();
  /** Calls run one after another: PROTOCOL.md allows no pipelining. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | null = null;
  description: DriverDescription | null = null;

  constructor(
    private readonly command: readonly string[],
    private readonly opts: ProcessDriverOptions,
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  }

  stderrTail(): string {
    return this.stderr.text();
  }

  stderrPosition(): number {
    return this.stderr.position;
  }

  stderrSince(pos: number): string {
    return this.stderr.since(pos);
  }

  /** The first start: its failure is the caller's (the runner reports every case as "error"). */
  start(): Promise<DriverDescription> {
    return this.enqueue(() => this.ensureSession());
  }

  call<K extends OperationName>(op: K, params: OpParams<K>): Promise<Outcome<OpResult<K>>> {
    const checked = OPERATIONS[op].params.safeParse(params);
    if (!checked.success) {
      return Promise.reject(new ProcessDriverError('INVALID_PARAMS', `${op} params do not match the contract: ${z.prettifyError(checked.error)}`));
    }
    return this.enqueue(async () => {
      await this.ensureSession();
      const session = this.session!;
      const response = await session.request(op, checked.data, SLOW_OPERATIONS.has(op) ? this.timeouts.slowOp : this.timeouts.op);
      return this.interpret(op, response);
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdownAll();
    return this.closing;
  }

  private async shutdownAll(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => {});
    const s = this.session;
    this.session = null;
    if (s) await s.shutdown(this.timeouts.shutdown);
    await Promise.all(this.dying);
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new ProcessDriverError('CLOSED', 'the driver has been closed');
      return job();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private interpret<K extends OperationName>(op: K, response: Response): Outcome<OpResult<K>> {
    if ('error' in response) {
      const { code, message } = response.error;
      if (REFUSAL_CODES.has(code)) {
        if (op === 'reportHost') throw new ProcessDriverError('PROTOCOL_VIOLATION', `reportHost may not refuse, but the driver answered ${code}: ${message}`);
        return { code: code as RefusalCode, message };
      }
      if (DRIVER_ERRORS.has(code)) throw new ProcessDriverError(code as DriverErrorCode, `driver answered ${op} with ${code}: ${message}`);
      throw new ProcessDriverError('UNKNOWN_ERROR_CODE', `driver answered ${op} with an unknown error code ${JSON.stringify(code)}: ${message}`);
    }
    const parsed = OPERATIONS[op].result.safeParse(response.result);
    if (!parsed.success) throw new ProcessDriverError('MALFORMED_RESULT', `driver's ${op} result does not match the contract: ${z.prettifyError(parsed.error)}`);
    return parsed.data as OpResult<K>;
  }

  /** A usable process with a validated description: the current one, or a fresh one. */
  private async ensureSession(): Promise<DriverDescription> {
    if (this.session !== null && this.session.broken === null && this.description !== null) return this.description;
    if (this.session !== null) {
      // The old process is gone before the new one starts (bounded, in case it cannot be reaped).
      const gone = this.retire(this.session);
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, this.timeouts.shutdown).unref())]);
    }
    const session = new Session(this.command, this.opts, this.stderr, (m) => this.withTail(m));
    this.session = session;
    try {
      this.description = await this.hello(session);
      return this.description;
    } catch (e) {
      this.session = null;
      this.retire(session);
      throw e;
    }
  }

  private async hello(session: Session): Promise<DriverDescription> {
    let response: Response;
    try {
      response = await session.request('hello', { protocol: PROTOCOL_VERSION, suite: 'sevharness', suiteVersion: SUITE_VERSION }, this.timeouts.hello);
    } catch (e) {
      const timedOut = e instanceof ProcessDriverError && e.code === 'TIMEOUT';
      const why = e instanceof Error ? e.message : String(e);
      throw new ProcessDriverError(timedOut ? 'TIMEOUT' : 'START_FAILED', `${JSON.stringify(this.command.join(' '))} failed its hello: ${why}`);
    }
    const fail = (code: DriverErrorCode | AdapterErrorCode, why: string) => new ProcessDriverError(code, this.withTail(`hello: ${why}`));
    if ('error' in response) {
      const { code, message } = response.error;
      throw fail(code === 'PROTOCOL_MISMATCH' ? 'PROTOCOL_MISMATCH' : 'START_FAILED', `driver answered ${code}: ${message}`);
    }
    const result = response.result as { protocol?: unknown } | null;
    if (typeof result !== 'object' || result === null) throw fail('START_FAILED', 'the answer is not an object');
    if (result.protocol !== PROTOCOL_VERSION) {
      throw fail('PROTOCOL_MISMATCH', `driver speaks protocol ${JSON.stringify(result.protocol)}, the suite speaks ${PROTOCOL_VERSION}`);
    }
    const d = DriverDescriptionSchema.safeParse(result);
    if (!d.success) throw fail('START_FAILED', `the description does not match the contract: ${z.prettifyError(d.error)}`);
    if (!d.data.ops.includes('reportHost')) throw fail('START_FAILED', 'ops must include reportHost');
    return d.data;
  }

  /** Kills a session that is no longer used; close() waits for it to be reaped. */
  private retire(session: Session): Promise<void> {
    const gone = session.kill();
    this.dying.add(gone);
    void gone.then(() => this.dying.delete(gone));
    return gone;
  }

  private withTail(message: string): string {
    const tail = this.stderr.text();
    if (tail.trim() === '') return `${message} (driver stderr is empty)`;
    const shown = tail.length > STDERR_IN_ERRORS ? `…${tail.slice(-STDERR_IN_ERRORS)}` : tail;
    return `${message}\n--- driver stderr (tail) ---\n${shown.trimEnd()}`;
  }
}

/**
 * Starts `command` (no shell) and completes the handshake. The returned driver has a method for
 * each operation the driver listed in `hello` and none for the others (`driver.spawn === undefined`).
 */
export async function startProcessDriver(command: readonly string[], opts: ProcessDriverOptions = {}): Promise<ProcessDriver> {
  const impl = new ProcessDriverImpl(command, opts);
  let first: DriverDescription;
  try {
    first = await impl.start();
  } catch (e) {
    await impl.close();
    throw e;
  }
  const ops = new Set(first.ops);
  const driver: ProcessDriver = {
    // A restart re-runs hello; the description shown stays the latest one the driver gave.
    describe: () => impl.description ?? first,
    reportHost: (p) => impl.call('reportHost', p) as Promise<OpResult<'reportHost'>>,
    close: () => impl.close(),
    stderrTail: () => impl.stderrTail(),
    stderrPosition: () => impl.stderrPosition(),
    stderrSince: (pos) => impl.stderrSince(pos),
  };
  if (ops.has('validateRequest')) driver.validateRequest = (p) => impl.call('validateRequest', p);
  if (ops.has('buildGuestXml')) driver.buildGuestXml = (p) => impl.call('buildGuestXml', p);
  if (ops.has('spawn')) driver.spawn = (p) => impl.call('spawn', p);
  if (ops.has('lifecycle')) driver.lifecycle = (p) => impl.call('lifecycle', p);
  if (ops.has('schedule')) driver.schedule = (p) => impl.call('schedule', p);
  if (ops.has('release')) driver.release = (p) => impl.call('release', p);
  return driver;
}
