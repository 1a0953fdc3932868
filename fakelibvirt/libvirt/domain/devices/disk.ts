/**
 * `<disk>`: virDomainDiskDefParseXML (conf/domain_conf.c) in its order of reads, so the first error
 * is libvirt's; the model is kept beside the canonical node so post-parse (defaults, bus from the
 * target name, drive address) and validation can work on it, and the node is formatted again as
 * virDomainDiskDefFormat writes it.
 */
import type { XmlNode } from '../../xml-tree.ts';
import { child } from '../../xml-tree.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { strToULongLong, strToUIntPositive } from '../c-numbers.ts';
import { node, textNode, type DomainDraft } from '../draft.ts';
import { ownText7, prop, propEnum, propTristateBool, propTristateSwitch, propUInt, unsupportedDomain } from '../props.ts';
import { domainXmlError, parseDeviceInfo, unsupported, virtioOptions } from './device-info.ts';
import { AFTER_7_0, knownValues, type Since } from '../since.ts';

/** virStorageType. */
export const STORAGE_TYPES = ['none', 'file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'] as const;
/** virStorageFileFormat. */
export const STORAGE_FORMATS = [
  'none', 'raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop', 'cow', 'qcow', 'qcow2', 'qed', 'vmdk',
] as const;
const NET_PROTOCOLS = ['none', 'nbd', 'rbd', 'sheepdog', 'gluster', 'iscsi', 'http', 'https', 'ftp', 'ftps', 'tftp', 'ssh', 'vxhs', 'nfs'] as const;
const HOST_TRANSPORTS = ['tcp', 'unix', 'rdma'] as const;
const POOL_MODES = ['default', 'host', 'direct'] as const;
export const DISK_DEVICES = ['disk', 'cdrom', 'floppy', 'lun'] as const;
export const DISK_BUSES = ['none', 'ide', 'fdc', 'scsi', 'virtio', 'xen', 'usb', 'uml', 'sata', 'sd'] as const;
const DISK_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const SNAPSHOT_LOCATIONS = ['default', 'no', 'internal', 'external', 'manual'] as const;
/** NEWS 8.2.0 "Introduce manual disk snapshot mode" (7.0 refuses it, measured). */
const SNAPSHOT_LOCATIONS_SINCE: Since = { manual: [8, 2] };
const SGIO = ['default', 'filtered', 'unfiltered'] as const;
const STARTUP_POLICIES = ['default', 'mandatory', 'requisite', 'optional'] as const;
const TRAY = ['closed', 'open'] as const;
const CACHE = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
const ERROR_POLICIES = ['default', 'stop', 'report', 'ignore', 'enospace'] as const;
const IO = ['default', 'native', 'threads', 'io_uring'] as const;
const DISCARD = ['default', 'unmap', 'ignore'] as const;
const DETECT_ZEROES = ['default', 'off', 'on', 'unmap'] as const;
const GEOMETRY_TRANS = ['default', 'none', 'auto', 'lba'] as const;
/** The iotune children in virDomainDiskDefFormatIotune's order (size_iops_sec and group_name between). */
const IOTUNE = [
  'total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec', 'write_iops_sec',
  'total_bytes_sec_max', 'read_bytes_sec_max', 'write_bytes_sec_max', 'total_iops_sec_max', 'read_iops_sec_max', 'write_iops_sec_max',
  'size_iops_sec', 'group_name',
  'total_bytes_sec_max_length', 'read_bytes_sec_max_length', 'write_bytes_sec_max_length', 'total_iops_sec_max_length',
  'read_iops_sec_max_length', 'write_iops_sec_max_length',
] as const;

/** Default ports virStorageSourceNetworkAssignDefaultPorts fills in (0: none). */
const DEFAULT_PORTS: Partial<Record<string, number>> = {
  http: 80, https: 443, ftp: 21, ftps: 990, tftp: 69, sheepdog: 7000, nbd: 10809, ssh: 22, iscsi: 3260, gluster: 24007, vxhs: 9999,
};

