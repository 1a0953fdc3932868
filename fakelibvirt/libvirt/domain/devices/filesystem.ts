/**
 * `<filesystem>`: virDomainFSDefParseXML (conf/domain_conf.c) in its order of reads, the common
 * post-parse (accessmode passthrough unless a vhost-user socket is given) and validation
 * (virDomainFSDefValidate, virDomainDefFSValidate), the QEMU driver's rules
 * (qemuValidateDomainDeviceDefFS), and the canonical form virDomainFSDefFormat writes.
 */
import type { XmlNode } from '../../xml-tree.ts';
import { child } from '../../xml-tree.ts';
import type { VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { strToInt, strToULongLong } from '../c-numbers.ts';
import { getTop, node, type DomainDraft } from '../draft.ts';
import { ownText7, prop, propEnum, propTristateSwitch, propUInt, unsupportedDomain } from '../props.ts';
import { attrString, parseScaledValue, scaleInteger, stringOf } from '../scaled.ts';
import { cpuOf } from '../cpu.ts';
import { confError, domainXmlError, parseDeviceInfo, qemuUnsupported, unsupported, virtioOptions } from './device-info.ts';
import { STORAGE_FORMATS } from './disk.ts';
import { AFTER_7_0, ruleApplies } from '../since.ts';

/** virDomainFS, virDomainFSDriver, virDomainFSAccessMode, … in libvirt's order. */
const FS_TYPES = ['mount', 'block', 'file', 'template', 'ram', 'bind', 'volume'] as const;
const FS_DRIVERS = ['default', 'path', 'handle', 'loop', 'nbd', 'ploop', 'virtiofs'] as const;
const ACCESS_MODES = ['', 'passthrough', 'mapped', 'squash'] as const;
const WRPOLICIES = ['default', 'immediate'] as const;
const FS_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const MULTIDEVS = ['default', 'remap', 'forbid', 'warn'] as const;
const CACHE_MODES = ['default', 'none', 'always'] as const;
const SANDBOX_MODES = ['default', 'namespace', 'chroot'] as const;
const POOL_MODES = ['default', 'host', 'direct'] as const;

const VIR_ERR_NO_SOURCE = 19 as VirErrorNumber;
const VIR_ERR_NO_TARGET = 20 as VirErrorNumber;
const ULLONG_MAX = 2n ** 64n - 1n;

interface FsModel {
  type: (typeof FS_TYPES)[number];
  accessmode: string;
  model?: string;
  multidevs?: string;
  fmode?: number;
  dmode?: number;
  driver?: string;
  format?: string;
  wrpolicy?: string;
  queue?: bigint;
  virtio: Record<string, string | undefined>;
  binary?: { path?: string; xattr?: string; cache?: string; sandbox?: string; posix?: string; flock?: string; threadPool?: number };
  source?: string;
  sock?: string;
  usageBytes?: bigint;
  pool?: { pool?: string; volume?: string; mode?: string };
  dst?: string;
  readonly: boolean;
  info: XmlNode[];
  bootOrder?: number;
  spaceHard?: bigint;
  spaceSoft?: bigint;
}

const MODELS = new WeakMap<XmlNode, FsModel>();

const SOURCE_ATTR: Partial<Record<FsModel['type'], string>> = { mount: 'dir', bind: 'dir', file: 'file', block: 'dev', template: 'name' };

export function parseFilesystem(input: XmlNode, d: DomainDraft): XmlNode {
  const type = propEnum(input, 'type', FS_TYPES, ownText7(d.ctx, (v) => unsupportedDomain(`unknown filesystem type '${v}'`))) ?? 'mount';
  // 7.0 had no '' entry: '' and any unknown mode got its own text (measured).
  const accessmode = propEnum(input, 'accessmode', ACCESS_MODES, {
    ownText: { ctx: d.ctx, until: AFTER_7_0, error: (v) => unsupported(`unknown accessmode '${v}'`) },
  }) ?? '';
  if (accessmode === '' && input.attrs.accessmode === '' && ruleApplies('emptyEnumIsUnknown', d.ctx)) {
    throw unsupported("unknown accessmode ''");
  }
  const fmode = octalMode(input, 'fmode');
  const dmode = octalMode(input, 'dmode');
  const model = propEnum(input, 'model', FS_MODELS, { nonzero: true, ...ownText7(d.ctx, (v) => unsupportedDomain(`unknown model '${v}'`)) });
  const multidevs = propEnum(input, 'multidevs', MULTIDEVS, ownText7(d.ctx, (v) => unsupportedDomain(`unknown multidevs '${v}'`)));
  const m: FsModel = {
    type, accessmode, fmode, dmode, model, multidevs: multidevs === 'default' ? undefined : multidevs, virtio: {}, readonly: false, info: [],
  };
  m.spaceHard = scaled(input, 'space_hard_limit');
  m.spaceSoft = scaled(input, 'space_soft_limit');
  let usage: string | undefined;
  let units: string | undefined;
  const src = child(input, 'source');
  if (src) {
    m.sock = prop(src, 'socket');
    const attr = SOURCE_ATTR[type];
    if (attr) m.source = prop(src, attr);
    else if (type === 'ram') [usage, units] = [prop(src, 'usage'), prop(src, 'units')];
    else if (type === 'volume') m.pool = parsePool(src);
  }
  m.dst = attrString(child(input, 'target'), 'dir');
  m.readonly = child(input, 'readonly') !== undefined;
  const drv = child(input, 'driver');
  if (drv) {
    const t = propEnum(drv, 'type', FS_DRIVERS, ownText7(d.ctx, (v) => unsupportedDomain(`unknown fs driver type '${v}'`)));
    m.driver = t === 'default' ? undefined : t;
    const w = propEnum(drv, 'wrpolicy', WRPOLICIES, ownText7(d.ctx, (v) => unsupportedDomain(`unknown filesystem write policy '${v}'`)));
    m.wrpolicy = w === 'default' ? undefined : w;
    const format = prop(drv, 'format');
    if (format !== undefined) {
      if (STORAGE_FORMATS.indexOf(format as (typeof STORAGE_FORMATS)[number]) <= 0) throw unsupported(`unknown driver format value '${format}'`);
      m.format = format;
    }
    m.virtio = virtioOptions(drv);
  }
  if (m.driver === 'virtiofs') parseVirtiofs(input, m);
  if (m.source === undefined && type !== 'ram' && type !== 'volume' && m.sock === undefined) {
    throw confError(VIR_ERR_NO_SOURCE, m.dst === undefined ? 'missing source information' : `missing source information for device ${m.dst}`);
  }
  if (type === 'ram') {
    if (usage === undefined) throw domainXmlError("missing 'usage' attribute for RAM filesystem");
    const n = strToULongLong(usage, 10);
    if (n === null) throw domainXmlError(`cannot parse usage '${usage}' for RAM filesystem`);
    m.usageBytes = scaleInteger(n, units, 1024n, ULLONG_MAX);
  }
  const info = parseDeviceInfo(input, { boot: true });
  m.info = info.nodes;
  m.bootOrder = info.bootOrder;
  // virDomainFSDefPostParse: no access mode and no vhost-user socket means passthrough.
  if (m.accessmode === '' && m.sock === undefined) m.accessmode = 'passthrough';
  const out = formatFilesystem(m);
  MODELS.set(out, m);
  return out;
}

/** fmode/dmode: octal, at most 0777 (printed back as 0%o). */
function octalMode(n: XmlNode, name: 'fmode' | 'dmode'): number | undefined {
  const v = propUInt(n, name, 8);
  if (v !== undefined && v > 0o777) throw domainXmlError(`invalid ${name}: '0${v.toString(8)}'`);
  return v || undefined;
}

function scaled(input: XmlNode, name: string): bigint | undefined {
  const el = child(input, name);
  const v = parseScaledValue(`./${name}[1]`, stringOf(el), attrString(el, 'unit'), 1n, ULLONG_MAX, false);
  return v || undefined;
}

/** virDomainDiskSourcePoolDefParse. */
function parsePool(src: XmlNode): FsModel['pool'] {
  const pool = prop(src, 'pool');
  const volume = prop(src, 'volume');
  if (pool === undefined && volume === undefined) return undefined;
  if (pool === undefined || volume === undefined) throw domainXmlError("'pool' and 'volume' must be specified together for 'pool' type source");
  const mode = propEnum(src, 'mode', POOL_MODES, { nonzero: true });
  return { pool, volume, mode };
}

function parseVirtiofs(input: XmlNode, m: FsModel): void {
  const queue = attrString(child(input, 'driver'), 'queue');
  const bin = child(input, 'binary');
  const pool = attrString(bin && child(bin, 'thread_pool'), 'size');
  if (queue !== undefined) {
    const q = strToULongLong(queue, 10);
    if (q === null) throw domainXmlError(`cannot parse queue size '${queue}' for virtiofs`);
    m.queue = q || undefined;
  }
  let threadPool: number | undefined;
  if (pool !== undefined) {
    const t = strToInt(pool, 10);
    if (t === null) throw domainXmlError(`cannot parse thread pool size '${pool}' for virtiofs`);
    threadPool = t;
  }
  const path = attrString(bin, 'path');
  const lock = bin && child(bin, 'lock');
  const cache = bin && child(bin, 'cache');
  const sandbox = bin && child(bin, 'sandbox');
  m.binary = {
    path: path === undefined ? undefined : sanitizePath(path),
    xattr: bin && propTristateSwitch(bin, 'xattr'),
    posix: lock && propTristateSwitch(lock, 'posix'),
    flock: lock && propTristateSwitch(lock, 'flock'),
    cache: cache && propEnum(cache, 'mode', CACHE_MODES, { nonzero: true }),
    sandbox: sandbox && propEnum(sandbox, 'mode', SANDBOX_MODES, { nonzero: true }),
    threadPool,
  };
}

/** virFileSanitizePath: repeated slashes collapse (a leading '//' stays), '/./' and a trailing '/' go. */
function sanitizePath(p: string): string {
  const lead = p.startsWith('//') && !p.startsWith('///') ? '/' : '';
  let out = p.replace(/\/{2,}/g, '/').replace(/\/(\.\/)+/g, '/');
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return lead + out;
}

function formatFilesystem(m: FsModel): XmlNode {
  const b = m.binary;
  const driverAttrs = {
    type: m.driver,
    ...(m.driver !== undefined ? { format: m.format, wrpolicy: m.wrpolicy, queue: m.queue?.toString() } : {}),
    ...m.virtio,
  };
  const lock = b && (b.posix !== undefined || b.flock !== undefined) && node('lock', { posix: b.posix, flock: b.flock });
  const binKids = b
    ? [
        b.cache !== undefined && node('cache', { mode: b.cache }),
        b.sandbox !== undefined && node('sandbox', { mode: b.sandbox }),
        lock,
        b.threadPool !== undefined && b.threadPool >= 0 && node('thread_pool', { size: b.threadPool }),
      ]
    : [];
  const binary = b && (b.path !== undefined || b.xattr !== undefined || binKids.some(Boolean)) && node('binary', { path: b.path, xattr: b.xattr }, binKids);
  const hasDriver = Object.values(driverAttrs).some((v) => v !== undefined);
  return node(
    'filesystem',
    {
      type: m.type,
      accessmode: m.accessmode === '' ? undefined : m.accessmode,
      model: m.model,
      multidevs: m.multidevs,
      fmode: m.fmode && m.fmode.toString(8).padStart(4, '0'),
      dmode: m.dmode && m.dmode.toString(8).padStart(4, '0'),
    },
    [
      hasDriver && node('driver', driverAttrs),
      binary,
      sourceNode(m),
      m.dst !== undefined && node('target', { dir: m.dst }),
      m.readonly && node('readonly'),
      ...m.info,
      m.spaceHard !== undefined && node('space_hard_limit', { unit: 'bytes' }, [], m.spaceHard.toString()),
      m.spaceSoft !== undefined && node('space_soft_limit', { unit: 'bytes' }, [], m.spaceSoft.toString()),
    ],
  );
}

function sourceNode(m: FsModel): XmlNode | undefined {
  switch (m.type) {
    case 'mount':
    case 'bind':
      return m.sock === undefined ? m.source !== undefined ? node('source', { dir: m.source }) : node('source') : node('source', { socket: m.sock });
    case 'block':
      return m.source !== undefined ? node('source', { dev: m.source }) : node('source');
    case 'file':
      return m.source !== undefined ? node('source', { file: m.source }) : node('source');
    case 'template':
      return m.source !== undefined ? node('source', { name: m.source }) : node('source');
    case 'ram':
      return node('source', { usage: ((m.usageBytes ?? 0n) / 1024n).toString(), units: 'KiB' });
    case 'volume':
      return node('source', { pool: m.pool?.pool, volume: m.pool?.volume });
  }
}

/** virDomainFSDefValidate, then qemuValidateDomainDeviceDefFS. */
export function validateFilesystem(fs: XmlNode, d: DomainDraft): void {
  const m = MODELS.get(fs);
  if (!m) return;
  if (m.dst === undefined) {
    const source = m.source ?? m.sock;
    throw confError(VIR_ERR_NO_TARGET, source === undefined ? 'missing target information' : `missing target information for device ${source}`);
  }
  if (m.bootOrder && m.driver !== 'virtiofs') throw unsupported('boot order is only supported for virtiofs');
  if (m.type !== 'mount') throw qemuUnsupported('only supports mount filesystem type');
  // QEMU 7.2 has fsdev multidevs; the daemon runs privileged, so virtiofs is not refused for session mode.
  if ((m.fmode || m.dmode) && m.accessmode !== 'mapped') throw qemuUnsupported('fmode and dmode must be used with accessmode=mapped');
  if (m.driver !== 'virtiofs' && m.binary?.sandbox !== undefined) throw qemuUnsupported('sandbox can only be used with driver=virtiofs');
  switch (m.driver) {
    case 'handle':
      if (m.accessmode !== 'passthrough') throw qemuUnsupported('only supports passthrough accessmode');
      break;
    case 'loop':
    case 'nbd':
    case 'ploop':
      throw qemuUnsupported('Filesystem driver type not supported');
    case 'virtiofs':
      if (m.sock === undefined) {
        if (m.readonly) throw qemuUnsupported('virtiofs does not yet support read-only mode');
        if (m.accessmode !== 'passthrough') throw qemuUnsupported('virtiofs only supports passthrough accessmode');
        if (m.wrpolicy !== undefined) throw qemuUnsupported('virtiofs does not support wrpolicy');
      }
      if (m.model !== undefined) throw qemuUnsupported('virtiofs does not support model');
      if (m.format !== undefined) throw qemuUnsupported('virtiofs does not support format');
      if (m.multidevs !== undefined) throw qemuUnsupported('virtiofs does not support multidevs');
      if (m.fmode || m.dmode) throw qemuUnsupported('virtiofs does not support fmode and dmode');
      requireSharedMemory(d, 'virtiofs');
      break;
  }
}

/** virDomainDefFSValidate: two virtiofs filesystems may not share a target. */
export function validateFilesystemSet(d: DomainDraft): void {
  const seen = new Set<string>();
  for (const fs of d.devices) {
    const m = fs.name === 'filesystem' ? MODELS.get(fs) : undefined;
    if (m?.driver !== 'virtiofs' || m.dst === undefined) continue;
    if (seen.has(m.dst)) throw unsupported(`filesystem target '${m.dst}' specified twice`);
    seen.add(m.dst);
  }
}

/**
 * qemuValidateDomainDefVhostUserRequireSharedMemory: without NUMA cells the domain's memory access
 * must be shared (every x86 machine type of QEMU 7.2 has a default RAM id); with cells, each cell's
 * own access, or the domain's when the cell has none, must be.
 */
export function requireSharedMemory(d: DomainDraft, what: string): void {
  const mb = getTop(d, 'memoryBacking');
  const shared = (mb && child(mb, 'access')?.attrs.mode) === 'shared';
  const cells = cpuOf(d)?.cells ?? [];
  const refused = () => qemuUnsupported(`'${what}' requires shared memory`);
  if (cells.length === 0 && !shared) throw refused();
  for (const c of cells) {
    const access = c.attrs.memAccess;
    if (access === 'private' || (access === undefined && !shared)) throw refused();
  }
}
