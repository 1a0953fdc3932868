/**
 * Character devices (`<serial>`, `<parallel>`, `<console>`, `<channel>`): virDomainChrDefParseXML's
 * checks in its order (source type, target type and model per device kind, port, guestfwd address,
 * spicevmc target). The canonical form is not rebuilt yet: the element is kept as written once it
 * passes (the pairing of console and serial is implicit-devices.ts's work).
 */
import { child, children, type XmlNode } from '../../xml-tree.ts';
import { strToUInt } from '../c-numbers.ts';
import type { DomainDraft } from '../draft.ts';
import { propEnum, propTristateBool, propUInt } from '../props.ts';
import { domainXmlError, parseDeviceInfo, qemuUnsupported, unsupported } from './device-info.ts';

/** virDomainChrType ("null" is entry 0 and accepted). */
export const CHR_TYPES = [
  'null', 'vc', 'pty', 'dev', 'file', 'pipe', 'stdio', 'udp', 'tcp', 'unix', 'spicevmc', 'spiceport', 'nmdm', 'qemu-vdagent', 'dbus',
] as const;
const SERIAL_TARGETS = ['none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial', 'isa-debug'];
const CHANNEL_TARGETS = ['none', 'guestfwd', 'virtio', 'xen'];
const CONSOLE_TARGETS = ['none', 'serial', 'xen', 'uml', 'virtio', 'lxc', 'openvz', 'sclp', 'sclplm'];
const SERIAL_MODELS = ['none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vty', 'pl011', 'sclpconsole', 'sclplmconsole', '16550a', 'isa-debugcon'];
const TARGETS: Record<string, string[] | undefined> = { serial: SERIAL_TARGETS, channel: CHANNEL_TARGETS, console: CONSOLE_TARGETS };

export function parseChardev(n: XmlNode, _d: DomainDraft): XmlNode {
  checkChrSourceType(n);
  const kind = n.name;
  const target = child(n, 'target');
  let targetType: string | undefined;
  if (target) {
    const written = target.attrs.type;
    const table = TARGETS[kind];
    if (table) {
      // A channel's missing type reports the default's error, then this one replaces it.
      const i = written === undefined ? (kind === 'channel' ? -1 : 0) : table.indexOf(written);
      if (i < 0) throw unsupported(`unknown target type '${written ?? '(null)'}' specified for character device`);
      targetType = table[i];
    }
    const model = child(target, 'model')?.attrs.name || undefined;
    if (model !== undefined && kind === 'serial' && !SERIAL_MODELS.includes(model)) {
      throw unsupported(`unknown target model '${model}' specified for character device`);
    }
    if (kind === 'channel' && targetType === 'guestfwd') {
      const addr = target.attrs.address;
      if (addr === undefined) throw domainXmlError('guestfwd channel does not define a target address');
      propUInt(target, 'port', 10, { required: true });
    } else if (kind !== 'channel') {
      const port = target.attrs.port;
      if (port !== undefined && strToUInt(port, 10) === null) throw domainXmlError(`Invalid port number: ${port}`);
    }
  } else if (kind === 'channel') {
    throw domainXmlError('target type must be specified for channel device');
  }
  parseChrSource(n);
  if (n.attrs.type === 'spicevmc' && targetType !== 'virtio') throw unsupported('spicevmc device type only supports virtio');
  const info = parseDeviceInfo(n);
  if (kind === 'serial' && targetType === 'usb-serial' && info.addressType !== undefined && info.addressType !== 'usb') {
    throw unsupported('usb-serial requires address of usb type');
  }
  return n;
}

/** The host-side type every chardev-backed device names (`type=`), pty when absent. */
export function checkChrSourceType(n: XmlNode, what = 'type'): string {
  const type = n.attrs[what];
  if (type === undefined) return 'pty';
  if (!CHR_TYPES.includes(type as never)) throw unsupported(`unknown type presented to host for character device: ${type}`);
  return type;
}

/** virDomainChrSourceDefParseXML: the source count, the socket modes, file append. */
export function parseChrSource(n: XmlNode): void {
  const sources = children(n, 'source');
  const type = n.attrs.type ?? 'pty';
  if (sources.length > 1 && type !== 'udp') throw domainXmlError('only one source element is allowed for character device');
  if (sources.length > 2) throw domainXmlError('only two source elements are allowed for character device');
  const s = sources[0];
  if (s && (type === 'tcp' || type === 'unix' || type === 'udp')) propEnum(s, 'mode', ['connect', 'bind'] as const);
  for (const extra of type === 'udp' ? sources.slice(1) : []) propEnum(extra, 'mode', ['connect', 'bind'] as const);
  if (s && type === 'tcp') propTristateBool(s, 'tls');
  const protocol = type === 'tcp' ? child(n, 'protocol')?.attrs.type : undefined;
  if (protocol !== undefined && !['raw', 'telnet', 'telnets', 'tls'].includes(protocol)) throw unsupported(`Unknown protocol '${protocol}'`);
  if (s && type === 'file') propEnum(s, 'append', ['absent', 'on', 'off'] as const, { nonzero: true });
}

/** virDomainDefAddConsoleCompat's rule: a console after the first cannot be a serial port. */
export function checkConsoles(d: DomainDraft): void {
  const consoles = d.devices.filter((n) => n.name === 'console');
  for (const c of consoles.slice(1)) {
    if (child(c, 'target')?.attrs.type === 'serial') throw unsupported('Only the first console can be a serial port');
  }
}

/** qemuValidateDomainDefConsole: QEMU's x86 builds drive serial and virtio consoles only. */
export function validateConsoleTargets(d: DomainDraft): void {
  for (const c of d.devices.filter((n) => n.name === 'console')) {
    const type = child(c, 'target')?.attrs.type ?? 'none';
    if (type === 'sclp') throw qemuUnsupported('sclpconsole is not supported in this QEMU binary');
    if (type === 'sclplm') throw qemuUnsupported('sclplmconsole is not supported in this QEMU binary');
    // An unset target type becomes 'serial' (or 'virtio') in post-parse.
    if (type !== 'none' && type !== 'serial' && type !== 'virtio') throw qemuUnsupported(`unsupported console target type ${type}`);
  }
}

/** qemuValidateDomainChrSourceDef's spice rule: spicevmc and spiceport need a spice server. */
export function validateChrSource(n: XmlNode, d: DomainDraft): void {
  const type = n.attrs.type;
  if ((type === 'spicevmc' || type === 'spiceport') && !d.devices.some((g) => g.name === 'graphics' && g.attrs.type === 'spice')) {
    throw qemuUnsupported(`chardev '${type}' not supported without spice graphics`);
  }
}
