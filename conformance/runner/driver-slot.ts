/**
 * The driver under test as the runner holds it: created from the factory on demand, replaced on a
 * restart, and called only through `call`, which enforces the contract on every answer (a
 * malformed answer is a `MalformedAnswer`, a hung call a timeout error).
 */
import type { z } from 'zod';
import { DriverDescriptionSchema, OPERATIONS, RefusalSchema, type DriverDescription, type OpParams, type OpResult, type OperationName, type Outcome, type SevDriver } from '../contract.ts';
import type { DriverFactory } from './driver-spec.ts';
import { MalformedAnswer } from './outcomes.ts';

/** Per-operation time limits (PROTOCOL.md §6); the process adapter enforces its own as well. */
const TIMEOUT_MS: Record<OperationName, number> = {
  reportHost: 30_000, validateRequest: 30_000, buildGuestXml: 30_000, spawn: 60_000, lifecycle: 60_000, schedule: 30_000, release: 30_000,
};
const CLOSE_TIMEOUT_MS = 10_000;

/** zod issues as one line: `path: message; …`. */
export function zodLine(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
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

export class DriverSlot {
  private current: SevDriver | null = null;
  private desc: DriverDescription | null = null;

  constructor(private readonly factory: DriverFactory) {}

  /** The driver, started if needed; its description is checked against the contract once. */
  async driver(): Promise<SevDriver> {
    if (!this.current) {
      const d = await withTimeout(this.factory(), 30_000, 'starting the driver');
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
    const answer = await withTimeout(method.call(d, params), TIMEOUT_MS[op], op);
    return checkAnswer(op, answer);
  }

  /** The tail of the driver's own log, for drivers that keep one (process drivers). */
  log(): string | undefined {
    const d = this.current as (SevDriver & { stderrTail?: () => string }) | null;
    const tail = typeof d?.stderrTail === 'function' ? d.stderrTail() : '';
    return tail.trim() === '' ? undefined : tail;
  }

  /** Ends the current driver (a service stop); the next call starts a new one. */
  async stop(): Promise<void> {
    const d = this.current;
    this.current = null;
    if (d?.close) await withTimeout(d.close(), CLOSE_TIMEOUT_MS, 'closing the driver').catch(() => undefined);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.driver();
  }
}
