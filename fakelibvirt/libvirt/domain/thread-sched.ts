/**
 * Real-time and other scheduler settings of vCPU, emulator and I/O threads in `<cputune>`
 * (conf/domain_conf.c virDomainSchedulerParseCommonAttrs, virDomainSchedulerParse,
 * virDomainThreadSchedParseHelper, virDomainSchedulerFormat).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { bitmapError, parseBitmap } from './bitmap.ts';
import { node } from './draft.ts';
import { propEnum, propInt } from './props.ts';

/** virProcessSchedPolicy (VIR_ENUM_IMPL order; "none" refused as NONZERO). */
const POLICIES = ['none', 'batch', 'idle', 'fifo', 'rr'] as const;

export interface ThreadSched {
  readonly policy: (typeof POLICIES)[number];
  readonly priority: number | undefined;
}

/** The scheduler and, for the real-time ones, the required priority. */
export function parseSchedAttrs(el: XmlNode): ThreadSched {
  const policy = propEnum(el, 'scheduler', POLICIES, { required: true, nonzero: true })!;
  const priority = policy === 'fifo' || policy === 'rr' ? propInt(el, 'priority', 10, { required: true }) : undefined;
  return { policy, priority };
}

/**
 * `<vcpusched vcpus=…>` / `<iothreadsched iothreads=…>`: the thread bitmap (non-empty), the
 * scheduler, then each thread the bitmap names gets it; `lookup` finds the thread or throws.
 */
export function parseThreadSched(el: XmlNode, attr: 'vcpus' | 'iothreads', slot: (id: number) => { sched: ThreadSched | undefined }): void {
  const text = el.attrs[attr];
  if (text === undefined) throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, `Missing attribute '${attr}' in element '${el.name}'`);
  const bits = parseBitmap(text);
  if (bits === null) throw bitmapError(text);
  if (bits.size === 0) throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, `'${attr}' scheduler bitmap '${text}' is empty`);
  const sched = parseSchedAttrs(el);
  for (const id of [...bits].sort((a, b) => a - b)) {
    const s = slot(id);
    if (s.sched !== undefined) throw LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.DOMAIN, `'${el.name}' attributes '${attr}' must not overlap`);
    s.sched = sched;
  }
}

/** virDomainSchedulerFormat: one element per thread (`id` undefined for the emulator). */
export function formatSched(kind: 'vcpu' | 'iothread' | 'emulator', sched: ThreadSched | undefined, id?: number): XmlNode | undefined {
  if (!sched || sched.policy === 'none') return undefined;
  return node(`${kind}sched`, { [`${kind}s`]: id, scheduler: sched.policy, priority: sched.priority });
}
