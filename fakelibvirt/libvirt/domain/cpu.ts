/**
 * The guest `<cpu>` as libvirt parses it (conf/cpu_conf.c virCPUDefParseXML, numa_conf.c for its
 * cells) and as the QEMU driver completes it in post-parse (qemuDomainDefSetDefaultCPU and
 * qemuDomainDefCPUPostParse): mode, match/check/migratable defaults, model fallback, topology,
 * features, and the default qemu64 model an x86 guest gets when it names none.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { bitmapError, formatBitmap, parseBitmap } from './bitmap.ts';
import { getTop, inputFirst, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { ownText7, propEnum, propInt, propTristateSwitch, propUInt } from './props.ts';
import { knownValues, type Since } from './since.ts';
import { attrString, parseMemoryKiB, stringOf } from './scaled.ts';

/** virCPUMode, virCPUMatch, virCPUCheck, virCPUFallback, virCPUFeaturePolicy (VIR_ENUM_IMPL order). */
const CPU_MODES = ['custom', 'host-model', 'host-passthrough', 'maximum'] as const;
/** formatdomain.rst: maximum "Since 7.1.0 with the QEMU driver" (7.0 refuses it, measured). */
const CPU_MODES_SINCE: Since = { maximum: [7, 1, 0] };
const CPU_MATCH = ['minimum', 'exact', 'strict'] as const;
const CPU_CHECK = ['default', 'none', 'partial', 'full'] as const;
const CPU_FALLBACK = ['allow', 'forbid'] as const;
const FEATURE_POLICIES = ['force', 'require', 'optional', 'disable', 'forbid'] as const;
/** virCPUCacheMode, virCPUMaxPhysAddrMode (VIR_ENUM_IMPL order). */
const CACHE_MODES = ['emulate', 'passthrough', 'disable'] as const;
const MAXPHYSADDR_MODES = ['emulate', 'passthrough'] as const;
/** virDomainMemoryAccess, virTristateBool for a cell's memAccess / discard. */
const CELL_MEM_ACCESS = ['default', 'shared', 'private'] as const;

const cpuError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.CPU, detail);
const domainError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, detail);

export interface CpuState {
  mode: (typeof CPU_MODES)[number];
  match: string | undefined;
  check: string | undefined;
  migratable: string | undefined;
  model: string | undefined;
  fallback: string | undefined;
  vendorId: string | undefined;
  vendor: string | undefined;
  topology: { sockets: number; dies: number; cores: number; threads: number } | undefined;
  /** `<cache>` (level -1 when absent) and `<maxphysaddr>` (bits -1 when absent). */
  cache: { level: number; mode: (typeof CACHE_MODES)[number] } | undefined;
  maxphysaddr: { mode: (typeof MAXPHYSADDR_MODES)[number]; bits: number } | undefined;
  features: XmlNode[];
  cells: { id: number; cpus: Set<number>; memory: bigint; attrs: Record<string, string | undefined> }[];
}

const cpus = new WeakMap<DomainDraft, CpuState>();

export const cpuOf = (d: DomainDraft): CpuState | undefined => cpus.get(d);

