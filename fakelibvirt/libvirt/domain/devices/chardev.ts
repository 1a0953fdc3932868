/**
 * Character devices (`<serial>`, `<parallel>`, `<console>`, `<channel>`): virDomainChrDefParseXML's
 * checks in its order and the canonical form virDomainChrDefFormat writes (source children, then the
 * target, then device info); the post-parse that completes the target (ISA serial ports, the QEMU
 * driver's default serial type and model, console type 'serial', port numbering); common and QEMU
 * validation. The pairing of console and serial is console-compat.ts's work.
 */
import { child, type XmlNode } from '../../xml-tree.ts';
import { strToUInt } from '../c-numbers.ts';
import { node, type DomainDraft, type DraftStep } from '../draft.ts';
import { propUInt } from '../props.ts';
import { checkChrSourceType, parseChrSource, validateChrSource as validateSource, validateChrSourceQemu, type ChrSource } from './chardev-source.ts';
import { parseGuestfwdAddress } from './socket-addr.ts';
import { domainXmlError, guestArch, internalError, parseDeviceInfo, qemuUnsupported, unsupported } from './device-info.ts';
import { knownValues, ruleApplies, type Since } from '../since.ts';

export { CHR_TYPES, checkChrSourceType } from './chardev-source.ts';

/** virDomainChrSerialTargetType, virDomainChrChannelTargetType, virDomainChrConsoleTargetType. */
const SERIAL_TARGETS = ['none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial', 'isa-debug'];
const CHANNEL_TARGETS = ['none', 'guestfwd', 'virtio', 'xen'];
const CONSOLE_TARGETS = ['none', 'serial', 'xen', 'uml', 'virtio', 'lxc', 'openvz', 'sclp', 'sclplm'];
/** virDomainChrSerialTargetModel. */
const SERIAL_MODELS = ['none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vty', 'pl011', 'sclpconsole', 'sclplmconsole', '16550a', 'isa-debugcon'];
/** formatdomain.rst: isa-debug and isa-debugcon "since 8.1.0" (7.0 refuses both, measured). */
const SERIAL_SINCE: Since = { 'isa-debug': [8, 1], 'isa-debugcon': [8, 1] };
/** A value's index in its table, -1 when the profile's libvirt does not know it yet. */
const knownIndex = (table: readonly string[], value: string, d: DomainDraft) => (knownValues(table, SERIAL_SINCE, d.ctx).includes(value) ? table.indexOf(value) : -1);
const TARGETS: Record<string, string[] | undefined> = { serial: SERIAL_TARGETS, channel: CHANNEL_TARGETS, console: CONSOLE_TARGETS };

/** The target type each serial model needs (qemuValidateChrSerialTargetModelToTargetType). */
const MODEL_TARGET: Record<string, string> = {
  'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', 'spapr-vty': 'spapr-vio-serial',
  pl011: 'system-serial', '16550a': 'system-serial', sclpconsole: 'sclp-serial', sclplmconsole: 'sclp-serial', 'isa-debugcon': 'isa-debug',
};
/** The QEMU driver's default model per serial target type (qemuDomainChrDefPostParse, x86). */
const DEFAULT_MODEL: Record<string, string> = {
  'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', 'spapr-vio-serial': 'spapr-vty',
  'sclp-serial': 'sclpconsole', 'isa-debug': 'isa-debugcon',
};
/** The address type a serial target type needs (qemuValidateChrSerialTargetTypeToAddressType). */
const TARGET_ADDRESS: Record<string, string> = {
  'isa-serial': 'isa', 'isa-debug': 'isa', 'usb-serial': 'usb', 'pci-serial': 'pci', 'spapr-vio-serial': 'spapr-vio',
};

/** VIR_MAX_ISA_SERIAL_PORTS. */
const MAX_ISA_SERIAL_PORTS = 4;

/** The device-info children, which come after the target. */
const INFO = new Set(['boot', 'alias', 'master', 'rom', 'acpi', 'address']);

