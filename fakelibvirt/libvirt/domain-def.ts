/**
 * A domain definition as libvirt's parser sees it: the fields the SEV stack acts on, pulled out of
 * the XML tree, plus the tree itself so dumpxml can give the document back. Parse errors carry
 * libvirt's codes, domains and texts (measured against libvirt 9.0).
 */
import { randomUUID } from 'node:crypto';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { child, nodeName, parseXmlDocument, type XmlNode } from './xml-tree.ts';

/** libvirt refuses RPC strings above this size; the in-process API applies the same bound. */
export const MAX_XML_BYTES = 4 * 1024 * 1024;

export type LaunchSecurity =
  | {
      readonly type: 'sev';
      readonly policy: number;
      readonly cbitpos?: number;
      readonly reducedPhysBits?: number;
      readonly kernelHashes?: boolean;
      readonly dhCert?: string;
      readonly session?: string;
    }
  | {
      readonly type: 'sev-snp';
      /** QEMU's default 0x30000 when the element is absent (libvirt 10.x makes it optional). */
      readonly policy: bigint;
      readonly cbitpos?: number;
      readonly reducedPhysBits?: number;
      /** authorKey / vcek / kernelHashes attributes (yes|no). */
      readonly authorKey?: boolean;
      readonly vcek?: boolean;
      readonly kernelHashes?: boolean;
      /** Base64 blobs handed to QEMU's sev-snp-guest object as they are. */
      readonly guestVisibleWorkarounds?: string;
      readonly idBlock?: string;
      readonly idAuth?: string;
      readonly hostData?: string;
    };

/** QEMU's DEFAULT_SEV_SNP_POLICY (sev-hardware.md §3.2), used when `<policy>` is omitted. */
export const DEFAULT_SNP_POLICY = 0x30000n;

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

/** Facts about the guest OS the fake cannot observe; see README "Guest OS facts". */
export interface GuestOsFacts {
  readonly name: string;
  /** The guest kernel supports running with SEV memory encryption. */
  readonly sev: boolean;
  /** The guest kernel supports SEV-ES (GHCB). */
  readonly sevEs: boolean;
  /** The guest can boot from a virtio-blk disk while encrypted (some older kernels cannot). */
  readonly virtioBlkBoot: boolean;
}

export const GUEST_OS_NAMESPACE = 'urn:sevharness:guest-os:1';
export const DEFAULT_GUEST_OS: GuestOsFacts = { name: 'generic-sev-aware', sev: true, sevEs: true, virtioBlkBoot: true };

export interface DomainDef {
  readonly type: string;
  readonly name: string;
  readonly uuid: string;
  readonly memoryKiB: number;
  readonly vcpus: number;
  readonly os: {
    readonly type: string;
    readonly arch: string;
    readonly machine?: string;
    readonly firmware?: string;
    readonly loader?: { readonly path: string; readonly type?: string; readonly readonly?: boolean; readonly stateless?: boolean };
    readonly nvram?: string;
  };
  readonly features: ReadonlySet<string>;
  readonly lockedMemory: boolean;
  readonly hardLimitKiB?: number;
  readonly launchSecurity: LaunchSecurity | null;
  readonly devices: readonly DeviceDef[];
  readonly guestOs: GuestOsFacts;
  /** The document as parsed (with the uuid filled in), for dumpxml. */
  readonly tree: XmlNode;
}

const fromDomain = (code: number, detail: string) =>
  LibvirtError.of(code as VirErrorNumber, VirErrorDomain.DOMAIN, detail);

const UNIT_FACTORS: Record<string, number> = {
  b: 1, bytes: 1, kb: 1000, k: 1024, kib: 1024, mb: 1e6, m: 1024 ** 2, mib: 1024 ** 2,
  gb: 1e9, g: 1024 ** 3, gib: 1024 ** 3, tb: 1e12, t: 1024 ** 4, tib: 1024 ** 4,
};

/** A scaled integer (`<memory unit='GiB'>4</memory>`) in KiB, as libvirt stores it. */
function scaledKiB(node: XmlNode, what: string): number {
  const unit = (node.attrs.unit ?? 'KiB').toLowerCase();
  const factor = UNIT_FACTORS[unit];
  if (factor === undefined) throw fromDomain(VirErrorNumber.XML_ERROR, `unknown unit '${node.attrs.unit}' for ${what}`);
  if (!/^\d+$/.test(node.text)) throw fromDomain(VirErrorNumber.XML_ERROR, `Invalid value '${node.text}' for element or attribute './${what}[1]'`);
  return Math.ceil((Number(node.text) * factor) / 1024);
}

