/**
 * The host side of a character device (virDomainChrSourceDef): what virDomainChrSourceDefParseXML
 * reads per source type, how virDomainChrSourceDefFormat writes it back (the children before the
 * target: `<source>`s, `<protocol>` for TCP, `<log>`), and virDomainChrSourceDefValidate's rules.
 * Serial ports, consoles, channels, redirdevs, smartcards in passthrough mode and EGD RNG backends
 * share it.
 */
import { child, children, type XmlNode } from '../../xml-tree.ts';
import { node } from '../draft.ts';
import { propEnum, propTristateBool, propTristateSwitch, propUInt } from '../props.ts';
import { domainXmlError, internalError, unsupported } from './device-info.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import type { DomainContext } from '../context.ts';
import { knownValues, type Since } from '../since.ts';

/** virDomainChrType ("null" is entry 0 and accepted). */
export const CHR_TYPES = [
  'null', 'vc', 'pty', 'dev', 'file', 'pipe', 'stdio', 'udp', 'tcp', 'unix', 'spicevmc', 'spiceport', 'nmdm', 'qemu-vdagent', 'dbus',
] as const;
/** formatdomain.rst: qemu-vdagent and dbus "Since 8.4.0" (7.0 refuses both, measured). */
const CHR_TYPES_SINCE: Since = { 'qemu-vdagent': [8, 4], dbus: [8, 4] };
const MODES = ['connect', 'bind'] as const;
/** virDomainChrTcpProtocol. */
const TCP_PROTOCOLS = ['raw', 'telnet', 'telnets', 'tls'];
/** virDomainMouseMode (qemu-vdagent's `<mouse mode>`). */
const MOUSE_MODES = ['default', 'server', 'client'] as const;

/** The parsed host side; `nodes` are its canonical children, in virDomainChrSourceDefFormat's order. */
export interface ChrSource {
  readonly type: string;
  readonly nodes: XmlNode[];
  /** What the validation rules look at. */
  readonly path?: string;
  readonly host?: string;
  readonly service?: string;
  readonly listen?: boolean;
  readonly reconnect?: 'yes' | 'no';
  readonly reconnectTimeout?: number;
  readonly channel?: string;
  readonly master?: string;
  readonly slave?: string;
}

/** A chardev source type the profile's libvirt knows. */
export const chrTypeKnown = (type: string, ctx: Pick<DomainContext, 'libvirtAtLeast'>) => knownValues(CHR_TYPES, CHR_TYPES_SINCE, ctx).includes(type as never);

/** The host-side type every chardev-backed device names (`type=`), pty when absent. */
export function checkChrSourceType(n: XmlNode, ctx: Pick<DomainContext, 'libvirtAtLeast'>, what = 'type'): string {
  const type = n.attrs[what];
  if (type === undefined) return 'pty';
  if (!chrTypeKnown(type, ctx)) throw unsupported(`unknown type presented to host for character device: ${type}`);
  return type;
}

/** `<reconnect enabled [timeout]>` (virDomainChrSourceReconnectDefParseXML). */
function reconnect(src: XmlNode): { node?: XmlNode; enabled?: 'yes' | 'no'; timeout?: number } {
  const r = child(src, 'reconnect');
  if (!r) return {};
  const enabled = propTristateBool(r, 'enabled');
  const timeout = enabled === 'yes' ? propUInt(r, 'timeout', 10, { required: true }) : undefined;
  return { enabled, timeout, node: enabled && node('reconnect', { enabled, timeout }) };
}

/** Seclabel overrides inside `<source>` are kept as written (virSecurityDeviceLabelDef is not modelled). */
const seclabels = (src: XmlNode) => children(src, 'seclabel');

/**
 * virDomainChrSourceDefParseXML for an element whose `type` is already read (`type`); pty paths are
 * read only from live XML, so a definition never keeps one.
 */
export function parseChrSource(n: XmlNode, type: string): ChrSource {
  const sources = children(n, 'source');
  if (sources.length > 1 && type !== 'udp') throw domainXmlError('only one source element is allowed for character device');
  if (sources.length > 2) throw domainXmlError('only two source elements are allowed for character device');
  const s = sources[0];
  let out: ChrSource = { type, nodes: [] };
  if (s) out = parseFirstSource(type, s, sources[1]);
  const nodes = [...out.nodes];
  if (type === 'tcp' && !s) nodes.push(node('source', { mode: 'connect' }));
  const logs = children(n, 'log');
  if (logs.length > 1) throw domainXmlError('only one log element is allowed for character device');
  let log: XmlNode | undefined;
  if (logs[0]) {
    const file = logs[0].attrs.file;
    const append = propTristateSwitch(logs[0], 'append');
    if (file !== undefined) log = node('log', { file, append });
  }
  const protocols = children(n, 'protocol');
  if (protocols.length > 1) throw domainXmlError('only one protocol element is allowed for character device');
  let protocol = 'raw';
  const written = type === 'tcp' ? protocols[0]?.attrs.type : undefined;
  if (written !== undefined) {
    if (!TCP_PROTOCOLS.includes(written)) throw unsupported(`Unknown protocol '${written}'`);
    protocol = written;
  }
  if (type === 'tcp') nodes.push(node('protocol', { type: protocol }));
  if (log) nodes.push(log);
  return { ...out, nodes };
}

