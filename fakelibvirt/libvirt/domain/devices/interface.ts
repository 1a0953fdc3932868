/**
 * `<interface>`: virDomainNetDefParseXML and virDomainNetDefFormat (conf/domain_conf.c), with the
 * QEMU driver's default model (qemuDomainDefaultNetModel). Parts whose inner grammar is not
 * modelled (bandwidth, filterref parameters, coalesce, ip/route, hostdev source) are kept as
 * written in libvirt's place for them.
 */
import { parseVlan } from './vlan.ts';
import { LibvirtError, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import { strToUIntPositive } from '../c-numbers.ts';
import { draw, node, type DomainDraft } from '../draft.ts';
import { missingAttr, ownText7, prop, propEnum, propInt, propTristateBool, propTristateSwitch, propUInt, unsupportedDomain } from '../props.ts';
import { domainXmlError, guestArch, parseDeviceInfo, unsupported, virtioOptions } from './device-info.ts';
import { AFTER_7_0, knownValues, ruleApplies, type Since } from '../since.ts';
import { requireSharedMemory } from './filesystem.ts';

/** virDomainNetType. */
export const NET_TYPES = [
  'user', 'ethernet', 'vhostuser', 'server', 'client', 'mcast', 'network', 'bridge', 'internal', 'direct', 'hostdev', 'udp',
  'vdpa', 'null', 'vds',
] as const;
/** NEWS 8.7.0: null and vds interfaces (7.0 refuses null, measured). */
const NET_TYPES_SINCE: Since = { null: [8, 7], vds: [8, 7] };
/** virDomainNetModel: names matched case-insensitively and written back in this spelling. */
const NET_MODELS = [
  'unknown', 'netfront', 'rtl8139', 'virtio', 'e1000', 'e1000e', 'virtio-transitional', 'virtio-non-transitional', 'usb-net',
  'spapr-vlan', 'lan9118', 'scm91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'Am79C970A', 'Am79C973', '82540EM', '82545EM',
  '82543GC',
];
const NET_DRIVERS = ['default', 'qemu', 'vhost'] as const;
const TX_MODES = ['default', 'iothread', 'timer'] as const;
const LINK_STATES = ['default', 'up', 'down'] as const;
const MAC_TYPES = ['', 'generated', 'static'] as const;
const NET_BACKENDS = ['default', 'passt'] as const;
const TEAMING_TYPES = ['none', 'persistent', 'transient'] as const;
const MACVLAN_MODES = ['vepa', 'private', 'bridge', 'passthrough'] as const;
const VHOSTUSER_MODES = ['', 'client', 'server'] as const;
const VPORT_TYPES = ['none', '802.1Qbg', '802.1Qbh', 'openvswitch', 'midonet'] as const;
const MODEL_CHARS = /^[A-Za-z0-9_-]*$/;

const VIR_FROM_NONE = 0;
const VIR_FROM_NET = 11;

export const isVirtioNetModel = (m: string | undefined) => m === 'virtio' || m === 'virtio-transitional' || m === 'virtio-non-transitional';

/** virMacAddrParse: six 1–2 digit hex groups split by ':'; anything up to a space may follow. */
export function parseMac(s: string): number[] | null {
  const out: number[] = [];
  let rest = s;
  for (let i = 0; i < 6; i++) {
    const m = /^[0-9a-fA-F]{1,2}/.exec(rest);
    if (!m || /^[0-9a-fA-F]/.test(rest.slice(m[0].length))) return null;
    out.push(parseInt(m[0], 16));
    rest = rest.slice(m[0].length);
    if (i === 5) return rest === '' || rest.charCodeAt(0) <= 0x20 ? out : null;
    if (!rest.startsWith(':')) return null;
    rest = rest.slice(1);
  }
  return null;
}

const formatMac = (b: number[]) => b.map((x) => x.toString(16).padStart(2, '0')).join(':');

export function parseInterface(n: XmlNode, d: DomainDraft): XmlNode {
  const type = propEnum(n, 'type', knownValues(NET_TYPES, NET_TYPES_SINCE, d.ctx), {
    ownText: { ctx: d.ctx, until: AFTER_7_0, error: (v) => unsupported(`unknown interface type '${v}'`) },
  }) ?? 'user';
  const trust = propTristateBool(n, 'trustGuestRxFilters');
  const modelText = child(n, 'model')?.attrs.type || undefined;
  let model: string | undefined;
  if (modelText !== undefined) {
    model = NET_MODELS.find((m) => m.toLowerCase() === modelText.toLowerCase());
    if (model === undefined) {
      if (!MODEL_CHARS.test(modelText)) throw LibvirtError.of(VirErrorNumber.INVALID_ARG, 20 as never, 'Model name contains invalid characters');
      model = modelText;
    }
  }
  const source = child(n, 'source');
  const kids: (XmlNode | undefined)[] = [];
  const sourceNode = parseSource(n, type, source);
  let vportFlags: 'none' | 'defaults' | 'all' = 'none';
  if (type === 'network') vportFlags = 'defaults';
  if (type === 'bridge' || type === 'direct' || type === 'hostdev') vportFlags = 'all';
  const vport = child(n, 'virtualport');
  let vportNode: XmlNode | undefined;
  if (vport) {
    if (vportFlags === 'none') throw unsupported(`<virtualport> element unsupported for <interface type='${type}'>`);
    vportNode = parseVirtualport(vport, vportFlags === 'all', d);
  }
  const target = child(n, 'target');
  const managedTap = target ? propTristateBool(target, 'managed') : undefined;
  let ifname = target ? prop(target, 'dev') : undefined;
  // 7.0 turned '' as an unknown state (measured); 9.0 reads it as no state.
  const linkText = child(n, 'link')?.attrs.state;
  const linkState = linkText === '' && ruleApplies('emptyEnumIsUnknown', d.ctx) ? '' : linkText || undefined;
  const filterref = type === 'network' || type === 'bridge' || type === 'ethernet' ? child(n, 'filterref') : undefined;
  const vlanEl = child(n, 'vlan');
  const vlanNode = vlanEl && parseVlan(vlanEl);
  const macNode = child(n, 'mac');
  let mac: string | undefined;
  let macType: string | undefined;
  let macCheck: string | undefined;
  if (macNode) {
    const written = prop(macNode, 'address');
    if (written !== undefined) {
      const bytes = parseMac(written);
      if (!bytes) throw domainXmlError(`unable to parse mac address '${written}'`);
      if (bytes[0]! & 1) throw domainXmlError(`expected unicast mac address, found multicast '${written}'`);
      mac = formatMac(bytes);
    }
    macType = propEnum(macNode, 'type', MAC_TYPES, { nonzero: true });
    macCheck = propTristateBool(macNode, 'check');
  }
  // virDomainNetGenerateMAC, drawn through the draft so a memoised define draws its own.
  mac ??= draw(d, 'mac');
  const info = parseDeviceInfo(n, { boot: true, rom: true });
  // An auto-generated tap name (vnet*, macvtap*, macvlan*) is blanked in an inactive definition.
  if (managedTap !== 'no' && ifname !== undefined && /^(vnet|macvtap|macvlan)/.test(ifname)) ifname = undefined;
  const driver = parseDriver(n, type, model, d);
  const backend = child(n, 'backend');
  let backendNode: XmlNode | undefined;
  if (backend) {
    const btype = propEnum(backend, 'type', NET_BACKENDS, { nonzero: true });
    const vhost = isVirtioNetModel(model) && type !== 'hostdev' ? prop(backend, 'vhost') : undefined;
    backendNode = node('backend', { type: btype, tap: prop(backend, 'tap'), vhost, logFile: prop(backend, 'logFile') });
    if (Object.keys(backendNode.attrs).length === 0) backendNode = undefined;
  }
  if (linkState !== undefined && LINK_STATES.indexOf(linkState as never) <= 0) {
    throw unsupported(`unknown interface link state '${linkState}'`);
  }
  const teaming = child(n, 'teaming');
  if (teaming && (teaming.attrs.type !== undefined || teaming.attrs.persistent !== undefined)) {
    const t = teaming.attrs.type;
    if (t === undefined || TEAMING_TYPES.indexOf(t as never) <= 0) throw unsupported(`unknown teaming type '${t ?? '(null)'}'`);
  }
  const sndbuf = child(child(n, 'tune') ?? n, 'sndbuf');
  const mtuText = child(n, 'mtu')?.attrs.size;
  let mtu: number | undefined;
  if (mtuText !== undefined) {
    const v = strToUIntPositive(mtuText, 10);
    if (v === null) throw domainXmlError('malformed mtu size');
    mtu = v;
  }
  const port = child(n, 'port');
  const isolated = port ? propTristateBool(port, 'isolated') : undefined;
  // Measured on libvirt 9.0 (QEMU 7.2 without passt support): refused with this text from the domain code.
  if (backendNode?.attrs.type === 'passt') throw passtError();

  kids.push(node('mac', { address: mac, type: macType, check: macCheck }));
  kids.push(sourceNode);
  kids.push(vlanNode, vportNode, child(n, 'bandwidth'));
  if (isolated !== undefined) kids.push(node('port', { isolated }));
  kids.push(...n.children.filter((c) => c.name === 'ip' || c.name === 'route'));
  kids.push(...n.children.filter((c) => c.name === 'portForward'));
  for (const s of ['script', 'downscript']) {
    const p = child(n, s)?.attrs.path;
    if (p !== undefined) kids.push(node(s, { path: p }));
  }
  const bd = child(n, 'backenddomain')?.attrs.name;
  if (bd !== undefined) kids.push(node('backenddomain', { name: bd }));
  if (ifname !== undefined || managedTap !== undefined) kids.push(node('target', { dev: ifname, managed: managedTap }));
  const guest = child(n, 'guest');
  if (guest?.attrs.dev !== undefined) kids.push(node('guest', { dev: guest.attrs.dev }));
  const effectiveModel = model ?? defaultModel(type, d);
  if (effectiveModel !== undefined) {
    kids.push(node('model', { type: effectiveModel }));
    if (isVirtioNetModel(effectiveModel) && driver) kids.push(driver);
  }
  kids.push(backendNode);
  if (filterref?.attrs.filter !== undefined) kids.push(filterref);
  if (sndbuf) kids.push(node('tune', {}, [sndbuf]));
  if (teaming?.attrs.type !== undefined) kids.push(node('teaming', { type: teaming.attrs.type, persistent: teaming.attrs.persistent }));
  if (linkState !== undefined) kids.push(node('link', { state: linkState }));
  if (mtu) kids.push(node('mtu', { size: mtu }));
  kids.push(child(n, 'coalesce'));
  kids.push(...info.nodes);
  return node('interface', { type, trustGuestRxFilters: trust }, kids);
}

const passtError = () => LibvirtError.of(VirErrorNumber.XML_ERROR, 20 as never, "Invalid value for attribute 'type' in element 'backend': 'passt'.");

/** qemuDomainDeviceNetDefPostParse: vdpa gets virtio; others the arch's default (rtl8139 on x86). */
function defaultModel(type: string, d: DomainDraft): string | undefined {
  if (type === 'hostdev') return undefined;
  if (type === 'vdpa') return 'virtio';
  const arch = guestArch(d);
  if (arch.startsWith('s390')) return 'virtio';
  if (arch === 'aarch64' || arch === 'armv7l' || arch === 'armv6l') return 'virtio';
  return 'rtl8139';
}

function requireSource(type: string, source: XmlNode | undefined): XmlNode {
  if (!source) throw domainXmlError(`interface type='${type}' requires a 'source' element`);
  return source;
}

function required(n: XmlNode, name: string): string {
  const v = n.attrs[name];
  if (v === undefined) throw missingAttr(n, name);
  return v;
}

function parseSource(n: XmlNode, type: string, source: XmlNode | undefined): XmlNode | undefined {
  switch (type) {
    case 'network': {
      const s = requireSource(type, source);
      return node('source', { network: required(s, 'network'), portgroup: prop(s, 'portgroup') });
    }
    case 'vds': {
      const s = requireSource(type, source);
      required(s, 'switchid');
      return s;
    }
    case 'internal':
      return node('source', { name: required(requireSource(type, source), 'name') });
    case 'bridge':
      return node('source', { bridge: required(requireSource(type, source), 'bridge') });
    case 'direct': {
      const s = requireSource(type, source);
      const dev = required(s, 'dev');
      const mode = propEnum(s, 'mode', MACVLAN_MODES) ?? 'vepa';
      return node('source', { dev, mode });
    }
    case 'vhostuser': {
      const s = requireSource(type, source);
      const t = required(s, 'type');
      if (t !== 'unix') throw unsupported(`Type='${t}' unsupported for <interface type='vhostuser'>`);
      const path = required(s, 'path');
      const mode = propEnum(s, 'mode', VHOSTUSER_MODES, { required: true, nonzero: true });
      return node('source', { type: 'unix', path, mode }, [child(s, 'reconnect')]);
    }
    case 'vdpa':
      return node('source', { dev: required(requireSource(type, source), 'dev') });
    case 'client':
    case 'server':
    case 'mcast':
    case 'udp': {
      const s = requireSource(type, source);
      const address = type === 'server' ? prop(s, 'address') : required(s, 'address');
      const port = propInt(s, 'port', 10, { required: true });
      let local: XmlNode | undefined;
      if (type === 'udp') {
        const l = child(s, 'local');
        if (!l) throw domainXmlError("'<local>' element missing for 'udp' socket interface");
        local = node('local', { address: required(l, 'address'), port: propInt(l, 'port', 10, { required: true }) });
      }
      return node('source', { address, port }, [local]);
    }
    case 'hostdev':
      return source;
    default:
      return undefined;
  }
}

/** virNetDevVPortProfileParse: the type, its required parameters, the generated interfaceid. */
function parseVirtualport(v: XmlNode, requireAll: boolean, d: DomainDraft): XmlNode {
  const t = v.attrs.type;
  const ti = t === undefined ? 0 : VPORT_TYPES.indexOf(t as never);
  if (t !== undefined && ti <= 0) throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VIR_FROM_NONE as never, `unknown virtualport type ${t}`);
  if (ti <= 0 && requireAll) throw LibvirtError.of(VirErrorNumber.XML_ERROR, VIR_FROM_NONE as never, 'missing required virtualport type');
  const params = { ...(child(v, 'parameters')?.attrs ?? {}) };
  if (t === 'openvswitch' && params.interfaceid === undefined) params.interfaceid = draw(d, 'uuid');
  if (t === '802.1Qbg' && params.instanceid === undefined && params.managerid !== undefined) params.instanceid = draw(d, 'uuid');
  const missing =
    t === '802.1Qbg'
      ? ['managerid', 'typeid', 'typeidversion', 'instanceid'].find((k) => params[k] === undefined)
      : t === '802.1Qbh'
        ? (params.profileid === undefined ? 'profileid' : undefined)
        : t === 'midonet' && params.interfaceid === undefined
          ? 'interfaceid'
          : undefined;
  if (missing && requireAll) throw LibvirtError.of(VirErrorNumber.XML_ERROR, VIR_FROM_NET as never, `missing ${missing} in <virtualport type='${t}'>`);
  const p = Object.keys(params).length ? node('parameters', params) : undefined;
  return node('virtualport', { type: t }, [p]);
}

