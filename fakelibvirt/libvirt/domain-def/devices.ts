/**
 * The devices as the host sees them (bus, model, iommu, boot order, video RAM…): what QEMU's
 * process, SEV's virtio rules and hot-plug act on, read from each device element; plus the one
 * device document virsh attach-device sends. libvirt's own device rules live in domain/devices/.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import { duplicateDiskTargetError as diskTargetDuplicated } from '../domain/devices/disk-rules.ts';
import { child, parseXmlDocument, type XmlNode } from '../xml-tree.ts';
import { MAX_XML_BYTES, yes } from './limits.ts';

export type DeviceKind =
  | 'disk' | 'controller' | 'interface' | 'video' | 'memballoon' | 'rng' | 'serial' | 'console'
  | 'channel' | 'input' | 'graphics' | 'hostdev' | 'filesystem' | 'vsock' | 'other';

export interface DeviceDef {
  readonly kind: DeviceKind;
  /** disk: target bus; input: bus. */
  readonly bus?: string;
  /** disk: disk | cdrom | floppy. */
  readonly device?: string;
  /** interface/video/rng/memballoon model; controller model; console/channel target type. */
  readonly model?: string;
  /** controller type (scsi, virtio-serial, usb, ide, sata, pci …). */
  readonly controllerType?: string;
  /** controller index. */
  readonly index?: number;
  readonly iommu: boolean;
  /** interface only: `<rom enabled='no'/>` turns the iPXE option ROM off. */
  readonly romEnabled: boolean;
  readonly bootOrder?: number;
  readonly targetDev?: string;
  /** disk: the source path (file, block device or volume name), as libvirt names it in errors. */
  readonly source?: string;
  /** interface: the MAC address, when the XML gives one. */
  readonly mac?: string;
  /** video RAM the device takes from the host, KiB. */
  readonly videoRamKiB: number;
}

const fromDomain = (code: number, detail: string) =>
  LibvirtError.of(code as VirErrorNumber, VirErrorDomain.DOMAIN, detail);

/** libvirt's error for an attribute value outside its enum (virXMLPropEnum). */
function invalidAttrValue(element: string, attr: string, value: string): LibvirtError {
  return LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `Invalid value for attribute '${attr}' in element '${element}': '${value}'.`);
}

const VIDEO_DEFAULT_KIB: Record<string, (n: XmlNode) => number> = {
  qxl: (m) => Number(m.attrs.ram ?? 65536) + Number(m.attrs.vram ?? 65536) + Number(m.attrs.vgamem ?? 16384),
  vga: (m) => Number(m.attrs.vram ?? 16384),
  cirrus: (m) => Number(m.attrs.vram ?? 16384),
  bochs: (m) => Number(m.attrs.vram ?? 16384),
  vmvga: (m) => Number(m.attrs.vram ?? 16384),
};

/** libvirt's disk target buses (virDomainDiskBus), as the 9.0 parser accepts them. */
const DISK_BUSES: ReadonlySet<string> = new Set(['ide', 'fdc', 'scsi', 'virtio', 'xen', 'usb', 'uml', 'sata', 'sd']);

/** virErrorNumber values the device parser raises that the shared error table does not name. */
const VIR_ERR_NO_TARGET = 20;

const DEVICE_KINDS = new Set<DeviceKind>([
  'disk', 'controller', 'interface', 'video', 'memballoon', 'rng', 'serial', 'console', 'channel',
  'input', 'graphics', 'hostdev', 'filesystem', 'vsock',
]);

function diskSource(n: XmlNode): string | undefined {
  const src = child(n, 'source');
  if (!src) return undefined;
  return src.attrs.file ?? src.attrs.dev ?? src.attrs.dir ?? src.attrs.name ?? src.attrs.volume;
}

/** The checks libvirt's disk parser makes on `<target>` (measured against libvirt 9.0's QEMU driver). */
function checkDiskTarget(n: XmlNode, source: string | undefined): XmlNode {
  const target = child(n, 'target');
  if (!target?.attrs.dev) {
    throw new LibvirtError({
      code: VIR_ERR_NO_TARGET,
      domain: VirErrorDomain.DOMAIN,
      message: source === undefined ? 'missing target information' : `missing target information for device ${source}`,
    });
  }
  const bus = target.attrs.bus;
  if (bus !== undefined && !DISK_BUSES.has(bus)) {
    throw invalidAttrValue('target', 'bus', bus);
  }
  return target;
}

