/**
 * Guest memory as libvirt parses it (conf/domain_conf.c virDomainDefParseMemory and the memory half
 * of virDomainDefTunablesParse, domain_postparse.c virDomainDefPostParseMemory): sizes are scaled
 * integers stored in KiB (rounded up), formatted back with unit='KiB'; currentMemory defaults to
 * the total; memoryBacking, memtune and blkiotune keep only what libvirt models.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { bitmapError, formatBitmap, parseBitmap } from './bitmap.ts';
import { cpuOf } from './cpu.ts';
import { strToUInt, strToUIntPositive, strToULongLong } from './c-numbers.ts';
import { getTop, inputAll, inputFirst, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { propTristateSwitch } from './props.ts';
import { attrString, elementKiB, parseMemoryKiB, parseMemoryLimitKiB, stringOf } from './scaled.ts';

/** virDomainMemorySource, virDomainMemoryAccess, virDomainMemoryAllocation (index 0 refused). */
const MEMORY_SOURCES = ['none', 'file', 'anonymous', 'memfd'] as const;
const MEMORY_ACCESS = ['default', 'shared', 'private'] as const;
const MEMORY_ALLOCATION = ['none', 'immediate', 'ondemand'] as const;

interface MemoryState {
  total: bigint;
  current: bigint;
  max: bigint;
  slots: number;
  dumpCore: string | undefined;
}

const state = new WeakMap<DomainDraft, MemoryState>();

const domainError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, detail);

/** The first `child` under any of the `parents` (XPath `./parent/child[1]` read by string()). */
function firstUnder(parents: readonly XmlNode[], child: string): XmlNode | undefined {
  for (const p of parents) {
    const c = p.children.find((k) => k.name === child);
    if (c) return c;
  }
  return undefined;
}

/** virXPathUInt on an attribute: undefined when absent or empty, null when not a number. */
function uintAttr(n: XmlNode | undefined, name: string): number | undefined | null {
  const v = attrString(n, name);
  return v === undefined ? undefined : strToUIntPositive(v, 10);
}

export const parseMemory: DraftStep = (d) => {
  const memNode = inputFirst(d, 'memory');
  const total = elementKiB('./memory[1]', memNode);
  const current = elementKiB('./currentMemory[1]', inputFirst(d, 'currentMemory'));
  const max = elementKiB('./maxMemory[1]', inputFirst(d, 'maxMemory'));
  const slots = uintAttr(inputFirst(d, 'maxMemory'), 'slots');
  if (slots === null) throw domainError(VirErrorNumber.XML_ERROR, 'Failed to parse memory slot count');
  const dumpCore = memNode ? propTristateSwitch(memNode, 'dumpCore') : undefined;
  state.set(d, { total, current, max, slots: slots ?? 0, dumpCore });
  parseMemoryBacking(d);
};

function backingEnum(backings: XmlNode[], child: string, attr: string, table: readonly string[]): string | undefined {
  const v = attrString(firstUnder(backings, child), attr);
  if (v === undefined) return undefined;
  if (table.indexOf(v) <= 0) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `unknown memoryBacking/${child}/${attr} '${v}'`);
  return v;
}

/** `<memoryBacking>`: every `./memoryBacking/...` path reads across all memoryBacking elements. */
function parseMemoryBacking(d: DomainDraft): void {
  const backings = inputAll(d, 'memoryBacking');
  const source = backingEnum(backings, 'source', 'type', MEMORY_SOURCES);
  const access = backingEnum(backings, 'access', 'mode', MEMORY_ACCESS);
  const allocation = backingEnum(backings, 'allocation', 'mode', MEMORY_ALLOCATION);
  const threads = uintAttr(firstUnder(backings, 'allocation'), 'threads');
  if (threads === null) throw domainError(VirErrorNumber.XML_ERROR, 'Failed to parse memory allocation threads');

  const kids: XmlNode[] = [];
  const hugepages = backings.flatMap((b) => b.children.filter((c) => c.name === 'hugepages'));
  if (hugepages.length > 0) {
    const pages = hugepages.flatMap((h) => h.children.filter((c) => c.name === 'page')).map(parseHugepage);
    kids.push(node('hugepages', {}, pages));
  }
  const has = (name: string) => backings.some((b) => b.children.some((c) => c.name === name));
  if (has('nosharepages')) kids.push(node('nosharepages'));
  if (has('locked')) kids.push(node('locked'));
  if (source) kids.push(node('source', { type: source }));
  if (access) kids.push(node('access', { mode: access }));
  if (allocation || threads) kids.push(node('allocation', { mode: allocation, threads: threads || undefined }));
  if (has('discard')) kids.push(node('discard'));
  setTop(d, 'memoryBacking', ...(kids.length > 0 ? [node('memoryBacking', {}, kids)] : []));
}