const yes = (v: string | undefined) => v === 'yes' || v === 'on';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function normalizeUuid(text: string): string | null {
  const t = text.trim();
  if (!UUID_RE.test(t)) return null;
  const h = t.replace(/-/g, '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** libvirt's error for an attribute value outside its enum (virXMLPropEnum). */
function invalidAttrValue(element: string, attr: string, value: string): LibvirtError {
  return LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `Invalid value for attribute '${attr}' in element '${element}': '${value}'.`);
}

/** A launch-security policy that is missing, not hex, or too wide for its type. */
function policyError(): LibvirtError {
  return fromDomain(VirErrorNumber.XML_ERROR, 'failed to get launch security policy');
}

function parseLaunchSecurity(node: XmlNode, snpKnown: boolean): LaunchSecurity {
  const type = node.attrs.type;
  const known = snpKnown ? ['sev', 'sev-snp', 's390-pv'] : ['sev', 's390-pv'];
  if (type === undefined) {
    throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, "Missing 'type' attribute in element 'launchSecurity'");
  }
  if (!known.includes(type)) {
    throw invalidAttrValue('launchSecurity', 'type', type);
  }
  if (type === 's390-pv') {
    throw fromDomain(VirErrorNumber.CONFIG_UNSUPPORTED, 'S390 PV launch security is not supported by this host or kernel');
  }
  const uintField = (name: string, label: string): number | undefined => {
    const n = child(node, name);
    if (!n) return undefined;
    if (!/^\d+$/.test(n.text)) throw fromDomain(VirErrorNumber.XML_ERROR, `Invalid format for launch security ${label}`);
    return Number(n.text);
  };
  const cbitpos = uintField('cbitpos', 'cbitpos');
  const reducedPhysBits = uintField('reducedPhysBits', 'reduced-phys-bits');
  const policyText = child(node, 'policy')?.text.trim();
  if (type === 'sev-snp') return parseSnpLaunchSecurity(node, policyText, cbitpos, reducedPhysBits);
  if (!policyText || !/^(0x)?[0-9a-fA-F]+$/.test(policyText)) throw policyError();
  const hex = policyText.replace(/^0x/i, '');
  const policy = Number.parseInt(hex, 16);
  if (policy > 0xffffffff) throw policyError();
  const kh = node.attrs.kernelHashes;
  const dhCert = child(node, 'dhCert')?.text;
  const session = child(node, 'session')?.text;
  return {
    type: 'sev',
    policy,
    ...(cbitpos !== undefined && { cbitpos }),
    ...(reducedPhysBits !== undefined && { reducedPhysBits }),
    ...(kh !== undefined && { kernelHashes: yes(kh) }),
    ...(dhCert && { dhCert }),
    ...(session && { session }),
  };
}

/** A yes/no attribute as libvirt's tristate-bool parser reads it; anything else is its enum error. */
function yesNoAttr(node: XmlNode, name: string): boolean | undefined {
  const v = node.attrs[name];
  if (v === undefined) return undefined;
  if (v !== 'yes' && v !== 'no') {
    throw invalidAttrValue(node.name, name, v);
  }
  return v === 'yes';
}

/**
 * `<launchSecurity type='sev-snp'>` as libvirt 10.5+ documents it (formatdomain "Launch Security"):
 * attributes authorKey, vcek, kernelHashes; children cbitpos, reducedPhysBits, policy (64-bit hex,
 * optional), guestVisibleWorkarounds, idBlock, idAuth, hostData (base64, passed to QEMU unchecked).
 */
