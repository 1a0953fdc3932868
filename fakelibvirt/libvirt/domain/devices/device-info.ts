/**
 * What every device carries besides its own data (virDomainDeviceInfoParseXML/Format in
 * conf/domain_conf.c, the address readers in conf/device_conf.c): alias, USB master, boot order,
 * ROM tuning, ACPI index and address. A device kind says which of boot/ROM it allows, as libvirt's
 * ALLOW_BOOT/ALLOW_ROM flags do; elements it does not allow are dropped, as libvirt ignores them.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import { strToUIntPositive } from '../c-numbers.ts';
import { node } from '../draft.ts';
import { missingAttr, prop, propTristateBool, propTristateSwitch, propUInt, propULongLong, xmlError } from '../props.ts';
import type { DomainContext } from '../context.ts';
import { AFTER_7_0 } from '../since.ts';

export const confError = (code: VirErrorNumber, message: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, message);
export const unsupported = (message: string) => confError(VirErrorNumber.CONFIG_UNSUPPORTED, message);
export const internalError = (message: string) => confError(VirErrorNumber.INTERNAL_ERROR, message);
/** VIR_ERR_XML_ERROR raised by the domain code (virReportError in domain_conf.c, not virxml.c). */
export const domainXmlError = (message: string) => confError(VirErrorNumber.XML_ERROR, message);
/** The QEMU driver's refusals (qemu_validate.c, qemu_domain.c) come from the QEMU domain. */
export const qemuUnsupported = (message: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, message);

/** virDomainDeviceAddressType, in order. */
export const ADDRESS_TYPES = [
  'none', 'pci', 'drive', 'virtio-serial', 'ccid', 'usb', 'spapr-vio', 'virtio-s390', 'ccw', 'virtio-mmio', 'isa', 'dimm',
  'unassigned',
] as const;

export interface DeviceInfo {
  /** The canonical `<boot>`, `<alias>`, `<master>`, `<rom>`, `<acpi>`, `<address>` nodes, in libvirt's order. */
  readonly nodes: XmlNode[];
  readonly addressType: string | undefined;
  readonly bootOrder: number | undefined;
}

export interface InfoFlags {
  readonly boot?: boolean;
  readonly rom?: boolean;
}

/** User aliases (`ua-` and [A-Za-z0-9_-]) are the only ones an inactive definition keeps. */
const USER_ALIAS = /^ua-[A-Za-z0-9_-]*$/;

export function parseDeviceInfo(dev: XmlNode, flags: InfoFlags = {}): DeviceInfo {
  const nodes: XmlNode[] = [];
  const alias = child(dev, 'alias')?.attrs.name;
  const master = child(dev, 'master');
  let bootNode: XmlNode | undefined;
  let bootOrder: number | undefined;
  if (flags.boot) {
    const boot = child(dev, 'boot');
    if (boot) {
      bootOrder = propUInt(boot, 'order', 10, { required: true, nonzero: true });
      const loadparm = prop(boot, 'loadparm');
      bootNode = node('boot', { order: bootOrder, loadparm: loadparm?.toUpperCase() });
    }
  }
  if (bootNode) nodes.push(bootNode);
  if (alias !== undefined && USER_ALIAS.test(alias)) nodes.push(node('alias', { name: alias }));
  if (master) {
    const startport = propUInt(master, 'startport', 10) ?? 0;
    nodes.push(node('master', { startport }));
  }
  if (flags.rom) {
    const rom = child(dev, 'rom');
    if (rom) {
      const enabled = propTristateBool(rom, 'enabled');
      const bar = propTristateSwitch(rom, 'bar');
      const file = prop(rom, 'file');
      if (enabled === 'no' && (bar !== undefined || file !== undefined)) throw unsupported('ROM tuning is not supported when ROM is disabled');
      if (enabled !== undefined || bar !== undefined || file !== undefined) nodes.push(node('rom', { enabled, bar, file }));
    }
  }
  const acpi = child(dev, 'acpi');
  if (acpi) {
    const index = propUInt(acpi, 'index', 10, { nonzero: true });
    if (index !== undefined && index !== 0) nodes.push(node('acpi', { index }));
  }
  const address = child(dev, 'address');
  const parsed = address ? parseAddress(address) : undefined;
  if (parsed) nodes.push(parsed);
  return { nodes, addressType: parsed?.attrs.type, bootOrder };
}

const hex = (n: number, width: number) => `0x${n.toString(16).padStart(width, '0')}`;