/** virCPUDefParseXML for `./cpu[1]` of a guest. */
export const parseCpu: DraftStep = (d) => {
  const el = inputFirst(d, 'cpu');
  if (!el) return;
  const modeText = el.attrs.mode;
  const mode = modeText === undefined ? 'custom' : (knownValues(CPU_MODES, CPU_MODES_SINCE, d.ctx) as readonly string[]).includes(modeText) ? (modeText as CpuState['mode']) : undefined;
  if (mode === undefined) throw cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, `Invalid mode attribute '${modeText}'`);
  const migratable = propTristateSwitch(el, 'migratable', ownText7(d.ctx, (v) => cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, `Invalid value in migratable attribute: '${v}'`)));
  if (migratable !== undefined && mode !== 'host-passthrough' && mode !== 'maximum') {
    throw cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode");
  }
  const match = propEnum(el, 'match', CPU_MATCH, ownText7(d.ctx, () => cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, 'Invalid match attribute for CPU specification')));
  const check = propEnum(el, 'check', CPU_CHECK, ownText7(d.ctx, () => cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, 'Invalid check attribute for CPU specification')));
  const modelEl = el.children.find((c) => c.name === 'model');
  const model = stringOf(modelEl);
  let fallback: string | undefined;
  let vendorId: string | undefined;
  if (mode !== 'host-passthrough' && mode !== 'maximum') {
    fallback = attrString(modelEl, 'fallback');
    if (fallback !== undefined && !(CPU_FALLBACK as readonly string[]).includes(fallback)) {
      throw cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, 'Invalid fallback attribute');
    }
    vendorId = attrString(modelEl, 'vendor_id');
    if (vendorId !== undefined && vendorId.length !== 12) throw cpuError(VirErrorNumber.XML_ERROR, 'vendor_id must be exactly 12 characters long');
    if (vendorId?.includes(',')) throw cpuError(VirErrorNumber.XML_ERROR, 'vendor id is invalid');
  }
  const vendor = stringOf(el.children.find((c) => c.name === 'vendor'));
  if (vendor !== undefined && model === undefined) throw cpuError(VirErrorNumber.XML_ERROR, 'CPU vendor specified without CPU model');
  const topoEl = el.children.find((c) => c.name === 'topology');
  const topology = topoEl && {
    sockets: propUInt(topoEl, 'sockets', 10, { required: true, nonzero: true })!,
    dies: propUInt(topoEl, 'dies', 10, { nonzero: true }) ?? 1,
    cores: propUInt(topoEl, 'cores', 10, { required: true, nonzero: true })!,
    threads: propUInt(topoEl, 'threads', 10, { required: true, nonzero: true })!,
  };
  const features = parseFeatures(el, mode, model);
  const cache = parseCache(el);
  const physEl = el.children.find((c) => c.name === 'maxphysaddr');
  const maxphysaddr = physEl && {
    mode: propEnum(physEl, 'mode', MAXPHYSADDR_MODES, { required: true })!,
    bits: propInt(physEl, 'bits', 10, { nonnegative: true }) ?? -1,
  };
  const cells = parseNumaCells(el);
  cpus.set(d, { mode, match, check, migratable, model, fallback, vendorId, vendor, topology, cache, maxphysaddr, features, cells });
};

/** virCPUDefParseXMLCache: at most one `<cache>`, level 1..3 when given, mode required. */
function parseCache(el: XmlNode): CpuState['cache'] {
  const nodes = el.children.filter((c) => c.name === 'cache');
  if (nodes.length === 0) return undefined;
  if (nodes.length > 1) throw cpuError(VirErrorNumber.XML_ERROR, 'at most one CPU cache element may be specified');
  const el0 = nodes[0]!;
  const level = propInt(el0, 'level', 10, { nonnegative: true }) ?? -1;
  if (level !== -1 && (level < 1 || level > 3)) throw cpuError(VirErrorNumber.XML_ERROR, 'invalid CPU cache level, must be in range [1,3]');
  const mode = propEnum(el0, 'mode', CACHE_MODES, { required: true })!;
  return { level, mode };
}

function parseFeatures(el: XmlNode, mode: string, model: string | undefined): XmlNode[] {
  const nodes = el.children.filter((c) => c.name === 'feature');
  if (nodes.length > 0 && model === undefined && mode === 'custom') {
    throw cpuError(VirErrorNumber.XML_ERROR, 'Non-empty feature list specified without CPU model');
  }
  const out: XmlNode[] = [];
  const seen = new Set<string>();
  for (const f of nodes) {
    const p = f.attrs.policy;
    if (p !== undefined && !(FEATURE_POLICIES as readonly string[]).includes(p)) throw cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, 'Invalid CPU feature policy');
    const name = f.attrs.name;
    if (!name) throw cpuError(VirErrorNumber.XML_ERROR, 'Invalid CPU feature name');
    if (seen.has(name)) throw cpuError(VirErrorNumber.XML_ERROR, `CPU feature '${name}' specified more than once`);
    seen.add(name);
    out.push(node('feature', { policy: p ?? 'require', name }));
  }
  return out;
}