function parseSnpLaunchSecurity(
  node: XmlNode,
  policyText: string | undefined,
  cbitpos: number | undefined,
  reducedPhysBits: number | undefined,
): LaunchSecurity {
  let policy = DEFAULT_SNP_POLICY;
  if (policyText !== undefined) {
    if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(policyText)) throw policyError();
    policy = BigInt(`0x${policyText.replace(/^0x/i, '')}`);
  }
  const blob = (name: string) => child(node, name)?.text.trim() || undefined;
  const authorKey = yesNoAttr(node, 'authorKey');
  const vcek = yesNoAttr(node, 'vcek');
  const kernelHashes = yesNoAttr(node, 'kernelHashes');
  const gvw = blob('guestVisibleWorkarounds');
  const idBlock = blob('idBlock');
  const idAuth = blob('idAuth');
  const hostData = blob('hostData');
  return {
    type: 'sev-snp',
    policy,
    ...(cbitpos !== undefined && { cbitpos }),
    ...(reducedPhysBits !== undefined && { reducedPhysBits }),
    ...(authorKey !== undefined && { authorKey }),
    ...(vcek !== undefined && { vcek }),
    ...(kernelHashes !== undefined && { kernelHashes }),
    ...(gvw && { guestVisibleWorkarounds: gvw }),
    ...(idBlock && { idBlock }),
    ...(idAuth && { idAuth }),
    ...(hostData && { hostData }),
  };
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
  const base = { kind, iommu, romEnabled: true, videoRamKiB: 0, ...(bootOrder && { bootOrder: Number(bootOrder) }) };
  switch (kind) {
    case 'disk': {
      const source = diskSource(n);
      const target = checkDiskTarget(n, source);
      return {
        ...base,
        device: n.attrs.device ?? 'disk',
        ...(target.attrs.bus && { bus: target.attrs.bus }),
        ...(target.attrs.dev && { targetDev: target.attrs.dev }),
        ...(source !== undefined && { source }),
      };
    }
    case 'controller':
      return {
        ...base,
        controllerType: n.attrs.type ?? '',
        ...(n.attrs.model && { model: n.attrs.model }),
        ...(n.attrs.index !== undefined && /^\d+$/.test(n.attrs.index) && { index: Number(n.attrs.index) }),
      };
    case 'interface': {
      const rom = child(n, 'rom');
      const model = child(n, 'model')?.attrs.type;
      const mac = child(n, 'mac')?.attrs.address?.toLowerCase();
      return { ...base, romEnabled: rom?.attrs.enabled !== 'no', ...(model && { model }), ...(mac && { mac }) };
    }
    case 'video': {
      const m = child(n, 'model');
      const type = m?.attrs.type ?? 'vga';
      return { ...base, model: type, videoRamKiB: m ? (VIDEO_DEFAULT_KIB[type]?.(m) ?? 0) : 16384 };
    }
    case 'memballoon':
    case 'rng':
      return { ...base, ...(n.attrs.model && { model: n.attrs.model }) };
    case 'console':
    case 'channel':
    case 'serial': {
      const t = child(n, 'target')?.attrs.type;
      return { ...base, ...(t && { model: t }) };
    }
    case 'input':
      return { ...base, ...(n.attrs.bus && { bus: n.attrs.bus }), ...(n.attrs.type && { model: n.attrs.type }) };
    default:
      return base;
  }
}

function parseGuestOs(domain: XmlNode): GuestOsFacts {
  const meta = child(domain, 'metadata');
  if (!meta) return DEFAULT_GUEST_OS;
  for (const el of meta.children) {
    const local = el.name.includes(':') ? el.name.slice(el.name.indexOf(':') + 1) : el.name;
    const ns = Object.entries(el.attrs).find(([k]) => k === 'xmlns' || k.startsWith('xmlns:'))?.[1];
    if (local !== 'guest-os' || ns !== GUEST_OS_NAMESPACE) continue;
    const flag = (k: string, d: boolean) => (el.attrs[k] === undefined ? d : yes(el.attrs[k]));
    return {
      name: el.attrs.name ?? DEFAULT_GUEST_OS.name,
      sev: flag('sev', true),
      sevEs: flag('sev-es', true),
      virtioBlkBoot: flag('virtio-blk-boot', true),
    };
  }
  return DEFAULT_GUEST_OS;
}

export interface ParseOptions {
  /** libvirt knows `sev-snp` from 10.5.0. */
  readonly snpKnown: boolean;
}