/** virDomainDeviceAddressParseXML and its canonical form; undefined for type 'none'/'unassigned'-less forms. */
export function parseAddress(a: XmlNode): XmlNode | undefined {
  const type = a.attrs.type;
  if (type === undefined) throw internalError('No type specified for device address');
  const t = ADDRESS_TYPES.indexOf(type as (typeof ADDRESS_TYPES)[number]);
  if (t <= 0) throw unsupported(`unknown address type '${type}'`);
  const u = (name: string, base = 10) => propUInt(a, name, base);
  switch (type) {
    case 'pci': {
      const domain = u('domain', 0) ?? 0;
      const bus = u('bus', 0) ?? 0;
      const slot = u('slot', 0) ?? 0;
      const fn = u('function', 0) ?? 0;
      const multifunction = propTristateSwitch(a, 'multifunction');
      const empty = domain === 0 && bus === 0 && slot === 0 && fn === 0;
      if (!empty) checkPciAddress(bus, slot, fn);
      // zpci is s390-only; the QEMU driver refuses it on x86 later, kept unmodelled here.
      return node('address', {
        type,
        ...(empty ? {} : { domain: hex(domain, 4), bus: hex(bus, 2), slot: hex(slot, 2), function: `0x${fn}` }),
        multifunction,
      });
    }
    case 'drive':
      return node('address', { type, controller: u('controller') ?? 0, bus: u('bus') ?? 0, target: u('target') ?? 0, unit: u('unit') ?? 0 });
    case 'virtio-serial':
      return node('address', { type, controller: u('controller') ?? 0, bus: u('bus') ?? 0, port: u('port') ?? 0 });
    case 'ccid':
      return node('address', { type, controller: u('controller') ?? 0, slot: u('slot') ?? 0 });
    case 'usb': {
      const port = a.attrs.port;
      const ports = port === undefined ? undefined : usbPort(port);
      return node('address', { type, bus: u('bus') ?? 0, port: ports });
    }
    case 'spapr-vio': {
      const reg = propULongLong(a, 'reg', 16);
      return node('address', { type, reg: reg === undefined ? undefined : `0x${reg.toString(16).padStart(8, '0')}` });
    }
    case 'ccw':
      return parseCcw(a);
    case 'isa': {
      const iobase = u('iobase', 16) ?? 0;
      const irq = u('irq', 16) ?? 0;
      return node('address', { type, iobase: iobase > 0 ? `0x${iobase.toString(16)}` : undefined, irq: irq > 0 ? `0x${irq.toString(16)}` : undefined });
    }
    case 'dimm': {
      if (a.attrs.slot === undefined) throw missingAttr(a, 'slot');
      const slot = u('slot');
      const base = propULongLong(a, 'base', 16);
      return node('address', { type, slot, base: base ? `0x${base.toString(16)}` : undefined });
    }
    case 'virtio-s390':
      throw domainXmlError("virtio-s390 bus doesn't have an address");
    default:
      return node('address', { type });
  }
}

/** virPCIDeviceAddressIsValid's limits (util/virpci.c). */
function checkPciAddress(bus: number, slot: number, fn: number): void {
  if (bus > 0xff) throw xmlErrorDomain(`Invalid PCI address bus='0x${bus.toString(16)}', must be <= 0xFF`);
  if (slot > 0x1f) throw xmlErrorDomain(`Invalid PCI address slot='0x${slot.toString(16)}', must be <= 0x1F`);
  if (fn > 7) throw xmlErrorDomain(`Invalid PCI address function=0x${fn.toString(16)}, must be <= 7`);
}

/** virpci.c reports from VIR_FROM_NONE. */
const xmlErrorDomain = (message: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.NONE, message);

/** virDomainDeviceUSBAddressParsePort: up to four dot-separated port numbers. */
function usbPort(port: string): string {
  const parts: number[] = [];
  let rest = port;
  for (let i = 0; i < 4; i++) {
    const m = /^\d+/.exec(rest);
    const n = m ? strToUIntPositive(m[0], 10) : null;
    if (!m || n === null) break;
    parts.push(n);
    rest = rest.slice(m[0].length);
    if (rest === '') return parts.join('.');
    if (rest.startsWith('.')) rest = rest.slice(1);
  }
  throw internalError("Cannot parse <address> 'port' attribute");
}