/** virDomainHugepagesParseXML: size (scaled by `unit`, required, non-zero) and an optional nodeset. */
function parseHugepage(page: XmlNode): XmlNode {
  const size = parseMemoryKiB('./@size', attrString(page, 'size'), attrString(page, 'unit'), true);
  if (size === 0n) throw LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.DOMAIN, "hugepage size can't be zero");
  const nodeset = page.attrs.nodeset;
  let formatted: string | undefined;
  if (nodeset !== undefined) {
    const bits = parseBitmap(nodeset);
    if (bits === null) throw bitmapError(nodeset);
    if (bits.size === 0) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `Invalid value of 'nodeset': ${nodeset}`);
    formatted = formatBitmap(bits);
  }
  return node('page', { size: String(size), unit: 'KiB', nodeset: formatted });
}

/** blkiotune and memtune, read at the start of virDomainDefTunablesParse. */
export const parseMemoryTunables: DraftStep = (d) => {
  parseBlkiotune(d);
  const tunes = inputAll(d, 'memtune');
  const limit = (name: string) => {
    const n = firstUnder(tunes, name);
    return parseMemoryLimitKiB(`./memtune/${name}[1]`, stringOf(n), attrString(n, 'unit'));
  };
  const hard = limit('hard_limit');
  const soft = limit('soft_limit');
  const minNode = firstUnder(tunes, 'min_guarantee');
  const min = parseMemoryKiB('./memtune/min_guarantee[1]', stringOf(minNode), attrString(minNode, 'unit'));
  const swap = limit('swap_hard_limit');
  const kib = (name: string, v: bigint | undefined) => v !== undefined && textNode(name, String(v), { unit: 'KiB' });
  const kids = [kib('hard_limit', hard), kib('soft_limit', soft), min > 0n && kib('min_guarantee', min), kib('swap_hard_limit', swap)];
  const memtune = node('memtune', {}, kids);
  setTop(d, 'memtune', ...(memtune.children.length > 0 ? [memtune] : []));
};

/** virDomainBlkioDeviceParseXML's number fields: name in the error, parser. */
const BLKIO_DEVICE_FIELDS = [
  ['weight', 'weight', (s: string) => strToUInt(s, 10)],
  ['read_bytes_sec', 'read bytes sec', (s: string) => strToULongLong(s, 10)],
  ['write_bytes_sec', 'write bytes sec', (s: string) => strToULongLong(s, 10)],
  ['read_iops_sec', 'read iops sec', (s: string) => strToUInt(s, 10)],
  ['write_iops_sec', 'write iops sec', (s: string) => strToUInt(s, 10)],
] as const;

/** The order libvirt formats a device's fields in. */
const BLKIO_DEVICE_FORMAT = ['weight', 'read_iops_sec', 'write_iops_sec', 'read_bytes_sec', 'write_bytes_sec'] as const;

function parseBlkiotune(d: DomainDraft): void {
  const tunes = inputAll(d, 'blkiotune');
  // A weight that is not an unsigned number is ignored, not refused (virXPathUInt < 0 → 0).
  const w = stringOf(firstUnder(tunes, 'weight'));
  const weight = w === undefined ? 0 : (strToUIntPositive(w, 10) ?? 0);
  const kids: XmlNode[] = [];
  if (weight) kids.push(textNode('weight', weight));
  for (const dev of tunes.flatMap((t) => t.children.filter((c) => c.name === 'device'))) {
    const path = stringOf(dev.children.find((c) => c.name === 'path'));
    if (path === undefined) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, 'missing per-device path');
    const values = new Map<string, string>();
    for (const [name, label, parse] of BLKIO_DEVICE_FIELDS) {
      const text = stringOf(dev.children.find((c) => c.name === name));
      if (text === undefined) continue;
      const v = parse(text);
      if (v === null) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `could not parse ${label} ${text}`);
      if (String(v) !== '0') values.set(name, String(v));
    }
    if (values.size === 0) continue;
    kids.push(node('device', {}, [textNode('path', path), ...BLKIO_DEVICE_FORMAT.map((f) => values.has(f) && textNode(f, values.get(f)!))]));
  }
  setTop(d, 'blkiotune', ...(kids.length > 0 ? [node('blkiotune', {}, kids)] : []));
}

