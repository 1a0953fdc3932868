/**
 * vCPUs and CPU tunables as libvirt parses them (conf/domain_conf.c virDomainDefTunablesParse,
 * virDomainVcpuParse, virDomainDefParseIOThreads; domain_validate.c virDomainDefCputuneValidate;
 * qemu_validate.c qemuValidateDomainVCpuTopology). vCPUs are kept sparsely (only those the
 * document describes one by one), so a huge count allocates nothing before validation refuses it.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { bitmapError, formatBitmap, parseBitmap } from './bitmap.ts';
import { strToLongLong, strToUInt, strToULongLongPositive } from './c-numbers.ts';
import * as cpu from './cpu.ts';
import { parseResctrls } from './cachetune.ts';
import * as iothreads from './iothreads.ts';
import * as numatune from './numatune.ts';
import { formatSched, parseSchedAttrs, parseThreadSched, type ThreadSched } from './thread-sched.ts';
import { inputAll, inputFirst, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { parseMemoryTunables } from './memory.ts';
import { propEnum, propTristateBool, propUInt } from './props.ts';
import { stringOf } from './scaled.ts';

/** virDomainCpuPlacementMode. */
const PLACEMENTS = ['static', 'auto'] as const;

interface VcpuState {
  max: number;
  current: number;
  placement: string;
  cpuset: string | undefined;
  /** `<vcpus><vcpu>` entries by id (individual vCPU states). */
  individual: Map<number, { online: boolean; hotpluggable: string | undefined; order: number | undefined }> | undefined;
  pins: Map<number, string>;
  /** `<vcpusched>` settings by vCPU id. */
  scheds: Map<number, { sched: ThreadSched | undefined }>;
}

const vcpus = new WeakMap<DomainDraft, VcpuState>();

const domainError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, detail);
const qemuError = (detail: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, detail);

/** The maximum vCPU count, once parsed. */
export const maxVcpus = (d: DomainDraft): number => vcpus.get(d)?.max ?? 1;

function parseCpuset(text: string): string {
  const bits = parseBitmap(text);
  if (bits === null) throw bitmapError(text);
  if (bits.size === 0) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `Invalid value of 'cpuset': ${text}`);
  return formatBitmap(bits);
}

/** virDomainVcpuParse. */
function parseVcpu(d: DomainDraft): VcpuState {
  const el = inputFirst(d, 'vcpu');
  let max = 1;
  let current = 1;
  let placement = 'static';
  let cpuset: string | undefined;
  if (el) {
    const n = strToUInt(el.raw ?? el.text, 10);
    if (n === null) throw domainError(VirErrorNumber.XML_ERROR, 'maximum vcpus count must be an integer');
    max = n;
    current = propUInt(el, 'current', 10) ?? max;
    placement = propEnum(el, 'placement', PLACEMENTS) ?? 'static';
    if (placement !== 'auto' && el.attrs.cpuset !== undefined) cpuset = parseCpuset(el.attrs.cpuset);
  }
  const state: VcpuState = { max, current, placement, cpuset, individual: undefined, pins: new Map(), scheds: new Map() };
  const entries = inputAll(d, 'vcpus').flatMap((v) => v.children.filter((c) => c.name === 'vcpu'));
  if (entries.length > 0) {
    state.individual = new Map();
    for (const e of entries) {
      const id = propUInt(e, 'id', 10, { required: true })!;
      if (id >= max) throw domainError(VirErrorNumber.XML_ERROR, `vcpu id '${id}' is out of range of maximum vcpu count`);
      const enabled = propTristateBool(e, 'enabled', { required: true })!;
      const hotpluggable = propTristateBool(e, 'hotpluggable');
      const order = propUInt(e, 'order', 10);
      state.individual.set(id, { online: enabled === 'yes', hotpluggable, order });
    }
    state.current = [...state.individual.values()].filter((v) => v.online).length;
  } else if (current > max) {
    throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, 'maximum vCPU count must not be less than current vCPU count');
  }
  return state;
}

/** virXPathULongLong / virXPathLongLong on `./cputune/NAME[1]`: undefined when absent, null when malformed. */
function cputuneNumber(tunes: XmlNode[], name: string, signed: boolean): bigint | undefined | null {
  for (const t of tunes) {
    const c = t.children.find((k) => k.name === name);
    if (!c) continue;
    const s = stringOf(c);
    if (s === undefined) return undefined;
    return signed ? strToLongLong(s, 10) : strToULongLongPositive(s, 10);
  }
  return undefined;
}

/** cputune's scalar values in libvirt's format order: name, signed, the label its parse error uses. */
const CPUTUNE_VALUES = [
  ['shares', false, 'shares'],
  ['period', false, 'period'],
  ['quota', true, 'quota'],
  ['global_period', false, 'global period'],
  ['global_quota', true, 'global quota'],
  ['emulator_period', false, 'emulator period'],
  ['emulator_quota', true, 'emulator quota'],
  ['iothread_period', false, 'iothread period'],
  ['iothread_quota', true, 'iothread quota'],
] as const;