export function parseChardev(n: XmlNode, d: DomainDraft): XmlNode {
  const type = checkChrSourceType(n, d.ctx);
  const kind = n.name;
  const target = child(n, 'target');
  let typeIndex = 0;
  const t: Record<string, string | number | undefined> = {};
  let model: string | undefined;
  if (target) {
    const written = target.attrs.type;
    const table = TARGETS[kind];
    if (table) {
      typeIndex = written === undefined ? (kind === 'channel' ? -1 : 0) : knownIndex(table, written, d);
      // A channel's missing type reports the default's error, then this one replaces it.
      if (typeIndex < 0) throw unsupported(`unknown target type '${written ?? '(null)'}' specified for character device`);
      if (typeIndex > 0) t.type = table[typeIndex];
    }
    const writtenModel = child(target, 'model')?.attrs.name;
    // 7.0 turned '' as an unknown model (measured); 9.0 reads it as none.
    if (kind === 'serial' && (writtenModel || (writtenModel === '' && ruleApplies('emptyEnumIsUnknown', d.ctx)))) {
      const m = knownIndex(SERIAL_MODELS, writtenModel, d);
      if (m < 0) throw unsupported(`unknown target model '${writtenModel}' specified for character device`);
      if (m > 0) model = writtenModel;
    }
    if (kind === 'channel') {
      if (t.type === 'guestfwd') {
        const addr = target.attrs.address;
        if (addr === undefined) throw domainXmlError('guestfwd channel does not define a target address');
        t.address = parseGuestfwdAddress(addr);
        t.port = propUInt(target, 'port', 10, { required: true });
      } else if (t.type === 'virtio' || t.type === 'xen') {
        // The connection state is read from live XML only.
        t.name = target.attrs.name;
      }
    } else {
      const port = target.attrs.port;
      if (port !== undefined) {
        const p = strToUInt(port, 10);
        if (p === null) throw domainXmlError(`Invalid port number: ${port}`);
        // Stored in an int: values past INT_MAX wrap, and -1 means "assign one".
        if ((p | 0) !== -1) t.port = p | 0;
      }
    }
  } else if (kind === 'channel') {
    throw domainXmlError('target type must be specified for channel device');
  }
  const source = parseChrSource(n, type);
  // libvirt compares the raw target type with the channel's 'virtio' (entry 2) whatever the kind.
  if (type === 'spicevmc' && typeIndex !== 2) throw unsupported('spicevmc device type only supports virtio');
  const info = parseDeviceInfo(n);
  if (kind === 'serial' && t.type === 'usb-serial' && info.addressType !== undefined && info.addressType !== 'usb') {
    throw unsupported('usb-serial requires address of usb type');
  }
  return node(kind, { type }, [...source.nodes, targetNode(kind, t, model), ...info.nodes]);
}

/** virDomainChrTargetDefFormat (a port not assigned yet is left out until post-parse). */
function targetNode(kind: string, t: Record<string, string | number | undefined>, model: string | undefined): XmlNode {
  switch (kind) {
    case 'channel':
      return node('target', { type: t.type, name: t.name, address: t.address, port: t.port });
    case 'serial':
      return node('target', { type: t.type, port: t.port }, [model !== undefined && node('model', { name: model })]);
    case 'console':
      return node('target', { type: t.type, port: t.port });
    default:
      return node('target', { port: t.port });
  }
}

const targetOf = (n: XmlNode) => child(n, 'target')!;
const portOf = (n: XmlNode) => {
  const p = child(n, 'target')?.attrs.port;
  return p === undefined ? -1 : Number(p);
};

/** Replaces a chardev's target (the other children keep their places). */
function setTarget(d: DomainDraft, n: XmlNode, kind: string, t: Record<string, string | number | undefined>, model?: string): XmlNode {
  const body = n.children.filter((c) => c.name !== 'target' && !INFO.has(c.name));
  const info = n.children.filter((c) => INFO.has(c.name));
  const out = node(n.name, n.attrs, [...body, targetNode(kind, t, model), ...info]);
  d.devices[d.devices.indexOf(n)] = out;
  return out;
}

const isX86 = (arch: string) => arch === 'x86_64' || arch === 'i686';

/** virDomainChrIsaSerialDefPostParse: ISA serial ports, at most four, each port once, free ones assigned. */
function postParseIsaSerials(d: DomainDraft): void {
  const isa = d.devices.filter((n) => n.name === 'serial' && targetOf(n).attrs.type === 'isa-serial');
  const used = new Set<number>();
  isa.forEach((s, i) => {
    const port = portOf(s);
    if (i >= MAX_ISA_SERIAL_PORTS || port >= MAX_ISA_SERIAL_PORTS) {
      throw internalError(`Maximum supported number of ISA serial ports is '${MAX_ISA_SERIAL_PORTS}'`);
    }
    if (port === -1) return;
    if (used.has(port)) throw internalError(`target port '${port}' already allocated`);
    used.add(port);
  });
  for (const s of isa) {
    if (portOf(s) !== -1) continue;
    for (let p = 0; p < MAX_ISA_SERIAL_PORTS; p++) {
      if (used.has(p)) continue;
      used.add(p);
      const t = targetOf(s);
      setTarget(d, s, 'serial', { type: t.attrs.type, port: p }, child(t, 'model')?.attrs.name);
      break;
    }
  }
}

/** The system QEMU driver's channel target directory (qemu.conf's default). */
const CHANNEL_TARGET_DIR = '/var/lib/libvirt/qemu/channel/target';

/**
 * qemuDomainChrDefDropDefaultPath: a virtio channel's unix path that libvirt would generate itself
 * is dropped at define. Its pattern is `^DIR/([^/]+\.)|(domain-[^/]+/)NAME$`, and the alternation
 * binds loosest: a path matches when it starts with DIR/ and a component with a dot, or when it
 * ends in domain-…/NAME anywhere.
 */