/** virDomainNumaDefParseXML's cells (memory scaled, cpus a bitmap, ids contiguous from 0). */
function parseNumaCells(el: XmlNode): CpuState['cells'] {
  const numa = el.children.find((c) => c.name === 'numa');
  const cellNodes = numa?.children.filter((c) => c.name === 'cell') ?? [];
  const cells: CpuState['cells'] = [];
  const ids = new Set<number>();
  cellNodes.forEach((c, i) => {
    const id = propUInt(c, 'id', 10) ?? i;
    if (id >= cellNodes.length) {
      throw domainError(VirErrorNumber.XML_ERROR, "Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed");
    }
    if (ids.has(id)) throw domainError(VirErrorNumber.XML_ERROR, `Duplicate NUMA cell info for cell id '${id}'`);
    ids.add(id);
    let set = new Set<number>();
    const cpusText = c.attrs.cpus;
    if (cpusText !== undefined) {
      const bits = parseBitmap(cpusText);
      if (bits === null) throw bitmapError(cpusText);
      set = bits;
    }
    for (const other of cells) {
      if ([...set].some((b) => other.cpus.has(b))) {
        throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `NUMA cells ${id} and ${other.id} have overlapping vCPU ids`);
      }
    }
    const memory = parseMemoryKiB('./@memory', attrString(c, 'memory'), attrString(c, 'unit'), true);
    const memAccess = propEnum(c, 'memAccess', CELL_MEM_ACCESS, { nonzero: true });
    const discard = c.attrs.discard === undefined ? undefined : propEnum(c, 'discard', ['absent', 'yes', 'no'], { nonzero: true });
    cells.push({ id, cpus: set, memory, attrs: { memAccess, discard } });
  });
  return cells;
}

/** The vCPU checks against the NUMA cells, made right after they are parsed. */
export function checkNumaAgainstVcpus(d: DomainDraft, maxVcpus: number): void {
  const cells = cpus.get(d)?.cells ?? [];
  let total = 0;
  let maxId = 0;
  for (const c of cells) {
    total += c.cpus.size;
    for (const b of c.cpus) maxId = Math.max(maxId, b);
  }
  if (total > maxVcpus) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'Number of CPUs in <numa> exceeds the <vcpu> count');
  if (maxId >= maxVcpus) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'CPU IDs in <numa> exceed the <vcpu> count');
}

/**
 * The QEMU driver's CPU post-parse: an x86 guest without a CPU model gets qemu64 (fallback forbid,
 * match exact, check none); check and migratable take their per-mode defaults.
 */
export const postParseCpu: DraftStep = (d) => {
  let c = cpus.get(d);
  const arch = inputFirst(d, 'os')?.children.find((k) => k.name === 'type')?.attrs.arch ?? 'x86_64';
  const x86 = arch === 'x86_64' || arch === 'i686';
  if (x86 && (!c || (c.mode === 'custom' && c.model === undefined))) {
    c ??= { mode: 'custom', match: undefined, check: undefined, migratable: undefined, model: undefined, fallback: undefined, vendorId: undefined, vendor: undefined, topology: undefined, cache: undefined, maxphysaddr: undefined, features: [], cells: [] };
    c.model = arch === 'i686' ? 'qemu32' : 'qemu64';
    c.fallback = 'forbid';
    c.match ??= 'exact';
    c.check ??= 'none';
    cpus.set(d, c);
  }
  if (!c) return;
  if (c.mode === 'custom' && c.model === undefined && c.check !== undefined && c.check !== 'default') {
    throw cpuError(VirErrorNumber.CONFIG_UNSUPPORTED, 'check attribute specified for CPU with no model');
  }
  if (c.check === undefined || c.check === 'default') c.check = c.mode === 'host-model' ? 'partial' : c.mode === 'custom' && c.model === undefined ? undefined : 'none';
  if (c.mode === 'host-passthrough' && c.migratable === undefined) c.migratable = 'on';
  setTop(d, 'cpu', formatCpu(c));
};