/** `./cputune/NAME` across every `<cputune>`, as libvirt's XPath selects them. */
const cputuneAll = (tunes: XmlNode[], name: string) => tunes.flatMap((t) => t.children.filter((c) => c.name === name && c.ns === undefined));

/** virDomainIOThreadPinDefParseXML. */
function parseIOThreadPin(d: DomainDraft, pin: XmlNode): void {
  const id = propUInt(pin, 'iothread', 10, { required: true, nonzero: true })!;
  const thread = iothreads.findIOThread(d, id);
  const set = pin.attrs.cpuset;
  if (set === undefined) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'missing cpuset for iothreadpin');
  const parsed = parseCpuset(set);
  if (thread.cpuset !== undefined) throw domainError(VirErrorNumber.INTERNAL_ERROR, `duplicate iothreadpin for same iothread '${id}'`);
  thread.cpuset = parsed;
}

/** The scheduler elements, parsed in libvirt's order: vCPUs, I/O threads, the emulator. */
function parseSchedulers(d: DomainDraft, v: VcpuState, tunes: XmlNode[]): ThreadSched | undefined {
  for (const el of cputuneAll(tunes, 'vcpusched')) {
    parseThreadSched(el, 'vcpus', (id) => {
      if (id >= v.max) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `vCPU '${id}' is not present in domain definition`);
      let slot = v.scheds.get(id);
      if (!slot) v.scheds.set(id, (slot = { sched: undefined }));
      return slot;
    });
  }
  for (const el of cputuneAll(tunes, 'iothreadsched')) parseThreadSched(el, 'iothreads', (id) => iothreads.findIOThread(d, id));
  const emulator = cputuneAll(tunes, 'emulatorsched');
  if (emulator.length > 1) throw domainError(VirErrorNumber.XML_ERROR, 'only one emulatorsched is supported');
  return emulator[0] && parseSchedAttrs(emulator[0]);
}

function parseCputune(d: DomainDraft, v: VcpuState): void {
  const tunes = inputAll(d, 'cputune');
  const values = new Map<string, bigint>();
  for (const [name, signed, label] of CPUTUNE_VALUES) {
    const n = cputuneNumber(tunes, name, signed);
    if (n === null) throw domainError(VirErrorNumber.XML_ERROR, `can't parse cputune ${label} value`);
    if (n !== undefined) values.set(name, n);
  }
  for (const pin of tunes.flatMap((t) => t.children.filter((c) => c.name === 'vcpupin'))) {
    const id = propUInt(pin, 'vcpu', 10, { required: true })!;
    if (id >= v.max) continue; // libvirt ignores a pin of a vCPU that does not exist
    const set = pin.attrs.cpuset;
    if (set === undefined) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'missing cpuset for vcpupin');
    if (v.pins.has(id)) throw domainError(VirErrorNumber.INTERNAL_ERROR, `duplicate vcpupin for vcpu '${id}'`);
    v.pins.set(id, parseCpuset(set));
  }
  const emulatorPins = tunes.flatMap((t) => t.children.filter((c) => c.name === 'emulatorpin'));
  if (emulatorPins.length > 1) throw domainError(VirErrorNumber.XML_ERROR, 'only one emulatorpin is supported');
  let emulatorpin: string | undefined;
  if (emulatorPins[0]) {
    const set = emulatorPins[0].attrs.cpuset;
    if (set === undefined) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'missing cpuset for emulatorpin');
    emulatorpin = parseCpuset(set);
  }
  for (const pin of cputuneAll(tunes, 'iothreadpin')) parseIOThreadPin(d, pin);
  const emulatorSched = parseSchedulers(d, v, tunes);
  const resctrls = parseResctrls(cputuneAll(tunes, 'cachetune'), cputuneAll(tunes, 'memorytune'), v.max);
  const kids: (XmlNode | false)[] = CPUTUNE_VALUES.map(([name]) => {
    const n = values.get(name);
    // shares is formatted whenever given (even 0); the others only when non-zero.
    return n !== undefined && (name === 'shares' || n !== 0n) && textNode(name, String(n));
  });
  for (const [id, set] of [...v.pins].sort((a, b) => a[0] - b[0])) kids.push(node('vcpupin', { vcpu: id, cpuset: set }));
  if (emulatorpin) kids.push(node('emulatorpin', { cpuset: emulatorpin }));
  kids.push(...iothreads.iothreadPins(d));
  kids.push(formatSched('emulator', emulatorSched) ?? false);
  for (const [id, s] of [...v.scheds].sort((a, b) => a[0] - b[0])) kids.push(formatSched('vcpu', s.sched, id) ?? false);
  for (const t of iothreads.iothreadsOf(d)) kids.push(formatSched('iothread', t.sched, t.id) ?? false);
  kids.push(...resctrls);
  const el = node('cputune', {}, kids);
  setTop(d, 'cputune', ...(el.children.length > 0 ? [el] : []));
}

/** virDomainDefTunablesParse: blkiotune and memtune, vCPUs, iothreads, cputune. */
export const parseTunables: DraftStep = (d) => {
  parseMemoryTunables(d);
  const v = parseVcpu(d);
  vcpus.set(d, v);
  iothreads.parseIOThreads(d);
  iothreads.formatIOThreads(d);
  parseCputune(d, v);
};