export function parseDevice(n: XmlNode): DeviceDef {
  const kind: DeviceKind = DEVICE_KINDS.has(n.name as DeviceKind) ? (n.name as DeviceKind) : 'other';
  const driver = child(n, 'driver');
  const iommu = yes(driver?.attrs.iommu);
  const bootOrder = child(n, 'boot')?.attrs.order;
  // Filled in place (keys in a fixed order) rather than by spreads: this runs for every device of every define.
  const def: { -readonly [K in keyof DeviceDef]: DeviceDef[K] } = { kind, iommu, romEnabled: true, videoRamKiB: 0 };
  if (bootOrder) def.bootOrder = Number(bootOrder);
  switch (kind) {
    case 'disk': {
      const source = diskSource(n);
      const target = checkDiskTarget(n, source);
      def.device = n.attrs.device ?? 'disk';
      if (target.attrs.bus) def.bus = target.attrs.bus;
      if (target.attrs.dev) def.targetDev = target.attrs.dev;
      if (source !== undefined) def.source = source;
      return def;
    }
    case 'controller':
      def.controllerType = n.attrs.type ?? '';
      if (n.attrs.model) def.model = n.attrs.model;
      if (n.attrs.index !== undefined && /^\d+$/.test(n.attrs.index)) def.index = Number(n.attrs.index);
      return def;
    case 'interface': {
      const rom = child(n, 'rom');
      const model = child(n, 'model')?.attrs.type;
      const mac = child(n, 'mac')?.attrs.address?.toLowerCase();
      def.romEnabled = rom?.attrs.enabled !== 'no';
      if (model) def.model = model;
      if (mac) def.mac = mac;
      return def;
    }
    case 'video': {
      const m = child(n, 'model');
      const type = m?.attrs.type ?? 'vga';
      def.model = type;
      def.videoRamKiB = m ? (VIDEO_DEFAULT_KIB[type]?.(m) ?? 0) : 16384;
      return def;
    }
    case 'memballoon':
    case 'rng':
      if (n.attrs.model) def.model = n.attrs.model;
      return def;
    case 'console':
    case 'channel':
    case 'serial': {
      const t = child(n, 'target')?.attrs.type;
      if (t) def.model = t;
      return def;
    }
    case 'input':
      if (n.attrs.bus) def.bus = n.attrs.bus;
      if (n.attrs.type) def.model = n.attrs.type;
      return def;
    default:
      return def;
  }
}

/** libvirt's text when two disks share a target; `existing` is the one already in the definition. */
export function duplicateDiskTargetError(existing: DeviceDef, added: DeviceDef): LibvirtError {
  return diskTargetDuplicated(added.targetDev ?? '', existing.source, added.source);
}

/** Element names libvirt's device parser knows (virDomainDeviceType, character devices by their own names). */
const DEVICE_ELEMENTS: ReadonlySet<string> = new Set([
  'disk', 'lease', 'filesystem', 'interface', 'input', 'sound', 'video', 'hostdev', 'watchdog', 'controller',
  'graphics', 'hub', 'redirdev', 'smartcard', 'serial', 'parallel', 'channel', 'console', 'memballoon', 'nvram',
  'rng', 'shmem', 'tpm', 'panic', 'memory', 'iommu', 'vsock', 'audio', 'crypto',
]);

/** One device document (virsh attach-device's file): the element and what the parser made of it. */
export interface ParsedDevice {
  readonly node: XmlNode;
  readonly def: DeviceDef;
}

/** virDomainDeviceDefParse: one element, a known device type, the same checks as inside `<devices>`. */
export function parseDeviceXml(xml: string): ParsedDevice {
  if (Buffer.byteLength(xml, 'utf8') > MAX_XML_BYTES) {
    throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.DOMAIN, `XML document is larger than the ${MAX_XML_BYTES} byte limit`);
  }
  const node = parseXmlDocument(xml, 'device_definition');
  if (!DEVICE_ELEMENTS.has(node.name)) {
    throw fromDomain(VirErrorNumber.CONFIG_UNSUPPORTED, `unknown device type '${node.name}'`);
  }
  return { node, def: parseDevice(node) };
}

/** Devices QEMU builds as virtio devices (the ones that need `iommu='on'` under SEV before QEMU 6.0). */
export function isVirtioDevice(d: DeviceDef): boolean {
  const virtioModel = (m?: string) => !!m && m.startsWith('virtio');
  switch (d.kind) {
    case 'disk':
      return d.bus === 'virtio';
    case 'controller':
      return d.controllerType === 'virtio-serial' || (d.controllerType === 'scsi' && virtioModel(d.model));
    case 'interface':
    case 'video':
    case 'memballoon':
    case 'rng':
    case 'vsock':
      return virtioModel(d.model);
    case 'input':
      return d.bus === 'virtio';
    // A virtio channel or console is a port on a virtio-serial controller, not a PCI device of its
    // own: libvirt's schema gives it no <driver>, and the controller is what needs iommu='on'.
    case 'filesystem':
      return true;
    default:
      return false;
  }
}

/** A `<channel>` or `<console>` with a virtio target: a port of the virtio-serial bus. */
function isVirtioSerialPort(d: DeviceDef): boolean {
  return (d.kind === 'channel' || d.kind === 'console') && d.model === 'virtio';
}

/**
 * The virtio-serial controller libvirt adds when a domain has virtio ports but declares no such
 * controller (its post-parse step that adds implicit controllers): index 0, default model, no
 * `<driver>`, hence no iommu. Null when none is added.
 */
export function implicitVirtioSerialController(devices: readonly DeviceDef[]): DeviceDef | null {
  if (!devices.some(isVirtioSerialPort)) return null;
  if (devices.some((d) => d.kind === 'controller' && d.controllerType === 'virtio-serial')) return null;
  return { kind: 'controller', controllerType: 'virtio-serial', iommu: false, romEnabled: true, videoRamKiB: 0 };
}

/** `virtio-*-non-transitional` models have no legacy I/O, which an encrypted guest on i440fx needs. */
export function isTransitionalVirtio(d: DeviceDef): boolean {
  return isVirtioDevice(d) && !(d.model ?? '').endsWith('non-transitional');
}

/** The devices of one kind in a definition. */
export function devicesOf(def: { readonly devices: readonly DeviceDef[] }, kind: DeviceKind): DeviceDef[] {
  return def.devices.filter((d) => d.kind === kind);
}