function parseCcw(a: XmlNode): XmlNode {
  const cssid = propUInt(a, 'cssid', 0);
  const ssid = propUInt(a, 'ssid', 0);
  const devno = propUInt(a, 'devno', 0);
  const [c, s, d] = [cssid ?? 0, ssid ?? 0, devno ?? 0];
  // VIR_CCW_DEVICE_MAX_CSSID/SSID/DEVNO; absent parts read as 0, so they pass this check.
  if (c > 0xfe || s > 3 || d > 0xffff) {
    throw internalError(`Invalid specification for virtio ccw address: cssid='0x${c.toString(16)}' ssid='0x${s.toString(16)}' devno='0x${d.toString(16).padStart(4, '0')}'`);
  }
  if (cssid === undefined && ssid === undefined && devno === undefined) return node('address', { type: 'ccw' });
  if (cssid === undefined || ssid === undefined || devno === undefined) throw internalError('Invalid partial specification for virtio ccw address');
  return node('address', { type: 'ccw', cssid: `0x${c.toString(16)}`, ssid: `0x${s.toString(16)}`, devno: `0x${d.toString(16).padStart(4, '0')}` });
}

/**
 * A device's address, validated: virDomainDeviceInfoValidate ('unassigned' only for host devices),
 * then the start of qemuValidateDomainDeviceDefAddress (spapr-vio reg range, CCW only on s390-ccw
 * machines). `machine`/`arch` are the guest's.
 */
export function validateDeviceAddress(dev: XmlNode, arch: string, machine: string | undefined): void {
  const address = child(dev, 'address');
  const type = address?.attrs.type;
  if (type === 'unassigned' && dev.name !== 'hostdev') throw unsupported("address of type 'unassigned' is supported only for hostdevs");
  if (type === 'spapr-vio') {
    const reg = address!.attrs.reg;
    if (reg !== undefined && BigInt(reg) > 0xffffffffn) {
      throw qemuUnsupported(`spapr-vio reg='${reg}' exceeds maximum possible value (0xffffffff)`);
    }
  }
  if (type === 'ccw' && !(arch === 's390x' && machine?.startsWith('s390-ccw'))) {
    const alias = child(dev, 'alias')?.attrs.name ?? '<null>';
    throw qemuUnsupported(`cannot use CCW address type for device '${alias}' using machine type '${machine}'`);
  }
}

/** virDomainDefValidateAliases: user aliases are unique across devices (a serial console's copy of the first serial excepted). */
export function validateAliases(devices: readonly XmlNode[]): void {
  const seen = new Set<string>();
  const firstSerial = devices.find((x) => x.name === 'serial');
  const firstConsole = devices.find((x) => x.name === 'console');
  const consoleIsSerial = firstSerial !== undefined && firstConsole !== undefined && (child(firstConsole, 'target')?.attrs.type ?? 'serial') === 'serial';
  for (const dev of devices) {
    const alias = child(dev, 'alias')?.attrs.name;
    if (alias === undefined || !alias.startsWith('ua-')) continue;
    if (consoleIsSerial && (dev === firstSerial || dev === firstConsole)) continue;
    if (seen.has(alias)) throw unsupported(`non unique alias detected: ${alias}`);
    seen.add(alias);
  }
}

/** virDomainVirtioOptionsParseXML: the `<driver>` attributes every virtio device shares, in format order. */
export function virtioOptions(driver: XmlNode | undefined, ctx?: Pick<DomainContext, 'libvirtAtLeast'>): Record<string, string | undefined> {
  if (!driver) return {};
  // 7.0 turned each with its own "invalid X value" text (measured); a caller without a profile reads as 9.0.
  const own = (what: string) => (ctx ? { ownText: { ctx, until: AFTER_7_0, error: () => domainXmlError(`invalid ${what} value`) } } : {});
  return {
    iommu: propTristateSwitch(driver, 'iommu', own('iommu')),
    ats: propTristateSwitch(driver, 'ats', own('ats')),
    packed: propTristateSwitch(driver, 'packed', own('packed')),
    page_per_vq: propTristateSwitch(driver, 'page_per_vq'),
  };
}

/** The guest architecture as written (`<os><type arch>`), x86_64 when absent, as the QEMU driver defaults on this host. */
export function guestArch(d: { input: XmlNode; top: Map<string, XmlNode[]> }): string {
  const os = d.top.get('os')?.[0] ?? child(d.input, 'os');
  return (os && child(os, 'type')?.attrs.arch) || 'x86_64';
}