export interface DiskModel {
  type: string;
  device: string;
  model?: string;
  rawio?: string;
  sgio?: string;
  snapshot?: string;
  /** The `<source>` attributes and children, already canonical (startupPolicy excluded). */
  sourceAttrs: Record<string, string | undefined>;
  sourceKids: XmlNode[];
  /** path, dev, dir, network name or pool/volume: what libvirt names the source in errors. */
  path?: string;
  pool?: { pool: string | undefined; volume: string | undefined };
  protocol?: string;
  startupPolicy?: string;
  driverName?: string;
  format?: string;
  driverAttrs: Record<string, string | number | undefined>;
  driverKids: XmlNode[];
  dst?: string;
  bus?: string;
  tray?: string;
  removable?: string;
  rotationRate?: number;
  geometry?: XmlNode;
  blockio?: XmlNode;
  iotune: Map<string, bigint | string>;
  readonly: boolean;
  shareable: boolean;
  transient?: { shareBacking?: string };
  serial?: string;
  wwn?: string;
  vendor?: string;
  product?: string;
  /** Kept as written: `<auth>`/`<encryption>` directly under `<disk>`, `<backenddomain>`. */
  extraAuth?: XmlNode;
  extraEncryption?: XmlNode;
  backenddomain?: string;
  info: XmlNode[];
  addressType?: string;
  bootOrder?: number;
  queues?: number;
  eventIdx?: string;
  ioeventfd?: string;
  virtio: Record<string, string | undefined>;
}

const MODELS = new WeakMap<XmlNode, DiskModel>();

/** The model behind a canonical `<disk>` node (undefined for nodes not made here). */
export const diskModelOf = (n: XmlNode): DiskModel | undefined => MODELS.get(n);

/** A disk parsed outside a define (no profile at hand) reads as the newest libvirt does. */
const NEWEST = { libvirtAtLeast: () => true };

export function parseDisk(input: XmlNode, d?: DomainDraft): XmlNode {
  const m = readDisk(input, d?.ctx ?? NEWEST);
  return formatDisk(m);
}