function parseFirstSource(type: string, s: XmlNode, second: XmlNode | undefined): ChrSource {
  switch (type) {
    case 'file': {
      const path = s.attrs.path;
      const append = propTristateSwitch(s, 'append');
      return { type, path, nodes: [node('source', { path, append }, seclabels(s))] };
    }
    case 'dev':
    case 'pipe': {
      const path = s.attrs.path;
      return { type, path, nodes: [node('source', { path }, seclabels(s))] };
    }
    case 'unix': {
      const listen = (propEnum(s, 'mode', MODES) ?? 'connect') === 'bind';
      const path = s.attrs.path;
      const r = reconnect(s);
      const nodes = path === undefined ? [] : [node('source', { mode: listen ? 'bind' : 'connect', path }, [...seclabels(s), r.node])];
      return { type, path, listen, reconnect: r.enabled, reconnectTimeout: r.timeout, nodes };
    }
    case 'tcp': {
      const listen = (propEnum(s, 'mode', MODES) ?? 'connect') === 'bind';
      const host = s.attrs.host;
      const service = s.attrs.service;
      const tls = propTristateBool(s, 'tls');
      const r = reconnect(s);
      const nodes = [node('source', { mode: listen ? 'bind' : 'connect', host, service, tls }, [r.node])];
      return { type, host, service, listen, reconnect: r.enabled, reconnectTimeout: r.timeout, nodes };
    }
    case 'udp': {
      const sides: Record<string, { host?: string; service?: string }> = {};
      for (const src of [s, second]) {
        if (!src) continue;
        const mode = propEnum(src, 'mode', MODES) ?? 'connect';
        const prev = sides[mode];
        if (prev && (prev.host !== undefined || prev.service !== undefined)) continue;
        sides[mode] = { host: src.attrs.host, service: src.attrs.service };
      }
      const nodes: XmlNode[] = [];
      for (const mode of ['bind', 'connect']) {
        const side = sides[mode];
        if (side && (side.host !== undefined || side.service !== undefined)) nodes.push(node('source', { mode, ...side }));
      }
      return { type, service: sides.connect?.service, nodes };
    }
    case 'spiceport':
    case 'dbus': {
      const channel = s.attrs.channel;
      return { type, channel, nodes: channel === undefined ? [] : [node('source', { channel })] };
    }
    case 'nmdm': {
      const { master, slave } = s.attrs;
      // Validation needs both or neither, so a lone one stays for it to refuse.
      return { type, master, slave, nodes: master !== undefined || slave !== undefined ? [node('source', { master, slave })] : [] };
    }
    case 'qemu-vdagent': {
      const clip = child(s, 'clipboard');
      const copypaste = clip && propTristateBool(clip, 'copypaste', { required: true });
      const mouse = child(s, 'mouse');
      const mode = mouse && propEnum(mouse, 'mode', MOUSE_MODES, { required: true, nonzero: true });
      const kids = [copypaste && node('clipboard', { copypaste }), mode && node('mouse', { mode })];
      return { type, nodes: copypaste || mode ? [node('source', {}, kids)] : [] };
    }
    default:
      // null, vc, stdio, spicevmc have no source; a pty's path is read only from live XML.
      return { type, nodes: [] };
  }
}

/** SERIAL_CHANNEL_NAME_CHARS. */
const CHANNEL_NAME = /^[A-Za-z0-9_.-]*$/;

/** virDomainChrSourceDefValidate (`unixPathOptional`: a virtio or xen channel generates its path). */
export function validateChrSource(src: ChrSource, unixPathOptional = false): void {
  switch (src.type) {
    case 'file':
    case 'dev':
    case 'pipe':
      if (src.path === undefined) throw internalError('Missing source path attribute for char device');
      break;
    case 'nmdm':
      if ((src.master === undefined) !== (src.slave === undefined)) throw internalError('Should define both master and slave path attributes for nmdm device');
      break;
    case 'tcp':
      if (src.host === undefined) throw internalError('Missing source host attribute for char device');
      if (src.service === undefined) throw internalError('Missing source service attribute for char device');
      if (src.listen && src.reconnect) throw internalError('chardev reconnect is possible only for connect mode');
      break;
    case 'udp':
      if (src.service === undefined) throw internalError('Missing source service attribute for char device');
      break;
    case 'unix':
      if (src.path === undefined && !unixPathOptional) throw internalError('Missing source path attribute for char device');
      if (src.listen && src.reconnect) throw internalError('chardev reconnect is possible only for connect mode');
      break;
    case 'spiceport':
    case 'dbus':
      if (src.channel === undefined) throw unsupported('Missing source channel attribute for char device');
      if (!CHANNEL_NAME.test(src.channel)) throw confInvalidArg('Invalid character in source channel for char device');
      break;
  }
}

const confInvalidArg = (message: string) => LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.DOMAIN, message);

/** qemuValidateDomainChrSourceReconnectDef. */
export function validateChrSourceQemu(src: ChrSource): void {
  if ((src.type === 'tcp' || src.type === 'unix') && src.reconnect === 'yes' && src.reconnectTimeout === 0) {
    throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.QEMU, "chardev reconnect source timeout cannot be '0'");
  }
}