function isDefaultChannelPath(chr: XmlNode, source: XmlNode, targetType: unknown, name: unknown): boolean {
  const path = source.attrs.path;
  if (chr.attrs.type !== 'unix' || targetType !== 'virtio' || !path) return false;
  if (path.startsWith(`${CHANNEL_TARGET_DIR}/`) && /^[^/]+\./.test(path.slice(CHANNEL_TARGET_DIR.length + 1))) return true;
  if (typeof name !== 'string') return false;
  if (!path.endsWith(`/${name}`)) return false;
  // the component before NAME holds "domain-" with at least one character after it
  const prefix = path.slice(0, path.length - name.length - 1);
  const component = prefix.slice(prefix.lastIndexOf('/') + 1);
  const at = component.indexOf('domain-');
  return at >= 0 && at + 'domain-'.length < component.length;
}

/** qemuDomainChrDefPostParse then virDomainChrDefPostParse for one device. */
function postParseOne(d: DomainDraft, n: XmlNode): void {
  const kind = n.name;
  const t = targetOf(n);
  const a: Record<string, string | number | undefined> = { ...t.attrs };
  let model = child(t, 'model')?.attrs.name;
  if (kind === 'serial') {
    const arch = guestArch(d);
    if (a.type === undefined && isX86(arch)) a.type = 'isa-serial';
    if (model === undefined && a.type !== undefined) model = DEFAULT_MODEL[a.type as string];
    if (a.type === 'isa-debug' && !isX86(arch)) throw unsupported('isa-debug serial type only valid on x86 architecture');
  }
  if (kind === 'console' && a.type === undefined) a.type = 'serial';
  const body = n.children
    .filter((c) => c.name !== 'target' && !INFO.has(c.name))
    // a unix source without a path is not formatted at all (libvirt picks the socket at start)
    .filter((c) => !(kind === 'channel' && c.name === 'source' && isDefaultChannelPath(n, c, a.type, a.name)));
  if (a.port === undefined && kind !== 'channel') a.port = Math.max(-1, ...d.devices.filter((o) => o.name === kind).map(portOf)) + 1;
  const info = n.children.filter((c) => INFO.has(c.name));
  d.devices[d.devices.indexOf(n)] = node(n.name, n.attrs, [...body, targetNode(kind, a, model), ...info]);
}

/** The chardevs' post-parse, as virDomainDefPostParse runs it before the implicit devices are added. */
export const postParseChardevs: DraftStep = (d) => {
  postParseIsaSerials(d);
  for (const kind of ['serial', 'parallel', 'channel', 'console']) {
    for (const n of d.devices.filter((o) => o.name === kind)) postParseOne(d, n);
  }
};

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

/** qemuValidateDomainChrSourceDef: reconnect timeouts, and the spice channels need spice graphics (also for an rng egd backend). */
export function validateChrSourceDefQemu(src: ChrSource, d: DomainDraft): void {
  validateChrSourceQemu(src);
  if ((src.type === 'spicevmc' || src.type === 'spiceport') && !d.devices.some((g) => g.name === 'graphics' && g.attrs.type === 'spice')) {
    throw qemuUnsupported(`chardev '${src.type}' not supported without spice graphics`);
  }
}

/** virDomainChrDefValidate, then qemuValidateDomainChrDef, on the canonical device. */
export function validateChrSource(n: XmlNode, d: DomainDraft): void {
  const type = n.attrs.type ?? 'pty';
  const src = parseChrSource(n, type);
  const target = child(n, 'target');
  const ttype = target?.attrs.type;
  validateSource(src, n.name === 'channel' && (ttype === 'virtio' || ttype === 'xen'));
  validateChrSourceDefQemu(src, d);
  if (n.name === 'serial') validateSerialTarget(n, d, ttype ?? 'none', (target && child(target, 'model')?.attrs.name) ?? 'none');
}

/** qemuValidateDomainChrTargetDef and the serial half of qemuValidateDomainChrDef (x86 machines). */
function validateSerialTarget(n: XmlNode, _d: DomainDraft, type: string, model: string): void {
  const addressType = child(n, 'address')?.attrs.type;
  const expected = TARGET_ADDRESS[type];
  if (expected !== undefined && addressType !== undefined && addressType !== expected) {
    throw qemuUnsupported(`Target type '${type}' requires address type '${expected}'`);
  }
  if ((type === 'system-serial' || type === 'sclp-serial') && addressType !== undefined) {
    throw qemuUnsupported(`Target type '${type}' cannot have an associated address`);
  }
  const needs = MODEL_TARGET[model];
  if (needs !== undefined && needs !== type) throw qemuUnsupported(`Target model '${model}' requires target type '${needs}'`);
  // x86 is neither ARM/RISC-V virt, pSeries nor s390.
  const incompatible =
    (type === 'system-serial' && (model === 'pl011' || model === '16550a')) ||
    type === 'spapr-vio-serial' || model === 'spapr-vty' ||
    type === 'sclp-serial' || model === 'sclpconsole' || model === 'sclplmconsole';
  if (incompatible) {
    throw qemuUnsupported(`Serial device with target type '${type}' and target model '${model}' not compatible with guest architecture or machine type`);
  }
}