function readDisk(input: XmlNode, ctx: Pick<DomainDraft['ctx'], 'libvirtAtLeast'>): DiskModel {
  // virDomainDiskDefParseSourceXML first: the storage type, the source, readonly/shareable, auth.
  let type = propEnum(input, 'type', STORAGE_TYPES, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown disk type '${v}'`)) }) ?? 'file';
  const source = child(input, 'source');
  const m: DiskModel = {
    type, device: 'disk', sourceAttrs: {}, sourceKids: [], driverAttrs: {}, driverKids: [], iotune: new Map(),
    readonly: false, shareable: false, info: [], virtio: {},
  };
  if (source) readSource(source, m);
  else m.type = type = 'file';
  m.readonly = child(input, 'readonly') !== undefined;
  m.shareable = child(input, 'shareable') !== undefined;
  const auth = child(input, 'auth');
  if (auth) {
    if (m.sourceKids.some((k) => k.name === 'auth')) throw unsupported('an <auth> definition already found for disk source');
    m.extraAuth = auth;
  }
  const encryption = child(input, 'encryption');
  if (encryption) {
    if (m.sourceKids.some((k) => k.name === 'encryption')) throw unsupported('an <encryption> definition already found for disk source');
    m.extraEncryption = encryption;
  }

  m.device = propEnum(input, 'device', DISK_DEVICES) ?? 'disk';
  m.model = nonDefault(propEnum(input, 'model', DISK_MODELS, ownText7(ctx, (v) => unsupportedDomain(`unknown disk model '${v}'`))));
  m.snapshot = propEnum(input, 'snapshot', knownValues(SNAPSHOT_LOCATIONS, SNAPSHOT_LOCATIONS_SINCE, ctx), {
    nonzero: true,
    ownText: { ctx, until: AFTER_7_0, error: (v) => unsupported(`unknown disk snapshot setting '${v}'`) },
  });
  m.rawio = propTristateBool(input, 'rawio');
  m.sgio = propEnum(input, 'sgio', SGIO, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown disk sgio mode '${v}'`)) });
  if (source) m.startupPolicy = propEnum(source, 'startupPolicy', STARTUP_POLICIES, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown startupPolicy value '${v}'`)) });

  const target = child(input, 'target');
  if (target) {
    m.dst = prop(target, 'dev');
    m.bus = propEnum(target, 'bus', DISK_BUSES, { nonzero: true });
    m.tray = propEnum(target, 'tray', TRAY, ownText7(ctx, (v) => unsupportedDomain(`unknown disk tray status '${v}'`)));
    m.removable = propTristateSwitch(target, 'removable', ownText7(ctx, (v) => unsupportedDomain(`unknown disk removable status '${v}'`)));
    const rr = propUInt(target, 'rotation_rate', 10);
    if (rr) m.rotationRate = rr;
  }
  const geometry = child(input, 'geometry');
  if (geometry) {
    const cyls = propUInt(geometry, 'cyls', 10) ?? 0;
    const heads = propUInt(geometry, 'heads', 10) ?? 0;
    const secs = propUInt(geometry, 'secs', 10) ?? 0;
    const trans = nonDefault(propEnum(geometry, 'trans', GEOMETRY_TRANS, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`invalid translation value '${v}'`)) }));
    if (cyls > 0 && heads > 0 && secs > 0) m.geometry = node('geometry', { cyls, heads, secs, trans });
  }
  const blockio = child(input, 'blockio');
  if (blockio) {
    const logical = propUInt(blockio, 'logical_block_size', 10) || undefined;
    const physical = propUInt(blockio, 'physical_block_size', 10) || undefined;
    if (logical || physical) m.blockio = node('blockio', { logical_block_size: logical, physical_block_size: physical });
  }
  const driver = child(input, 'driver');
  if (driver) readDriver(driver, m, ctx);
  const transient = child(input, 'transient');
  if (transient) m.transient = { shareBacking: propTristateBool(transient, 'shareBacking') };
  readIotune(input, m);
  m.backenddomain = child(input, 'backenddomain')?.attrs.name;
  m.serial = textOf(input, 'serial');
  m.wwn = textOf(input, 'wwn');
  m.vendor = textOf(input, 'vendor');
  m.product = textOf(input, 'product');
  const info = parseDeviceInfo(input, { boot: true });
  m.info = info.nodes;
  m.addressType = info.addressType;
  m.bootOrder = info.bootOrder;
  return m;
}

/** virXPathString("string(./x)"): the first element's text, undefined when absent or empty. */
function textOf(n: XmlNode, name: string): string | undefined {
  const c = child(n, name);
  return c === undefined || c.text === '' ? undefined : c.text;
}

const nonDefault = <T extends string>(v: T | undefined) => (v === 'default' ? undefined : v);

/** virDomainStorageSourceParse for the disk's own type. */
function readSource(src: XmlNode, m: DiskModel): void {
  const a = m.sourceAttrs;
  switch (m.type) {
    case 'file':
      m.path = prop(src, 'file');
      a.file = m.path;
      a.fdgroup = prop(src, 'fdgroup');
      break;
    case 'block':
      m.path = prop(src, 'dev');
      a.dev = m.path;
      break;
    case 'dir':
      m.path = prop(src, 'dir');
      a.dir = m.path;
      break;
    case 'network':
      readNetworkSource(src, m);
      break;
    case 'volume': {
      // virDomainDiskSourcePoolDefParse: neither is an empty drive; one alone is refused.
      const pool = prop(src, 'pool');
      const volume = prop(src, 'volume');
      const modeText = prop(src, 'mode');
      if (pool === undefined && volume === undefined) break;
      if (pool === undefined || volume === undefined) throw domainXmlError("'pool' and 'volume' must be specified together for 'pool' type source");
      let mode: string | undefined;
      if (modeText !== undefined) {
        if ((POOL_MODES as readonly string[]).indexOf(modeText) <= 0) throw unsupported(`unknown source mode '${modeText}' for volume type disk`);
        mode = modeText;
      }
      m.pool = { pool, volume };
      Object.assign(a, { pool, volume, mode });
      break;
    }
    default:
      // nvme and vhostuser sources: kept as written (their readers are not modelled).
      Object.assign(a, src.attrs);
      delete a.startupPolicy;
      m.sourceKids.push(...src.children);
      return;
  }
  for (const name of ['auth', 'encryption', 'reservations', 'seclabel', 'slices']) {
    const c = child(src, name);
    if (c) m.sourceKids.push(c);
  }
  // An empty path (file='', dev='', dir='', name='') is read as no path at all: libvirt's
  // compatibility shim for apps that write '' to mean "no media", so it is neither formatted
  // nor a source (a plain disk without one is then refused in validation).
  if (m.path === '') {
    m.path = undefined;
    for (const k of ['file', 'dev', 'dir', 'name']) if (a[k] === '') a[k] = undefined;
  }
}

function readNetworkSource(src: XmlNode, m: DiskModel): void {
  const protocol = propEnum(src, 'protocol', NET_PROTOCOLS, { required: true })!;
  m.protocol = protocol;
  const name = prop(src, 'name');
  if (name === undefined && protocol !== 'nbd') throw domainXmlError('missing name for disk source');
  if (name !== undefined && (protocol === 'gluster' || protocol === 'rbd')) {
    const slash = name.indexOf('/');
    if (slash <= 0) throw domainXmlError(`can't split path '${name}' into pool name and image name`);
  }
  m.path = name;
  const tls = propTristateBool(src, 'tls');
  const tlsHostname = prop(src, 'tlsHostname');
  const query = protocol === 'http' || protocol === 'https' ? prop(src, 'query') : undefined;
  Object.assign(m.sourceAttrs, { protocol, name, query, tls, tlsHostname });
  const hosts: XmlNode[] = [];
  for (const h of src.children.filter((c) => c.name === 'host')) hosts.push(readHost(h, protocol));
  m.sourceKids.push(...hosts);
  const snapshot = child(src, 'snapshot')?.attrs.name;
  const config = child(src, 'config')?.attrs.file;
  if (snapshot !== undefined) m.sourceKids.push(node('snapshot', { name: snapshot }));
  if (config !== undefined) m.sourceKids.push(node('config', { file: config }));
}