/** virCPUDefFormatBufFull for a guest CPU, with its NUMA cells. */
function formatCpu(c: CpuState): XmlNode {
  const withAttrs = c.mode !== 'custom' || c.model !== undefined;
  const formatModel = c.mode === 'custom' || c.mode === 'host-model';
  const attrs = withAttrs
    ? {
        mode: c.mode,
        match: c.mode === 'custom' ? (c.match ?? 'exact') : undefined,
        check: c.check,
        migratable: c.mode === 'host-passthrough' || c.mode === 'maximum' ? c.migratable : undefined,
      }
    : {};
  const t = c.topology;
  const cells = [...c.cells].sort((a, b) => a.id - b.id);
  return node('cpu', attrs, [
    formatModel && (c.model !== undefined || c.vendorId !== undefined) &&
      (c.model !== undefined
        ? textNode('model', c.model, { fallback: c.fallback ?? 'allow', vendor_id: c.vendorId })
        : node('model', { vendor_id: c.vendorId })),
    formatModel && c.vendor !== undefined && textNode('vendor', c.vendor),
    t && node('topology', { sockets: t.sockets, dies: t.dies, cores: t.cores, threads: t.threads }),
    c.cache && node('cache', { level: c.cache.level === -1 ? undefined : c.cache.level, mode: c.cache.mode }),
    c.maxphysaddr && node('maxphysaddr', { mode: c.maxphysaddr.mode, bits: c.maxphysaddr.bits === -1 ? undefined : c.maxphysaddr.bits }),
    ...c.features,
    cells.length > 0 &&
      node('numa', {}, cells.map((cell) => node('cell', { id: cell.id, cpus: formatBitmap(cell.cpus), memory: String(cell.memory), unit: 'KiB', ...cell.attrs }))),
  ]);
}

/** The vCPU count the topology describes (virDomainDefGetVcpusTopology); undefined without one. */
export function topologyVcpus(d: DomainDraft): number | undefined {
  const t = cpus.get(d)?.topology;
  if (!t) return undefined;
  const n = BigInt(t.sockets) * BigInt(t.dies) * BigInt(t.cores) * BigInt(t.threads);
  if (n > 4294967295n) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, 'cpu topology results in more than 4294967295 cpus');
  return Number(n);
}

export const hasNuma = (d: DomainDraft): boolean => (getTop(d, 'cpu')?.children ?? []).some((c) => c.name === 'numa');

/** qemuValidateDomainDefCpu's `<maxphysaddr>` and `<cache>` rules (x86 only, per-mode constraints). */
export const validateCpuQemu: DraftStep = (d) => {
  const c = cpus.get(d);
  if (!c) return;
  const arch = inputFirst(d, 'os')?.children.find((k) => k.name === 'type')?.attrs.arch ?? 'x86_64';
  const x86 = arch === 'x86_64' || arch === 'i686';
  const unsupported = (m: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, m);
  const addr = c.maxphysaddr;
  if (addr) {
    if (!x86) throw unsupported(`CPU maximum physical address bits specification is not supported for '${arch}' architecture`);
    if (addr.mode === 'passthrough' && addr.bits !== -1) {
      throw unsupported("CPU maximum physical address bits number specification cannot be used with mode='passthrough'");
    }
    if (addr.mode === 'emulate') {
      // The bits are compared with the host CPU's only once the driver has probed it (driver->hostcpu),
      // which a define does not do: libvirt 9.0 measured accepting bits='60' on the oracle.
      if (addr.bits === -1) throw unsupported("if using CPU maximum physical address mode='emulate', bits= must be specified too");
    }
  }
  const cache = c.cache;
  if (cache) {
    if (!x86) throw unsupported(`CPU cache specification is not supported for '${arch}' architecture`);
    if (cache.mode === 'emulate' && cache.level !== 3) throw unsupported("CPU cache mode 'emulate' can only be used with level='3'");
    if (cache.mode === 'passthrough' && c.mode !== 'host-passthrough' && c.mode !== 'maximum') {
      throw unsupported("CPU cache mode 'passthrough' can only be used with 'host-passthrough' / 'maximum' CPUs");
    }
    if (cache.mode !== 'emulate' && cache.level !== -1) throw unsupported(`unsupported CPU cache level for mode '${cache.mode}'`);
  }
};
