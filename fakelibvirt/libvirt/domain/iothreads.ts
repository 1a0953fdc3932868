/**
 * I/O threads as libvirt parses and formats them (conf/domain_conf.c virDomainDefParseIOThreads,
 * virDomainIOThreadIDDefArrayInit, virDomainDefIOThreadsFormat; domain_validate.c
 * virDomainDefValidateIOThreads): the count, `<iothreadids>` with their thread pools, the ids
 * libvirt fills in up to the count, and `<defaultiothread>`. Pins and schedulers of I/O threads
 * (parsed with `<cputune>`) are kept on the threads here.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { strToUIntPositive } from './c-numbers.ts';
import { inputAll, inputFirst, node, setTop, textNode, type DomainDraft } from './draft.ts';
import { propInt, propUInt } from './props.ts';
import { stringOf } from './scaled.ts';
import type { ThreadSched } from './thread-sched.ts';

export interface IOThread {
  readonly id: number;
  /** Filled in by libvirt to reach the count, not written in the document. */
  readonly autofill: boolean;
  readonly poolMin: number | undefined;
  readonly poolMax: number | undefined;
  cpuset: string | undefined;
  sched: ThreadSched | undefined;
}

interface IOThreadState {
  threads: IOThread[];
  defaultPool: { min: number | undefined; max: number | undefined } | undefined;
}

const states = new WeakMap<DomainDraft, IOThreadState>();

const domainError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, detail);

/** The I/O threads in libvirt's array order (written ones, then the filled-in ids). */
export const iothreadsOf = (d: DomainDraft): IOThread[] => states.get(d)?.threads ?? [];

/** virDomainIOThreadIDFind, with the text its callers report when it finds nothing. */
export function findIOThread(d: DomainDraft, id: number): IOThread {
  const t = iothreadsOf(d).find((x) => x.id === id);
  if (!t) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `Cannot find 'iothread' : ${id}`);
  return t;
}

/** virDomainDefParseIOThreads. */
export function parseIOThreads(d: DomainDraft): void {
  const text = stringOf(inputFirst(d, 'iothreads'));
  let count = 0;
  if (text !== undefined) {
    const n = strToUIntPositive(text, 10);
    if (n === null) throw domainError(VirErrorNumber.XML_ERROR, `invalid iothreads count '${text}'`);
    count = n;
  }
  const state: IOThreadState = { threads: [], defaultPool: undefined };
  const def = inputFirst(d, 'defaultiothread');
  if (def) {
    const min = propInt(def, 'thread_pool_min', 10, { nonnegative: true });
    const max = propInt(def, 'thread_pool_max', 10, { nonnegative: true });
    if (min !== undefined || max !== undefined) state.defaultPool = { min, max };
  }
  const written = inputAll(d, 'iothreadids').flatMap((t) => t.children.filter((c) => c.name === 'iothread' && c.ns === undefined));
  for (const t of written) {
    const id = propUInt(t, 'id', 10, { required: true, nonzero: true })!;
    const poolMin = propInt(t, 'thread_pool_min', 10, { nonnegative: true });
    const poolMax = propInt(t, 'thread_pool_max', 10, { nonnegative: true });
    if (state.threads.some((x) => x.id === id)) throw domainError(VirErrorNumber.XML_ERROR, `duplicate iothread id '${id}' found`);
    state.threads.push({ id, autofill: false, poolMin, poolMax, cpuset: undefined, sched: undefined });
  }
  // virDomainIOThreadIDDefArrayInit: the lowest free ids from 1 up to the count.
  const taken = new Set(state.threads.map((t) => t.id));
  for (let id = 1; state.threads.length < count; id++) {
    if (id > count) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'failed to populate iothreadids');
    if (!taken.has(id)) state.threads.push({ id, autofill: true, poolMin: undefined, poolMax: undefined, cpuset: undefined, sched: undefined });
  }
  states.set(d, state);
}

/** `<iothreads>`, `<iothreadids>` (when one was written or has a pool) and `<defaultiothread>`. */
export function formatIOThreads(d: DomainDraft): void {
  const s = states.get(d);
  const threads = s?.threads ?? [];
  setTop(d, 'iothreads', ...(threads.length > 0 ? [textNode('iothreads', threads.length)] : []));
  const listed = threads.some((t) => !t.autofill || t.poolMin !== undefined || t.poolMax !== undefined);
  const ids = node('iothreadids', {}, threads.map((t) => node('iothread', { id: t.id, thread_pool_min: t.poolMin, thread_pool_max: t.poolMax })));
  setTop(d, 'iothreadids', ...(listed ? [ids] : []));
  const p = s?.defaultPool;
  setTop(d, 'defaultiothread', ...(p ? [node('defaultiothread', { thread_pool_min: p.min, thread_pool_max: p.max })] : []));
}

/** virDomainDefValidateIOThreads: each pool's max positive and not below its min. */
export function validateIOThreads(d: DomainDraft): void {
  const s = states.get(d);
  const pools = [...(s?.threads ?? []).map((t) => ({ min: t.poolMin, max: t.poolMax })), ...(s?.defaultPool ? [s.defaultPool] : [])];
  for (const { min, max } of pools) {
    if (max === 0) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, 'thread_pool_max must be a positive integer');
    if ((min ?? -1) > (max ?? -1)) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, 'thread_pool_min must be smaller or equal to thread_pool_max');
  }
}

/** The `<iothreadpin>` elements libvirt formats inside `<cputune>`, in array order. */
export const iothreadPins = (d: DomainDraft): XmlNode[] =>
  iothreadsOf(d).filter((t) => t.cpuset !== undefined).map((t) => node('iothreadpin', { iothread: t.id, cpuset: t.cpuset }));
