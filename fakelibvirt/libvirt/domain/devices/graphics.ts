/**
 * `<graphics>`: virDomainGraphicsDefParseXML per type (vnc, sdl, rdp, desktop, spice, egl-headless,
 * dbus) with its listens and their backward-compatible `listen`/`socket` attributes, the spice
 * post-parse (no port, no autoport: listen type 'none'), virDomainGraphicsDefFormat's canonical
 * form for an inactive definition, and the common and QEMU driver validation.
 */
import { child, children, type XmlNode } from '../../xml-tree.ts';
import { strToInt } from '../c-numbers.ts';
import { node, type DomainDraft } from '../draft.ts';
import { ownText7, propEnum, propInt, propTristateBool, propTristateSwitch, propUInt, unsupportedDomain } from '../props.ts';
import type { DomainContext } from '../context.ts';
import { AFTER_7_0, knownValues, type Since } from '../since.ts';
import { domainXmlError, internalError, qemuUnsupported, unsupported } from './device-info.ts';

/** virDomainGraphicsType. */
const GRAPHICS_TYPES = ['sdl', 'vnc', 'rdp', 'desktop', 'spice', 'egl-headless', 'dbus'] as const;
/** formatdomain.rst: dbus "Since 8.4.0" (7.0 refuses it, measured). */
const GRAPHICS_TYPES_SINCE: Since = { dbus: [8, 4] };
/** The types QEMU 7.2 reports in domain capabilities (rdp and desktop are not QEMU's). */
const QEMU_GRAPHICS_TYPES = ['sdl', 'vnc', 'spice', 'egl-headless', 'dbus'];
const LISTEN_TYPES = ['none', 'address', 'network', 'socket'] as const;
const AUTH_CONNECTED = ['default', 'fail', 'disconnect', 'keep'];
const VNC_SHARE_POLICY = ['default', 'allow-exclusive', 'force-shared', 'ignore'] as const;
const SPICE_CHANNEL_NAMES = ['main', 'display', 'inputs', 'cursor', 'playback', 'record', 'smartcard', 'usbredir'] as const;
const SPICE_CHANNEL_MODES = ['any', 'secure', 'insecure'] as const;
const SPICE_IMAGE = ['default', 'auto_glz', 'auto_lz', 'quic', 'glz', 'lz', 'off'] as const;
const SPICE_JPEG = ['default', 'auto', 'never', 'always'] as const;
const SPICE_ZLIB = ['default', 'auto', 'never', 'always'] as const;
const MOUSE_MODES = ['default', 'server', 'client'] as const;
const SPICE_STREAMING = ['default', 'filter', 'all', 'off'] as const;

type ListenType = (typeof LISTEN_TYPES)[number];
interface Listen {
  type: ListenType;
  address?: string;
  network?: string;
  socket?: string;
}

/**
 * Passwords are formatted only with VIR_DOMAIN_XML_SECURE, so the canonical node leaves them out;
 * they are kept here for the validation (and a secure format) of that node.
 */
const passwords = new WeakMap<XmlNode, string>();
export const graphicsPasswd = (n: XmlNode) => passwords.get(n);

/** virDomainGraphicsListenDefParseXML, in libvirt's order; `parent` only for the first listen. */
function parseListen(l: XmlNode, type: string, parent: XmlNode | undefined, ctx: Versioned): Listen {
  const address = l.attrs.address;
  const network = l.attrs.network;
  const socket = l.attrs.socket;
  const addressCompat = parent?.attrs.listen;
  const socketCompat = parent?.attrs.socket;
  const ltype = propEnum(l, 'type', LISTEN_TYPES, { required: true, ...own(ctx, (v) => `unknown graphics listen type '${v}'`) })!;
  if ((ltype === 'socket' || ltype === 'none') && type !== 'vnc' && type !== 'spice') {
    throw unsupported(`listen type '${ltype}' is not available for graphics type '${type}'`);
  }
  let addr = address;
  if (ltype === 'address') {
    if (address !== undefined && addressCompat !== undefined && address !== addressCompat) {
      throw unsupported(`graphics 'listen' attribute '${addressCompat}' must match 'address' attribute of first listen element (found '${address}')`);
    }
    addr ??= addressCompat;
  }
  let sock = socket;
  if (ltype === 'socket') {
    if (socket !== undefined && socketCompat !== undefined && socket !== socketCompat) {
      throw unsupported(`graphics 'socket' attribute '${socketCompat}' must match 'socket' attribute of first listen element (found '${socket}')`);
    }
    sock ??= socketCompat;
  }
  const out: Listen = { type: ltype };
  // A network listen's address is live state, dropped from an inactive definition.
  if (addr && ltype === 'address') out.address = addr;
  if (network) {
    if (ltype !== 'network') throw domainXmlError("'network' attribute is valid only for listen type 'network'");
    out.network = network;
  }
  if (sock) {
    if (ltype !== 'socket') throw domainXmlError("'socket' attribute is valid only for listen type 'socket'");
    out.socket = sock;
  }
  return out;
}

