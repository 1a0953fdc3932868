/**
 * A domain definition as libvirt's parser sees it: the fields the SEV stack acts on, pulled out of
 * the XML tree, plus the tree itself so dumpxml can give the document back. Parse errors carry
 * libvirt's codes, domains and texts (measured against libvirt 9.0).
 */
import { randomUUID } from 'node:crypto';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { GUEST_OS_NAMESPACE } from '../../src/sev/guest-os.ts';
import type { DomainContext } from './domain/context.ts';
import { defineDomain } from './domain/define.ts';
import { duplicateDiskTargetError as diskTargetDuplicated } from './domain/devices/disk-rules.ts';
import { parseUuid } from './domain/general.ts';
import { strToUInt } from './domain/c-numbers.ts';
import { attrString, elementKiB, MEMORY_PARAM_UNLIMITED, parseMemoryLimitKiB, stringOf } from './domain/scaled.ts';
import { canonicalLaunchSecurity } from './domain/launch-security.ts';
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

const yes = (v: string | undefined) => v === 'yes' || v === 'on';

/** libvirt's error for an attribute value outside its enum (virXMLPropEnum). */
function invalidAttrValue(element: string, attr: string, value: string): LibvirtError {
  return LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `Invalid value for attribute '${attr}' in element '${element}': '${value}'.`);
}

/**
 * The launch-security fields the host acts on, read from the canonical element (parsed and checked
 * by domain/launch-security.ts). Null for s390-pv, which QEMU validation refuses on x86.
 */
function launchSecurityOf(node: XmlNode): LaunchSecurity | null {
  const text = (name: string) => child(node, name)?.text;
  // libvirt formats these unsigned ints with %d: a value past INT_MAX reads back negative.
  const uint = (name: string) => {
    const t = text(name);
    return t === undefined ? undefined : (Number(t) + 2 ** 32) % 2 ** 32;
  };
  const bool = (name: string) => (node.attrs[name] === undefined ? undefined : node.attrs[name] === 'yes');
  const cbitpos = uint('cbitpos');
  const reducedPhysBits = uint('reducedPhysBits');
  const kernelHashes = bool('kernelHashes');
  const common = {
    ...(cbitpos !== undefined && { cbitpos }),
    ...(reducedPhysBits !== undefined && { reducedPhysBits }),
    ...(kernelHashes !== undefined && { kernelHashes }),
  };
  if (node.attrs.type === 'sev') {
    const dhCert = text('dhCert');
    const session = text('session');
    return {
      type: 'sev',
      policy: Number.parseInt(text('policy') ?? '0', 16),
      ...common,
      ...(dhCert !== undefined && { dhCert }),
      ...(session !== undefined && { session }),
    };
  }
  if (node.attrs.type !== 'sev-snp') return null;
  const policy = text('policy');
  const authorKey = bool('authorKey');
  const vcek = bool('vcek');
  const gvw = text('guestVisibleWorkarounds');
  const idBlock = text('idBlock');
  const idAuth = text('idAuth');
  const hostData = text('hostData');
  return {
    type: 'sev-snp',
    policy: policy === undefined ? DEFAULT_SNP_POLICY : BigInt(policy),
    ...common,
    ...(authorKey !== undefined && { authorKey }),
    ...(vcek !== undefined && { vcek }),
    ...(gvw !== undefined && { guestVisibleWorkarounds: gvw }),
    ...(idBlock !== undefined && { idBlock }),
    ...(idAuth !== undefined && { idAuth }),
    ...(hostData !== undefined && { hostData }),
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

/** The document's `<domain>` element, or libvirt's error for a document that is not one. */
function domainElement(xml: string): XmlNode {
  if (Buffer.byteLength(xml, 'utf8') > MAX_XML_BYTES) {
    throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.DOMAIN, `XML document is larger than the ${MAX_XML_BYTES} byte limit`);
  }
  const root = parseXmlDocument(xml, 'domain_definition');
  // virXMLParseHelper compares libxml2's node name: the local part when the prefix is declared.
  if (nodeName(root) !== 'domain') {
    throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `expecting root element of 'domain', not '${nodeName(root)}'`);
  }
  return root;
}

/** The fields the host acts on, read from a domain document without libvirt's define checks. */
export function parseDomainXml(xml: string, opts: ParseOptions): DomainDef {
  return domainDefOf(domainElement(xml), opts);
}

/**
 * virDomainDefineXML's view: parse, post-parse and validate as libvirt's QEMU driver does
 * (domain/define.ts); the definition keeps the canonical tree libvirt would format back.
 */
export function defineDomainXml(xml: string, ctx: DomainContext): DomainDef {
  return domainDefOf(defineDomain(domainElement(xml), ctx), { snpKnown: ctx.snpKnown, canonical: true });
}

/** `canonical`: the tree is the define pipeline's output, already checked. */
function domainDefOf(root: XmlNode, opts: ParseOptions & { readonly canonical?: boolean }): DomainDef {
  if (nodeName(root) !== 'domain') {
    throw fromDomain(VirErrorNumber.XML_ERROR, `unexpected root element <${root.name}>, expecting <domain>`);
  }
  // The identity, memory and vCPU rules live in domain/general.ts, memory.ts and tunables.ts; a
  // defined tree is canonical here (sizes in KiB, a dashed UUID), a raw one is read leniently.
  const type = root.attrs.type ?? '';
  const name = child(root, 'name')?.text ?? '';
  let uuidNode = child(root, 'uuid');
  let uuid: string;
  if (uuidNode) {
    uuid = parseUuid(uuidNode.text) ?? uuidNode.text;
  } else {
    uuid = randomUUID();
    uuidNode = { name: 'uuid', attrs: {}, children: [], text: uuid };
    root.children.splice(root.children.findIndex((c) => c.name === 'name') + 1, 0, uuidNode);
  }
  const memoryKiB = Number(elementKiB('./memory[1]', child(root, 'memory')));
  const vcpuNode = child(root, 'vcpu');
  const vcpuCount = vcpuNode ? (strToUInt(vcpuNode.text, 10) ?? 1) : 1;

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

  return {
    type,
    name,
    uuid,
    memoryKiB,
    vcpus: vcpuCount,
    os,
    features,
    lockedMemory: !!(backing && child(backing, 'locked')),
    ...(hardLimit && { hardLimitKiB: Number(parseMemoryLimitKiB('./memtune/hard_limit[1]', stringOf(hardLimit), attrString(hardLimit, 'unit')) ?? MEMORY_PARAM_UNLIMITED) }),
    launchSecurity: lsNode ? launchSecurityOf(opts.canonical ? lsNode : canonicalLaunchSecurity(lsNode, { snpKnown: opts.snpKnown, libvirtAtLeast: () => true })) : null,
    devices,
    guestOs: parseGuestOs(root),
    tree: root,
  };
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

export function devicesOf(def: DomainDef, kind: DeviceKind): DeviceDef[] {
  return def.devices.filter((d) => d.kind === kind);
}