/** virDomainStorageNetworkParseHost, with the protocol's default port filled in. */
function readHost(h: XmlNode, protocol: string): XmlNode {
  const transportText = prop(h, 'transport');
  let transport = 'tcp';
  if (transportText !== undefined) {
    if (!(HOST_TRANSPORTS as readonly string[]).includes(transportText)) throw unsupported(`unknown protocol transport type '${transportText}'`);
    transport = transportText;
  }
  const socket = prop(h, 'socket');
  if (transport === 'unix' && socket === undefined) throw domainXmlError('missing socket for unix transport');
  if (transport !== 'unix' && socket !== undefined) throw domainXmlError(`transport '${transportText}' does not support socket attribute`);
  let name: string | undefined;
  let port: number | undefined;
  if (transport !== 'unix') {
    name = prop(h, 'name');
    if (name === undefined) throw domainXmlError('missing name for host');
    const p = prop(h, 'port');
    if (p !== undefined) port = parsePort(p);
    if (!port) port = DEFAULT_PORTS[protocol];
  }
  return node('host', { name, port: port || undefined, transport: transport === 'tcp' ? undefined : transport, socket });
}

/** virStringParsePort: virStrToLong_uip, then at most 65535. */
function parsePort(p: string): number {
  const n = strToUIntPositive(p, 10);
  if (n === null) throw invalidArg(`failed to parse port number '${p}'`);
  if (n > 65535) throw invalidArg(`port '${p}' out of range`);
  return n;
}

/** util/virstring.c reports from VIR_FROM_NONE. */
const invalidArg = (msg: string) => LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, msg);

function readDriver(driver: XmlNode, m: DiskModel, ctx: Pick<DomainDraft['ctx'], 'libvirtAtLeast'>): void {
  m.virtio = virtioOptions(driver, ctx);
  m.driverName = prop(driver, 'name');
  const cache = nonDefault(propEnum(driver, 'cache', CACHE, ownText7(ctx, (v) => unsupportedDomain(`unknown disk cache mode '${v}'`))));
  const errorPolicy = propEnum(driver, 'error_policy', ERROR_POLICIES, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown disk error policy '${v}'`)) });
  const rerrorPolicy = propEnum(driver, 'rerror_policy', ERROR_POLICIES, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown disk read error policy '${v}'`)) });
  if (rerrorPolicy === 'enospace') throw unsupported("Invalid disk read error policy: 'enospace'");
  const io = propEnum(driver, 'io', IO, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown disk io mode '${v}'`)) });
  m.ioeventfd = propTristateSwitch(driver, 'ioeventfd', ownText7(ctx, (v) => unsupportedDomain(`unknown disk ioeventfd mode '${v}'`)));
  m.eventIdx = propTristateSwitch(driver, 'event_idx', ownText7(ctx, (v) => unsupportedDomain(`unknown disk event_idx mode '${v}'`)));
  const copyOnRead = propTristateSwitch(driver, 'copy_on_read', ownText7(ctx, (v) => unsupportedDomain(`unknown disk copy_on_read mode '${v}'`)));
  const discard = propEnum(driver, 'discard', DISCARD, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown disk discard mode '${v}'`)) });
  const iothread = propUInt(driver, 'iothread', 10, { nonzero: true });
  const detectZeroes = propEnum(driver, 'detect_zeroes', DETECT_ZEROES, { nonzero: true, ...ownText7(ctx, (v) => unsupportedDomain(`unknown driver detect_zeroes value '${v}'`)) });
  const queues = propUInt(driver, 'queues', 10) || undefined;
  m.queues = queues;
  const queueSize = propUInt(driver, 'queue_size', 10) || undefined;
  // virDomainDiskDefDriverSourceParseXML: the image format ('aio' is Xen's spelling of raw).
  const type = prop(driver, 'type');
  if (type !== undefined) {
    if (type === 'aio') m.format = 'raw';
    else {
      const i = (STORAGE_FORMATS as readonly string[]).indexOf(type);
      if (i <= 0) throw unsupported(`unknown driver format value '${type}'`);
      m.format = type;
    }
  }
  m.driverAttrs = {
    cache, error_policy: errorPolicy, rerror_policy: rerrorPolicy, io, ioeventfd: m.ioeventfd, event_idx: m.eventIdx,
    copy_on_read: copyOnRead, discard, iothread, detect_zeroes: detectZeroes, queues, queue_size: queueSize,
  };
  const maxSize = child(child(driver, 'metadata_cache') ?? node('x'), 'max_size');
  if (maxSize) m.driverKids.push(maxSize);
}