/** virDomainGraphicsListensParseXML: the `<listen>` children, or one made from the old attributes. */
function parseListens(g: XmlNode, type: string, ctx: Versioned): Listen[] {
  const listens = children(g, 'listen').map((l, i) => parseListen(l, type, i === 0 ? g : undefined, ctx));
  const socket = type === 'vnc' ? g.attrs.socket : undefined;
  const compat: Listen = socket !== undefined ? { type: 'socket', socket } : { type: 'address', address: g.attrs.listen || undefined };
  if (listens.length === 0) listens.push(compat);
  else if ((listens[0]!.type === 'address' || listens[0]!.type === 'network') && compat.type === 'socket') listens[0] = compat;
  return listens;
}

/** virStrToLong_i with an end pointer: leading space and a sign, then at least one digit. */
function leadingInt(s: string): { value: number; rest: string } | null {
  const m = /^[ \t\n\v\f\r]*[+-]?[0-9]+/.exec(s);
  if (!m) return null;
  const value = strToInt(m[0], 10);
  return value === null ? null : { value, rest: s.slice(m[0].length) };
}

/** passwdValidTo as YYYY-MM-DDTHH:MM:SS in UTC, formatted back from the time it names. */
function parseValidTo(validTo: string): string {
  const fields: number[] = [];
  let rest = validTo;
  for (const sep of ['-', '-', 'T', ':', ':', '']) {
    const r = leadingInt(rest);
    if (!r || (sep === '' ? r.rest !== '' : !r.rest.startsWith(sep))) {
      throw internalError(`cannot parse password validity time '${validTo}', expect YYYY-MM-DDTHH:MM:SS`);
    }
    fields.push(r.value);
    rest = r.rest.slice(sep.length);
  }
  const [y, mo, d, h, mi, s] = fields as [number, number, number, number, number, number];
  // g_date_time_new refuses an impossible date; libvirt then stores time 0.
  let t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, 0);
  const valid = y >= 1 && y <= 9999 && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d &&
    t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
  if (!valid) t = new Date(0);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.getUTCFullYear(), 4)}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())}T${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}`;
}

/** virDomainGraphicsAuthDefParseXML: nothing is read without a password. */
function parseAuth(g: XmlNode, type: string): { passwd?: string; attrs: Record<string, string | undefined> } {
  const passwd = g.attrs.passwd;
  if (passwd === undefined) return { attrs: {} };
  const validTo = g.attrs.passwdValidTo;
  const passwdValidTo = validTo === undefined ? undefined : parseValidTo(validTo);
  const connected = g.attrs.connected;
  if (connected !== undefined) {
    if (AUTH_CONNECTED.indexOf(connected) <= 0) throw unsupported(`unknown connected value ${connected}`);
    if (type === 'vnc' && connected !== 'keep') throw unsupported("VNC supports connected='keep' only");
  }
  return { passwd, attrs: { passwdValidTo, connected } };
}

/** virStringParseYesNo: anything else leaves the value as it was. */
const yesNo = (v: string | undefined, current: boolean) => (v === 'yes' ? true : v === 'no' ? false : current);

function formatListen(l: Listen): XmlNode {
  return node('listen', { type: l.type, address: l.type === 'address' ? l.address : undefined, network: l.network, socket: l.type === 'socket' ? l.socket : undefined });
}

/** The legacy `listen` attribute mirrored from the first listen (not for a network listen when inactive). */
const listenAttr = (l: Listen) => (l.type === 'network' ? undefined : l.address);

function parseVnc(g: XmlNode, ctx: Versioned): XmlNode {
  const listens = parseListens(g, 'vnc', ctx);
  let port = 0;
  let autoport = true;
  const portAttr = g.attrs.port;
  if (portAttr !== undefined) {
    const p = strToInt(portAttr, 10);
    if (p === null) throw internalError(`cannot parse vnc port ${portAttr}`);
    port = p === -1 ? 0 : p;
    autoport = p === -1;
  }
  if (g.attrs.autoport !== undefined) {
    autoport = yesNo(g.attrs.autoport, autoport);
    if (autoport) port = 0;
  }
  const websocket = propInt(g, 'websocket', 10) ?? 0;
  const websocketGenerated = yesNo(g.attrs.websocketGenerated, false);
  const sharePolicy = propEnum(g, 'sharePolicy', VNC_SHARE_POLICY, own(ctx, (v) => `unknown vnc display sharing policy '${v}'`));
  const powerControl = propTristateBool(g, 'powerControl');
  const keymap = g.attrs.keymap;
  const audio = child(g, 'audio');
  const audioId = audio ? propUInt(audio, 'id', 10, { required: true, nonzero: true }) : undefined;
  const auth = parseAuth(g, 'vnc');
  const l0 = listens[0]!;
  const addressed = l0.type === 'address' || l0.type === 'network';
  const n = node(
    'graphics',
    {
      type: 'vnc',
      socket: l0.type === 'socket' ? l0.socket : undefined,
      port: addressed ? (port && !autoport ? port : autoport ? -1 : undefined) : undefined,
      autoport: addressed ? (autoport ? 'yes' : 'no') : undefined,
      websocket: addressed ? (websocketGenerated ? -1 : websocket || undefined) : undefined,
      listen: addressed ? listenAttr(l0) : undefined,
      keymap,
      sharePolicy: sharePolicy === 'default' ? undefined : sharePolicy,
      powerControl,
      ...auth.attrs,
    },
    [...listens.map(formatListen), audioId !== undefined && node('audio', { id: audioId })],
  );
  if (auth.passwd !== undefined) passwords.set(n, auth.passwd);
  return n;
}

function parseSdl(g: XmlNode): XmlNode {
  const fullscreen = propTristateBool(g, 'fullscreen');
  const gl = child(g, 'gl');
  const enable = gl ? propTristateBool(gl, 'enable', { required: true }) : undefined;
  return node('graphics', { type: 'sdl', display: g.attrs.display, xauth: g.attrs.xauth, fullscreen: fullscreen === 'yes' ? 'yes' : undefined }, [
    enable !== undefined && node('gl', { enable }),
  ]);
}

/** rdp and desktop are parsed for their errors; the QEMU driver refuses both types afterwards. */
function parseRdp(g: XmlNode, ctx: Versioned): XmlNode {
  const listens = parseListens(g, 'rdp', ctx);
  let port = 0;
  let autoport = false;
  const portAttr = g.attrs.port;
  if (portAttr !== undefined) {
    const p = strToInt(portAttr, 10);
    if (p === null) throw internalError(`cannot parse rdp port ${portAttr}`);
    port = p;
    autoport = p === -1;
  } else autoport = true;
  if (g.attrs.autoport === 'yes') autoport = true;
  if (autoport) port = 0;
  return node(
    'graphics',
    {
      type: 'rdp',
      port: port || (autoport ? 0 : undefined),
      autoport: autoport ? 'yes' : undefined,
      replaceUser: g.attrs.replaceUser === 'yes' ? 'yes' : undefined,
      multiUser: g.attrs.multiUser === 'yes' ? 'yes' : undefined,
      listen: listenAttr(listens[0]!),
    },
    listens.map(formatListen),
  );
}

function parseDesktop(g: XmlNode): XmlNode {
  const fullscreen = propTristateBool(g, 'fullscreen');
  return node('graphics', { type: 'desktop', display: g.attrs.display, fullscreen: fullscreen === 'yes' ? 'yes' : undefined });
}

function parseSpice(g: XmlNode, ctx: Versioned): XmlNode {
  const listens = parseListens(g, 'spice', ctx);
  let port = propInt(g, 'port', 10) ?? 0;
  let tlsPort = propInt(g, 'tlsPort', 10) ?? 0;
  let autoport = propTristateBool(g, 'autoport') === 'yes';
  const defaultMode = propEnum(g, 'defaultMode', SPICE_CHANNEL_MODES, own(ctx, (v) => `unknown default spice channel mode ${v}`)) ?? 'any';
  if (port === -1 && tlsPort === -1) autoport = true;
  if (autoport) port = tlsPort = 0;
  const keymap = g.attrs.keymap;
  const auth = parseAuth(g, 'spice');
  const channels = new Map<string, string>();
  for (const c of children(g, 'channel')) {
    const name = propEnum(c, 'name', SPICE_CHANNEL_NAMES, { required: true, ...own(ctx, (v) => `unknown spice channel name ${v}`) })!;
    channels.set(name, propEnum(c, 'mode', SPICE_CHANNEL_MODES, { required: true, ...own(ctx, (v) => `unknown spice channel mode ${v}`) })!);
  }
  const one = <T extends string>(el: string, attr: string, table: readonly T[], text7: (v: string) => string) => {
    const c = child(g, el);
    return c ? propEnum(c, attr, table, { required: true, nonzero: true, ...own(ctx, text7) }) : undefined;
  };
  const image = one('image', 'compression', SPICE_IMAGE, (v) => `unknown spice image compression ${v}`);
  const jpeg = one('jpeg', 'compression', SPICE_JPEG, (v) => `unknown spice jpeg compression ${v}`);
  const zlib = one('zlib', 'compression', SPICE_ZLIB, (v) => `unknown spice zlib compression ${v}`);
  const playbackNode = child(g, 'playback');
  const playback = playbackNode ? propTristateSwitch(playbackNode, 'compression', { required: true, ...own(ctx, () => 'unknown spice playback compression') }) : undefined;
  const streaming = one('streaming', 'mode', SPICE_STREAMING, () => 'unknown spice streaming mode');
  const clipboard = child(g, 'clipboard');
  const copypaste = clipboard ? propTristateBool(clipboard, 'copypaste', { required: true, ...own(ctx, (v) => `unknown copypaste value '${v}'`) }) : undefined;
  const ft = child(g, 'filetransfer');
  const filetransfer = ft ? propTristateBool(ft, 'enable', { required: true, ...own(ctx, (v) => `unknown enable value '${v}'`) }) : undefined;
  const glNode = child(g, 'gl');
  const rendernode = glNode?.attrs.rendernode;
  const gl = glNode ? propTristateBool(glNode, 'enable', { required: true }) : undefined;
  const mouse = one('mouse', 'mode', MOUSE_MODES, (v) => `unknown mouse mode value '${v}'`);

  // virDomainDefPostParseGraphics: no ports and no autoport means listening nowhere.
  const l0 = listens[0]!;
  if (l0.type === 'address' && port === 0 && tlsPort === 0 && !autoport) listens[0] = { type: 'none' };
  const first = listens[0]!;
  const addressed = first.type === 'address' || first.type === 'network';
  const n = node(
    'graphics',
    {
      type: 'spice',
      port: addressed ? port || undefined : undefined,
      tlsPort: addressed ? tlsPort || undefined : undefined,
      autoport: addressed ? (autoport ? 'yes' : 'no') : undefined,
      listen: addressed ? listenAttr(first) : undefined,
      keymap,
      defaultMode: defaultMode === 'any' ? undefined : defaultMode,
      ...auth.attrs,
    },
    [
      ...listens.map(formatListen),
      ...SPICE_CHANNEL_NAMES.filter((c) => (channels.get(c) ?? 'any') !== 'any').map((c) => node('channel', { name: c, mode: channels.get(c) })),
      image && node('image', { compression: image }),
      jpeg && node('jpeg', { compression: jpeg }),
      zlib && node('zlib', { compression: zlib }),
      playback && node('playback', { compression: playback }),
      streaming && node('streaming', { mode: streaming }),
      mouse && node('mouse', { mode: mouse }),
      copypaste && node('clipboard', { copypaste }),
      filetransfer && node('filetransfer', { enable: filetransfer }),
      gl && node('gl', { enable: gl, rendernode }),
    ],
  );
  if (auth.passwd !== undefined) passwords.set(n, auth.passwd);
  return n;
}

function parseEglHeadless(g: XmlNode): XmlNode {
  const rendernode = child(g, 'gl')?.attrs.rendernode;
  return node('graphics', { type: 'egl-headless' }, [rendernode !== undefined && node('gl', { rendernode })]);
}

function parseDbus(g: XmlNode): XmlNode {
  const p2p = propTristateBool(g, 'p2p') === 'yes';
  const address = g.attrs.address;
  const glNode = child(g, 'gl');
  const rendernode = glNode?.attrs.rendernode;
  const gl = glNode ? propTristateBool(glNode, 'enable', { required: true }) : undefined;
  const audio = child(g, 'audio');
  const audioId = audio ? propUInt(audio, 'id', 10, { required: true, nonzero: true }) : undefined;
  return node('graphics', { type: 'dbus', p2p: p2p ? 'yes' : undefined, address }, [
    gl && node('gl', { enable: gl, rendernode }),
    audioId !== undefined && node('audio', { id: audioId }),
  ]);
}

type Versioned = Pick<DomainContext, 'libvirtAtLeast'>;
/** 7.0 turned each of these with its own TypeFromString and text (measured); from virXMLPropEnum on, the generic one. */
const own = (ctx: Versioned, text: (v: string) => string) => ownText7(ctx, (v) => unsupportedDomain(text(v)));

const BY_TYPE: Record<(typeof GRAPHICS_TYPES)[number], (g: XmlNode, ctx: Versioned) => XmlNode> = {
  vnc: parseVnc,
  sdl: parseSdl,
  rdp: parseRdp,
  desktop: parseDesktop,
  spice: parseSpice,
  'egl-headless': parseEglHeadless,
  dbus: parseDbus,
};

export function parseGraphics(g: XmlNode, d: DomainDraft): XmlNode {
  // 7.0 reported a missing and an unknown type in its own words (measured).
  if (g.attrs.type === undefined && !d.ctx.libvirtAtLeast(AFTER_7_0[0], AFTER_7_0[1])) throw internalError('missing graphics device type');
  const type = propEnum(g, 'type', knownValues(GRAPHICS_TYPES, GRAPHICS_TYPES_SINCE, d.ctx), {
    required: true,
    ...own(d.ctx, (v) => `unknown graphics device type '${v}'`),
  })!;
  return BY_TYPE[type](g, d.ctx);
}

/** The audio ids of the domain's `<audio>` devices (as written: their parse keeps the id). */
const audioIds = (d: DomainDraft) => d.devices.filter((n) => n.name === 'audio').map((n) => n.attrs.id);

/** virDomainGraphicsDefValidate, then qemuValidateDomainDeviceDefGraphics. */
export function validateGraphics(g: XmlNode, d: DomainDraft): void {
  const type = g.attrs.type!;
  const listens = children(g, 'listen');
  if (type === 'vnc' || type === 'spice' || type === 'rdp') {
    if (listens.some((l) => l.attrs.type === 'network' && l.attrs.network === undefined)) {
      throw domainXmlError("'network' attribute is required for listen type 'network'");
    }
  }
  const audioId = child(g, 'audio')?.attrs.id;
  if (type === 'vnc' && audioId !== undefined && !audioIds(d).includes(audioId)) throw domainXmlError(`no audio device with ID ${audioId}`);
  if (type === 'dbus' && g.attrs.p2p === 'yes' && g.attrs.address !== undefined) throw domainXmlError('D-Bus p2p with an address is not supported');

  if (!QEMU_GRAPHICS_TYPES.includes(type)) throw qemuUnsupported(`${type} graphics are not supported with this QEMU`);
  const graphics = d.devices.filter((n) => n.name === 'graphics');
  if (graphics.some((n) => n.attrs.type === 'egl-headless')) {
    if (type !== 'egl-headless' && type !== 'vnc' && type !== 'spice') {
      throw qemuUnsupported("graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' graphics types");
    }
    if (type === 'spice' && child(g, 'gl')?.attrs.enable === 'yes') throw qemuUnsupported('multiple OpenGL displays are not supported by QEMU');
  }
  if (type === 'spice') {
    const first = listens[0]?.attrs.type;
    // qemu.conf's spice_tls is off by default.
    if ((first === 'address' || first === 'network') && Number(g.attrs.tlsPort ?? 0) > 0) {
      throw qemuUnsupported('spice TLS port set in XML configuration, but TLS is disabled in qemu.conf');
    }
  }
  if (type === 'vnc') {
    const passwd = graphicsPasswd(g);
    if (passwd !== undefined && Buffer.byteLength(passwd) > 8) {
      throw qemuUnsupported(`VNC password is ${Buffer.byteLength(passwd)} characters long, only 8 permitted`);
    }
  }
  if (type === 'dbus' && audioId !== undefined) {
    const audio = d.devices.find((n) => n.name === 'audio' && n.attrs.id === audioId);
    if (audio && audio.attrs.type !== 'dbus') throw qemuUnsupported("The associated audio is not of 'dbus' kind.");
  }
}

/** `<graphics type='spice'>` present (chardevs and audio that need a spice server ask this). */
export const hasSpiceGraphics = (d: DomainDraft) => d.devices.some((n) => n.name === 'graphics' && n.attrs.type === 'spice');