/** virDomainNetDefParseXMLDriver: virtio options always; the rest only for a virtio model. */
function parseDriver(n: XmlNode, type: string, model: string | undefined, d: DomainDraft): XmlNode | undefined {
  const drv = child(n, 'driver');
  if (!drv) return undefined;
  const virtio = virtioOptions(drv, d.ctx);
  if (type === 'hostdev' || !isVirtioNetModel(model)) return undefined;
  const name = propEnum(drv, 'name', NET_DRIVERS, { nonzero: true, ...ownText7(d.ctx, (v) => unsupportedDomain(`Unknown interface <driver name='${v}'> has been specified`)) });
  const txmode = propEnum(drv, 'txmode', TX_MODES, { nonzero: true, ...ownText7(d.ctx, (v) => unsupportedDomain(`Unknown interface <driver txmode='${v}'> has been specified`)) });
  const ioeventfd = propTristateSwitch(drv, 'ioeventfd', ownText7(d.ctx, (v) => unsupportedDomain(`unknown interface ioeventfd mode '${v}'`)));
  const eventIdx = propTristateSwitch(drv, 'event_idx', ownText7(d.ctx, (v) => unsupportedDomain(`unknown interface event_idx mode '${v}'`)));
  let queues = propUInt(drv, 'queues', 10);
  if (queues === 1 || queues === 0) queues = undefined;
  const rx = propUInt(drv, 'rx_queue_size', 10) || undefined;
  const tx = propUInt(drv, 'tx_queue_size', 10) || undefined;
  const rss = propTristateSwitch(drv, 'rss');
  const rssHash = propTristateSwitch(drv, 'rss_hash_report');
  const host = child(drv, 'host');
  const hostAttrs = host
    ? Object.fromEntries(['csum', 'gso', 'tso4', 'tso6', 'ecn', 'ufo', 'mrg_rxbuf'].map((k) => [k, propTristateSwitch(host, k, ownText7(d.ctx, (v) => unsupportedDomain(`unknown host ${k} mode '${v}'`)))]))
    : {};
  const guest = child(drv, 'guest');
  const guestAttrs = guest ? Object.fromEntries(['csum', 'tso4', 'tso6', 'ecn', 'ufo'].map((k) => [k, propTristateSwitch(guest, k, ownText7(d.ctx, (v) => unsupportedDomain(`unknown guest ${k} mode '${v}'`)))])) : {};
  const hostNode = node('host', hostAttrs);
  const guestNode = node('guest', guestAttrs);
  const out = node(
    'driver',
    { name, txmode, ioeventfd, event_idx: eventIdx, queues, rx_queue_size: rx, tx_queue_size: tx, rss, rss_hash_report: rssHash, ...virtio },
    [Object.keys(hostNode.attrs).length > 0 && hostNode, Object.keys(guestNode.attrs).length > 0 && guestNode],
  );
  return Object.keys(out.attrs).length > 0 || out.children.length > 0 ? out : undefined;
}

/** qemuValidateDomainDeviceDefNetwork's vhost-user rule (11.2+; a warning before): the guest's memory must be shared. */
export function validateInterface(n: XmlNode, d: DomainDraft): void {
  if (n.attrs.type === 'vhostuser' && ruleApplies('vhostuserInterfaceNeedsSharedMemory', d.ctx)) requireSharedMemory(d, 'interface');
}