export function parseDomainXml(xml: string, opts: ParseOptions): DomainDef {
  if (Buffer.byteLength(xml, 'utf8') > MAX_XML_BYTES) {
    throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.DOMAIN, `XML document is larger than the ${MAX_XML_BYTES} byte limit`);
  }
  const root = parseXmlDocument(xml, 'domain_definition');
  // virXMLParseHelper compares libxml2's node name: the local part when the prefix is declared.
  if (nodeName(root) !== 'domain') {
    throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `expecting root element of 'domain', not '${nodeName(root)}'`);
  }
  const type = root.attrs.type;
  if (!type) throw fromDomain(VirErrorNumber.INTERNAL_ERROR, 'missing domain type attribute');
  if (!['kvm', 'qemu', 'test'].includes(type)) {
    throw invalidAttrValue('domain', 'type', type);
  }
  const name = child(root, 'name')?.text.trim();
  if (!name) throw new LibvirtError({ code: 21, domain: VirErrorDomain.DOMAIN, message: 'missing name information' });
  if (name.includes('/')) throw fromDomain(VirErrorNumber.XML_ERROR, `name ${name} cannot contain '/'`);

  let uuidNode = child(root, 'uuid');
  let uuid: string;
  if (uuidNode) {
    const u = normalizeUuid(uuidNode.text);
    if (!u) throw fromDomain(VirErrorNumber.INTERNAL_ERROR, 'malformed uuid element');
    uuid = u;
    uuidNode.text = u;
  } else {
    uuid = randomUUID();
    uuidNode = { name: 'uuid', attrs: {}, children: [], text: uuid };
    root.children.splice(root.children.findIndex((c) => c.name === 'name') + 1, 0, uuidNode);
  }

  const memNode = child(root, 'memory');
  if (!memNode) throw fromDomain(VirErrorNumber.XML_ERROR, 'Memory size must be specified via <memory> or in the <numa> configuration');
  const memoryKiB = scaledKiB(memNode, 'memory');

  const vcpuText = child(root, 'vcpu')?.text ?? '1';
  if (!/^\d+$/.test(vcpuText) || Number(vcpuText) < 1) throw fromDomain(VirErrorNumber.XML_ERROR, 'maximum vcpus count must be an integer');

  const osNode = child(root, 'os');
  const typeNode = osNode && child(osNode, 'type');
  if (!typeNode || typeNode.text.trim() === '') throw fromDomain(VirErrorNumber.XML_ERROR, 'an os <type> must be specified');
  const loaderNode = osNode && child(osNode, 'loader');
  const nvramNode = osNode && child(osNode, 'nvram');
  const os: DomainDef['os'] = {
    type: typeNode.text.trim(),
    arch: typeNode.attrs.arch ?? 'x86_64',
    ...(typeNode.attrs.machine && { machine: typeNode.attrs.machine }),
    ...(osNode?.attrs.firmware && { firmware: osNode.attrs.firmware }),
    ...(loaderNode && {
      loader: {
        path: loaderNode.text.trim(),
        ...(loaderNode.attrs.type && { type: loaderNode.attrs.type }),
        readonly: yes(loaderNode.attrs.readonly),
        stateless: yes(loaderNode.attrs.stateless),
      },
    }),
    ...(nvramNode && { nvram: nvramNode.text.trim() || nvramNode.attrs.template || '' }),
  };

  const featuresNode = child(root, 'features');
  const features = new Set((featuresNode?.children ?? []).map((f) => f.name));
  const backing = child(root, 'memoryBacking');
  const memtune = child(root, 'memtune');
  const hardLimit = memtune && child(memtune, 'hard_limit');
  const lsNode = child(root, 'launchSecurity');
  const devicesNode = child(root, 'devices');

  const devices = devicesNode ? devicesNode.children.map(parseDevice) : [];
  checkDuplicateDiskTargets(devices);

  return {
    type,
    name,
    uuid,
    memoryKiB,
    vcpus: Number(vcpuText),
    os,
    features,
    lockedMemory: !!(backing && child(backing, 'locked')),
    ...(hardLimit && { hardLimitKiB: scaledKiB(hardLimit, 'memtune/hard_limit') }),
    launchSecurity: lsNode ? parseLaunchSecurity(lsNode, opts.snpKnown) : null,
    devices,
    guestOs: parseGuestOs(root),
    tree: root,
  };
}

/** libvirt's text when two disks share a target; `existing` is the one already in the definition. */
export function duplicateDiskTargetError(existing: DeviceDef, added: DeviceDef): LibvirtError {
  return LibvirtError.of(
    VirErrorNumber.XML_ERROR,
    VirErrorDomain.DOMAIN,
    `target '${added.targetDev}' duplicated for disk sources '${existing.source ?? '<null>'}' and '${added.source ?? '<null>'}'`,
  );
}

/** Domain validation: no two disks may use the same target name. */
function checkDuplicateDiskTargets(devices: readonly DeviceDef[]): void {
  const seen = new Map<string, DeviceDef>();
  for (const d of devices) {
    if (d.kind !== 'disk' || d.targetDev === undefined) continue;
    const first = seen.get(d.targetDev);
    if (first) throw duplicateDiskTargetError(first, d);
    seen.set(d.targetDev, d);
  }
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

export function devicesOf(def: DomainDef, kind: DeviceKind): DeviceDef[] {
  return def.devices.filter((d) => d.kind === kind);
}