/** Guest NUMA memory in KiB (the canonical `<cpu><numa>` cells). */
function numaMemoryKiB(d: DomainDraft): bigint {
  return (cpuOf(d)?.cells ?? []).reduce((sum, cell) => sum + cell.memory, 0n);
}

/** `<devices><memory>` modules' sizes in KiB (hot-pluggable DIMMs count towards the total). */
function hotplugMemoryKiB(d: DomainDraft): bigint {
  let sum = 0n;
  for (const devs of inputAll(d, 'devices')) {
    for (const m of devs.children) {
      if (m.name !== 'memory') continue;
      const size = m.children.find((c) => c.name === 'target')?.children.find((c) => c.name === 'size');
      try {
        sum += elementKiB('./size', size);
      } catch {
        // the device parser reports a malformed size
      }
    }
  }
  return sum;
}

/**
 * virDomainDefPostParseMemory: define allows ABI updates, so guest NUMA cells (when given) set
 * the total; a total of 0 is "not specified"; currentMemory above the total or 0 becomes the
 * total; maxMemory needs slots and must cover the total.
 */
export const postParse: DraftStep = (d) => {
  const m = state.get(d)!;
  const numa = numaMemoryKiB(d);
  const hotplug = hotplugMemoryKiB(d);
  if (numa > 0n) m.total = numa + hotplug;
  else if (hotplug > m.total) throw domainError(VirErrorNumber.XML_ERROR, 'Total size of memory devices exceeds the total memory size');
  if (m.total - hotplug === 0n) throw domainError(VirErrorNumber.XML_ERROR, 'Memory size must be specified via <memory> or in the <numa> configuration');
  if (m.current > m.total || m.current === 0n) m.current = m.total;
  if ((m.max || m.slots) && !(m.max && m.slots)) {
    throw domainError(VirErrorNumber.XML_ERROR, 'both maximum memory size and memory slot count must be specified');
  }
  if (m.max && m.max < m.total) {
    throw domainError(VirErrorNumber.XML_ERROR, 'maximum memory size must be equal or greater than the actual memory size');
  }
  if (m.max) setTop(d, 'maxMemory', textNode('maxMemory', String(m.max), { slots: m.slots, unit: 'KiB' }));
  setTop(d, 'memory', textNode('memory', String(m.total), { dumpCore: m.dumpCore, unit: 'KiB' }));
  setTop(d, 'currentMemory', textNode('currentMemory', String(m.current), { unit: 'KiB' }));
};

/** The total guest memory in KiB, once post-parse has settled it. */
export const memoryTotalKiB = (d: DomainDraft): bigint => state.get(d)?.total ?? 0n;

/** The QEMU driver's memory rules (qemuValidateDomainDef, qemuValidateDomainDefMemory). */
export const validate: DraftStep = (d) => {
  if (getTop(d, 'memtune')?.children.some((c) => c.name === 'min_guarantee')) {
    throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, "Parameter 'min_guarantee' not supported by QEMU.");
  }
  validateMemoryHotplug(d);
  const backing = getTop(d, 'memoryBacking');
  const hugepages = backing?.children.find((c) => c.name === 'hugepages');
  if (!backing || !hugepages) return;
  const attr = (child: string, a: string) => backing.children.find((c) => c.name === child)?.attrs[a];
  if (attr('allocation', 'mode') === 'ondemand') {
    throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'hugepages are not allowed with memory allocation ondemand');
  }
  if (attr('source', 'type') === 'anonymous') {
    throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'hugepages are not allowed with anonymous memory source');
  }
};

/** qemuDomainDefValidateMemoryHotplug without a device being added (x86: guest NUMA required). */
function validateMemoryHotplug(d: DomainDraft): void {
  const m = state.get(d)!;
  const qemuError = (detail: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, detail);
  const nmems = inputAll(d, 'devices').reduce((n, devs) => n + devs.children.filter((c) => c.name === 'memory').length, 0);
  if (!(m.max || m.slots)) {
    if (nmems) throw qemuError("cannot use/hotplug a memory device when domain 'maxMemory' is not defined");
    return;
  }
  if ((cpuOf(d)?.cells.length ?? 0) === 0) {
    throw qemuError('At least one numa node has to be configured when enabling memory hotplug');
  }
  if (nmems > m.slots) throw qemuError(`memory device count '${nmems}' exceeds slots count '${m.slots}'`);
  const hotplug = hotplugMemoryKiB(d);
  if (hotplug > m.max - (m.total - hotplug)) throw qemuError('memory device total size exceeds hotplug space');
}