function readIotune(input: XmlNode, m: DiskModel): void {
  const iotune = child(input, 'iotune');
  if (!iotune) return;
  for (const name of IOTUNE) {
    const text = child(iotune, name)?.text;
    if (name === 'group_name') {
      if (text) m.iotune.set(name, text);
      continue;
    }
    if (text === undefined || text === '') continue;
    const v = strToULongLong(text, 10);
    if (v === null) throw domainXmlError(`disk iotune field '${name}' must be an integer`);
    if (v !== 0n) m.iotune.set(name, v);
  }
}

/** virDomainDiskDefFormat: the canonical node of a model (registered so later steps find the model). */
export function formatDisk(m: DiskModel): XmlNode {
  const showSnapshot = m.snapshot !== undefined && !(m.snapshot === 'no' && m.readonly);
  const driverAttrs = { name: m.driverName, type: m.format, ...m.driverAttrs, ...m.virtio };
  const hasDriver = Object.values(driverAttrs).some((v) => v !== undefined) || m.driverKids.length > 0;
  const sourceAttrs = { ...m.sourceAttrs, startupPolicy: m.type === 'network' ? undefined : m.startupPolicy };
  const hasSource = Object.values(sourceAttrs).some((v) => v !== undefined) || m.sourceKids.length > 0;
  const iotuneKids = [...m.iotune].map(([k, v]) => textNode(k, String(v)));
  const showTray = (m.device === 'floppy' || m.device === 'cdrom') && m.tray !== undefined && m.tray !== 'closed';
  const n = node('disk', { type: m.type, device: m.device, model: m.model, rawio: m.rawio, sgio: m.sgio, snapshot: showSnapshot ? m.snapshot : undefined }, [
    hasDriver && node('driver', driverAttrs, m.driverKids.length ? [node('metadata_cache', {}, m.driverKids)] : []),
    m.extraAuth,
    hasSource && node('source', sourceAttrs, m.sourceKids),
    m.backenddomain !== undefined && node('backenddomain', { name: m.backenddomain }),
    m.geometry,
    m.blockio,
    node('target', {
      dev: m.dst,
      bus: m.bus ?? 'none',
      tray: showTray ? m.tray : undefined,
      removable: m.bus === 'usb' ? m.removable : undefined,
      rotation_rate: m.rotationRate,
    }),
    iotuneKids.length > 0 && node('iotune', {}, iotuneKids),
    m.readonly && node('readonly'),
    m.shareable && node('shareable'),
    m.transient && node('transient', { shareBacking: m.transient.shareBacking === 'yes' ? 'yes' : undefined }),
    m.serial !== undefined && textNode('serial', m.serial),
    m.wwn !== undefined && textNode('wwn', m.wwn),
    m.vendor !== undefined && textNode('vendor', m.vendor),
    m.product !== undefined && textNode('product', m.product),
    m.extraEncryption,
    ...m.info,
  ]);
  MODELS.set(n, m);
  return n;
}