/** virCPUDefParseXML, then the NUMA cells against the vCPU count. */
export const parseCpu: DraftStep = (d) => {
  cpu.parseCpu(d);
  cpu.checkNumaAgainstVcpus(d, maxVcpus(d));
};

/**
 * virDomainNumatuneParseXML, then the vCPU placement: automatic NUMA memory placement makes it
 * automatic too unless something pins vCPUs, the emulator or I/O threads.
 */
export const parseNumatune: DraftStep = (d) => {
  const v = vcpus.get(d)!;
  const auto = numatune.parseNumatune(d, v.placement === 'static', cpu.cpuOf(d)?.cells.length ?? 0);
  const tune = d.top.get('cputune')?.[0];
  const pinned = v.cpuset !== undefined || v.pins.size > 0 || tune?.children.some((c) => c.name === 'emulatorpin' || c.name === 'iothreadpin');
  if (auto && !pinned) v.placement = 'auto';
};

export const parseResource: DraftStep = numatune.parseResource;

/** The QEMU driver's CPU defaults, then virDomainVcpuDefPostParse; formats `<vcpu>`/`<vcpus>`. */
export const postParse: DraftStep = (d) => {
  cpu.postParseCpu(d);
  const v = vcpus.get(d)!;
  for (const [id, s] of v.individual ?? []) {
    if (s.hotpluggable === 'no' && !s.online) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `vcpu '${id}' is both offline and not hotpluggable`);
  }
  setTop(d, 'vcpu', textNode('vcpu', v.max, { placement: v.placement, cpuset: v.cpuset, current: v.current !== v.max ? v.current : undefined }));
  if (v.individual) {
    const list: XmlNode[] = [];
    for (let id = 0; id < v.max; id++) {
      const s = v.individual.get(id) ?? { online: false, hotpluggable: undefined, order: undefined };
      const hotpluggable = s.hotpluggable ?? (s.online ? 'no' : 'yes');
      list.push(node('vcpu', { id, enabled: s.online ? 'yes' : 'no', hotpluggable, order: s.order || undefined }));
    }
    setTop(d, 'vcpus', node('vcpus', {}, list));
  }
};

const CGROUP_PERIOD = [1000n, 1000000n] as const;
const CGROUP_QUOTA = [1000n, 17592186044415n] as const;
const CGROUP_SHARES = [2n, 262144n] as const;

/** virDomainDefCputuneValidate, then the QEMU driver's vCPU count and topology rules. */
export const validate: DraftStep = (d) => {
  numatune.validateResource(d);
  const tune = d.top.get('cputune')?.[0];
  const value = (name: string) => BigInt(tune?.children.find((c) => c.name === name)?.text ?? '0');
  const range = (name: string, [lo, hi]: readonly [bigint, bigint]) => {
    const n = value(name);
    if (n > 0n && (n < lo || n > hi)) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `Value of cputune '${name}' must be in range [${lo}, ${hi}]`);
  };
  range('shares', CGROUP_SHARES);
  for (const p of ['period', 'global_period', 'emulator_period', 'iothread_period']) range(p, CGROUP_PERIOD);
  for (const q of ['quota', 'global_quota', 'emulator_quota', 'iothread_quota']) range(q, CGROUP_QUOTA);
  validateVcpuCount(d);
  iothreads.validateIOThreads(d);
};

/** qemuValidateDomainVCpuTopology (and the vCPU 0 rule of qemuDomainDefValidate). */
function validateVcpuCount(d: DomainDraft): void {
  const v = vcpus.get(d)!;
  const machineName = inputFirst(d, 'os')?.children.find((c) => c.name === 'type')?.attrs.machine;
  const machine = d.ctx.machines.find((m) => m.name === machineName || m.alias === machineName) ?? d.ctx.machines.find((m) => m.default);
  const first = v.individual?.get(0);
  if ((first && !first.online) || (!v.individual && v.current === 0)) throw qemuError("vcpu 0 can't be offline");
  if (v.current === 0) throw qemuError('Domain requires at least 1 vCPU');
  const maxCpus = machine?.maxCpus ?? 0;
  if (maxCpus > 0 && v.max > maxCpus) throw qemuError(`Maximum CPUs greater than specified machine type limit ${maxCpus}`);
  const topo = cpu.topologyVcpus(d);
  if (topo !== undefined && topo !== v.max) throw qemuError("CPU topology doesn't match maximum vcpu count");
  const isQ35 = /q35/.test(machine?.name ?? '');
  if (v.max > 255) {
    if (!isQ35) throw qemuError('more than 255 vCPUs are only supported on q35-based machine types');
    const iommu = inputAll(d, 'devices').flatMap((x) => x.children).find((c) => c.name === 'iommu');
    const eim = iommu?.children.find((c) => c.name === 'driver')?.attrs.eim;
    if (eim !== 'on') throw qemuError('more than 255 vCPUs require extended interrupt mode enabled on the iommu device');
  }
}
