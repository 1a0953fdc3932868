/**
 * `<hostdev>`: virDomainHostdevDefParseXML (conf/domain_conf.c) — subsystem devices (usb, pci,
 * scsi, scsi_host, mdev) and capabilities ones (storage, misc, net) — in its order of reads, the
 * canonical form virDomainHostdevDefFormat writes, the common validation (address types per
 * subsystem, duplicates, one ramfb vGPU) and the QEMU driver's (qemuValidateDomainDeviceDefHostdev,
 * with QEMU 7.2's x86 capabilities: vfio-pci and vhost-scsi present, vfio-ap and vfio-ccw absent).
 */
import type { XmlNode } from '../../xml-tree.ts';
import { child, children } from '../../xml-tree.ts';
import { node, textNode, type DomainDraft } from '../draft.ts';
import { prop, propEnum, propTristateBool, propTristateSwitch, propUInt, propULongLong, TRISTATE_BOOL } from '../props.ts';
import { attrString, stringOf } from '../scaled.ts';
import { domainXmlError, internalError, parseAddress, parseDeviceInfo, qemuUnsupported, unsupported } from './device-info.ts';

const MODES = ['subsystem', 'capabilities'] as const;
const SUBSYS_TYPES = ['usb', 'pci', 'scsi', 'scsi_host', 'mdev'] as const;
const CAPS_TYPES = ['storage', 'misc', 'net'] as const;
const PCI_BACKENDS = ['default', 'kvm', 'vfio', 'xen'] as const;
const SCSI_PROTOCOLS = ['adapter', 'iscsi'] as const;
const SCSI_HOST_PROTOCOLS = ['none', 'vhost'] as const;
const SCSI_HOST_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const MDEV_MODELS = ['vfio-pci', 'vfio-ccw', 'vfio-ap'] as const;
const USB_GUEST_RESET = ['default', 'off', 'uninitialized', 'on'] as const;
const STARTUP_POLICIES = ['default', 'mandatory', 'requisite', 'optional'] as const;
const SGIO = ['default', 'filtered', 'unfiltered'] as const;

interface HostdevModel {
  mode: (typeof MODES)[number];
  type: string;
  /** What virDomainHostdevMatch compares: equal keys are the same host device. */
  key: string;
  addressType: string | undefined;
  bootOrder: number | undefined;
  sgio?: string;
  writeFiltering?: string;
  backend?: string;
  guestReset?: string;
  mdevModel?: string;
  display?: string;
  ramfb?: string;
}

const MODELS = new WeakMap<XmlNode, HostdevModel>();
const hex = (n: number | bigint, width: number) => `0x${n.toString(16).padStart(width, '0')}`;

export function parseHostdev(input: XmlNode, _d: DomainDraft): XmlNode {
  const modeAttr = prop(input, 'mode');
  if (modeAttr !== undefined && !MODES.includes(modeAttr as (typeof MODES)[number])) throw unsupported(`unknown hostdev mode '${modeAttr}'`);
  const mode = (modeAttr ?? 'subsystem') as HostdevModel['mode'];
  const type = prop(input, 'type');
  const parsed = mode === 'subsystem' ? parseSubsys(input, type) : parseCaps(input, type);
  const info = parseDeviceInfo(input, { boot: true, rom: true });
  const m: HostdevModel = { ...parsed.model, mode, addressType: info.addressType, bootOrder: info.bootOrder };
  const scsi = mode === 'subsystem' && m.type === 'scsi';
  const out = node('hostdev', { mode, type: m.type, ...parsed.attrs }, [
    ...parsed.kids,
    scsi && child(input, 'readonly') && node('readonly'),
    scsi && child(input, 'shareable') && node('shareable'),
    ...info.nodes,
  ]);
  MODELS.set(out, m);
  return out;
}

interface Parsed {
  model: Omit<HostdevModel, 'mode' | 'addressType' | 'bootOrder'>;
  attrs: Record<string, string | undefined>;
  kids: (XmlNode | false | undefined)[];
}

/** virDomainHostdevDefParseXMLSubsys. */
function parseSubsys(input: XmlNode, type: string | undefined): Parsed {
  // libvirt ignores a managed value it cannot read (the reader's failure is discarded).
  const managedRaw = input.attrs.managed;
  const managed = managedRaw !== undefined && TRISTATE_BOOL.indexOf(managedRaw as 'yes') > 0 ? managedRaw : undefined;
  const model = prop(input, 'model');
  if (type === undefined) throw domainXmlError('missing source address type');
  if (!SUBSYS_TYPES.includes(type as (typeof SUBSYS_TYPES)[number])) throw unsupported(`unknown host device source address type '${type}'`);
  const src = child(input, 'source');
  if (!src) throw domainXmlError('Missing <source> element in hostdev device');
  if (type !== 'usb' && src.attrs.startupPolicy !== undefined) throw unsupported('Setting startupPolicy is only allowed for USB devices');
  const sgio = propEnum(input, 'sgio', SGIO, { nonzero: true });
  if (sgio !== undefined && type !== 'scsi') throw domainXmlError('sgio is only supported for scsi host device');
  const rawio = propTristateBool(input, 'rawio');
  if (rawio !== undefined && type !== 'scsi') throw domainXmlError('rawio is only supported for scsi host device');
  if (type !== 'mdev' && type !== 'scsi_host' && model !== undefined) {
    throw domainXmlError(`'model' attribute in <hostdev> is only supported when type='${type}'`);
  }
  const attrs: Parsed['attrs'] = { managed: managed === 'yes' ? 'yes' : 'no' };
  const out: Parsed = { model: { type, key: '' }, attrs, kids: [] };
  if (type === 'scsi_host') {
    const sm = propEnum(input, 'model', SCSI_HOST_MODELS);
    attrs.model = sm === 'default' ? undefined : sm;
  } else if (type === 'mdev') {
    out.model.mdevModel = propEnum(input, 'model', MDEV_MODELS, { required: true });
    out.model.display = propTristateSwitch(input, 'display');
    // qemuDomainHostdevDefMdevPostParse: QEMU 7.2 has vfio-pci's display, so a vfio-pci vGPU defaults it off.
    if (out.model.mdevModel === 'vfio-pci' && out.model.display === undefined) out.model.display = 'off';
    out.model.ramfb = propTristateSwitch(input, 'ramfb');
    Object.assign(attrs, { model: out.model.mdevModel, display: out.model.display, ramfb: out.model.ramfb });
  }
  if (type === 'scsi') Object.assign(attrs, { sgio, rawio });
  out.model.sgio = sgio;
  switch (type) {
    case 'pci': return parsePci(input, src, out);
    case 'usb': return parseUsb(src, out);
    case 'scsi': return parseScsi(src, out);
    case 'scsi_host': return parseScsiHost(src, out);
    default: return parseMdev(src, out);
  }
}

function parsePci(input: XmlNode, src: XmlNode, out: Parsed): Parsed {
  const wf = propTristateBool(src, 'writeFiltering');
  out.model.writeFiltering = wf;
  const a = child(src, 'address');
  let addr = { domain: 0, bus: 0, slot: 0, fn: 0 };
  if (a) {
    // virPCIDeviceAddressParseXML: the same readers and range checks as a device's PCI address.
    const p = parseAddress(node('address', { ...a.attrs, type: 'pci' }));
    const n = (k: string) => (p?.attrs[k] === undefined ? 0 : Number(p.attrs[k]));
    addr = { domain: n('domain'), bus: n('bus'), slot: n('slot'), fn: n('function') };
  }
  const drv = child(input, 'driver');
  const backend = drv && propEnum(drv, 'name', PCI_BACKENDS, { nonzero: true });
  out.model.backend = backend;
  out.model.key = `pci:${addr.domain}:${addr.bus}:${addr.slot}:${addr.fn}`;
  out.kids.push(
    backend && node('driver', { name: backend }),
    node('source', { writeFiltering: wf }, [
      node('address', { domain: hex(addr.domain, 4), bus: hex(addr.bus, 2), slot: hex(addr.slot, 2), function: `0x${addr.fn}` }),
    ]),
  );
  return out;
}

/** virDomainHostdevSubsysUSBDefParseXML. */
function parseUsb(src: XmlNode, out: Parsed): Parsed {
  const startupPolicy = propEnum(src, 'startupPolicy', STARTUP_POLICIES, { nonzero: true });
  propTristateBool(src, 'autoAddress');
  const guestReset = propEnum(src, 'guestReset', USB_GUEST_RESET, { nonzero: true });
  out.model.guestReset = guestReset;
  const vendorNode = child(src, 'vendor');
  const productNode = child(src, 'product');
  let vendor = 0;
  let product = 0;
  if (vendorNode) {
    vendor = propUInt(vendorNode, 'id', 0, { required: true, nonzero: true })!;
    if (!productNode) throw internalError('missing product');
  }
  if (productNode) {
    product = propUInt(productNode, 'id', 0, { required: true })!;
    if (!vendorNode) throw internalError('missing vendor');
  }
  let bus = 0;
  let device = 0;
  const a = child(src, 'address');
  if (a) {
    bus = propUInt(a, 'bus', 0, { required: true })!;
    device = propUInt(a, 'device', 0, { required: true })!;
  }
  out.model.key = bus && device ? `usb:${bus}:${device}` : `usbid:${vendor}:${product}`;
  out.kids.push(
    node('source', { startupPolicy, guestReset }, [
      vendor !== 0 && node('vendor', { id: hex(vendor, 4) }),
      vendor !== 0 && node('product', { id: hex(product, 4) }),
      (bus !== 0 || device !== 0) && node('address', { bus, device }),
    ]),
  );
  return out;
}

/** virDomainHostdevSubsysSCSIDefParseXML: a host adapter address, or an iSCSI target. */
function parseScsi(src: XmlNode, out: Parsed): Parsed {
  const protocol = prop(src, 'protocol');
  if (protocol !== undefined && !SCSI_PROTOCOLS.includes(protocol as 'iscsi')) throw unsupported(`Unknown SCSI subsystem protocol '${protocol}'`);
  if (protocol === 'iscsi') {
    const name = prop(src, 'name');
    if (name === undefined) throw domainXmlError('missing iSCSI hostdev source path name');
    const hosts = children(src, 'host');
    const h = hosts[0];
    if (h) parseIscsiHost(h);
    if (hosts.length < 1) throw domainXmlError('missing the host address for the iSCSI hostdev');
    if (hosts.length > 1) throw domainXmlError('only one source host address may be specified for the iSCSI hostdev');
    // auth and initiator: kept as written (their readers are not modelled).
    out.model.key = `iscsi:${h!.attrs.name}:${h!.attrs.port ?? ''}:${name}`;
    out.kids.push(node('source', { protocol, name }, [node('host', { name: h!.attrs.name, port: h!.attrs.port }), child(src, 'auth'), child(src, 'initiator')]));
    return out;
  }
  const a = child(src, 'address');
  if (!a) throw domainXmlError("'address' must be specified for scsi hostdev source");
  const bus = propUInt(a, 'bus', 0, { required: true })!;
  const target = propUInt(a, 'target', 0, { required: true })!;
  const unit = propULongLong(a, 'unit', 0, { required: true })!;
  const adapter = attrString(child(src, 'adapter'), 'name');
  if (adapter === undefined) throw domainXmlError("'adapter' name must be specified for scsi hostdev source");
  out.model.key = `scsi:${adapter}:${bus}:${target}:${unit}`;
  out.kids.push(node('source', {}, [node('adapter', { name: adapter }), node('address', { bus, target, unit: unit.toString() })]));
  return out;
}

/** virDomainStorageNetworkParseHost, for the single iSCSI host (tcp transport: a name). */
function parseIscsiHost(h: XmlNode): void {
  const transport = prop(h, 'transport');
  if (transport !== undefined && !['tcp', 'unix', 'rdma'].includes(transport)) throw unsupported(`unknown protocol transport type '${transport}'`);
  const socket = prop(h, 'socket');
  if (transport === 'unix' && socket === undefined) throw domainXmlError('missing socket for unix transport');
  if (transport !== 'unix' && socket !== undefined) throw domainXmlError(`transport '${transport ?? '(null)'}' does not support socket attribute`);
  if (transport !== 'unix' && h.attrs.name === undefined) throw domainXmlError('missing name for host');
}

/** virDomainHostdevSubsysSCSIVHostDefParseXML: vhost-scsi by its WWPN. */
function parseScsiHost(src: XmlNode, out: Parsed): Parsed {
  const protocol = prop(src, 'protocol');
  if (protocol === undefined) throw domainXmlError('Missing scsi_host subsystem protocol');
  if (SCSI_HOST_PROTOCOLS.indexOf(protocol as 'vhost') <= 0) throw unsupported(`Unknown scsi_host subsystem protocol '${protocol}'`);
  const wwpn = prop(src, 'wwpn');
  if (wwpn === undefined) throw domainXmlError('missing vhost-scsi hostdev source wwpn');
  // virValidateWWN: 16 hex digits, an optional 0x prefix.
  if (!wwpn.startsWith('naa.') || !/^(0x)?[0-9a-fA-F]{16}$/.test(wwpn.slice(4))) throw domainXmlError("malformed 'wwpn' value");
  out.model.key = `vhost:${wwpn}`;
  out.kids.push(node('source', { protocol, wwpn }));
  return out;
}

/** virDomainHostdevSubsysMediatedDevDefParseXML. */
function parseMdev(src: XmlNode, out: Parsed): Parsed {
  const a = child(src, 'address');
  if (!a) throw unsupported('Missing <address> element');
  const uuid = prop(a, 'uuid');
  if (uuid === undefined) throw unsupported("Missing 'uuid' attribute for element <address>");
  const canonical = parseUuid(uuid);
  if (canonical === null) throw internalError('Cannot parse uuid attribute of element <address>');
  out.model.key = `mdev:${canonical}`;
  out.kids.push(node('source', {}, [node('address', { uuid: canonical })]));
  return out;
}

/** virUUIDParse: leading blanks, 32 hex digits with '-' anywhere between pairs, trailing blanks. */
function parseUuid(s: string): string | null {
  let i = 0;
  while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++;
  let hexDigits = '';
  while (hexDigits.length < 32 && i < s.length) {
    if (s[i] === '-') { i++; continue; }
    const pair = s.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return null;
    hexDigits += pair.toLowerCase();
    i += 2;
  }
  if (hexDigits.length < 32) return null;
  if (!/^\s*$/.test(s.slice(i))) return null;
  const h = hexDigits;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** virDomainHostdevDefParseXMLCaps. */
function parseCaps(input: XmlNode, type: string | undefined): Parsed {
  if (type === undefined) throw domainXmlError('missing source address type');
  if (!CAPS_TYPES.includes(type as 'net')) throw unsupported(`unknown host device source address type '${type}'`);
  const src = child(input, 'source');
  if (!src) throw domainXmlError('Missing <source> element in hostdev device');
  const [el, what] = type === 'storage' ? ['block', 'hostdev storage device'] : type === 'misc' ? ['char', 'hostdev character device'] : ['interface', 'hostdev net device'];
  const value = stringOf(child(src, el));
  if (value === undefined) throw domainXmlError(`Missing <${el}> element in ${what}`);
  // The net form's <ip>/<route> children are not modelled: the QEMU driver refuses capabilities mode.
  return { model: { type, key: `caps:${type}:${value}` }, attrs: {}, kids: [node('source', {}, [textNode(el, value)])] };
}

/** virDomainHostdevDefValidate, then qemuValidateDomainDeviceDefHostdev. */
export function validateHostdev(h: XmlNode, d: DomainDraft): void {
  const m = MODELS.get(h);
  if (!m) return;
  const at = m.addressType;
  if (m.mode === 'subsystem') {
    if (m.type === 'pci' && at !== undefined && at !== 'unassigned' && at !== 'pci') throw internalError("PCI host devices must use 'pci' or 'unassigned' address type");
    if (m.type === 'scsi') {
      if (at !== undefined && at !== 'drive') throw unsupported("SCSI host device must use 'drive' address type");
      if (m.sgio === 'unfiltered') throw unsupported('unfiltered sgio is no longer supported');
    }
    if (m.type === 'scsi_host' && at !== undefined && at !== 'pci' && at !== 'ccw') throw unsupported("SCSI_host host device must use 'pci' or 'ccw' address type");
    if (m.type === 'usb' && at !== undefined && at !== 'usb') throw unsupported("USB host device must use 'usb' address type");
  }
  if (m.mode === 'capabilities') throw qemuUnsupported(`hostdev mode 'capabilities' is not supported in ${d.rootAttrs.type ?? 'qemu'}`);
  if (m.type === 'pci' && m.writeFiltering !== undefined) throw qemuUnsupported('Write filtering of PCI device configuration space is not supported by qemu');
  if (m.type === 'scsi_host' && m.bootOrder) throw qemuUnsupported('booting from assigned devices is not supported by vhost SCSI devices');
  if (m.type === 'mdev') validateMdev(m, d);
}

function validateMdev(m: HostdevModel, d: DomainDraft): void {
  if (m.mdevModel === 'vfio-ccw') throw qemuUnsupported('VFIO CCW device assignment is not supported by this version of QEMU');
  if (m.mdevModel === 'vfio-ap') throw qemuUnsupported('VFIO AP device assignment is not supported by this version of QEMU');
  if (m.display !== undefined && m.mdevModel !== 'vfio-pci') throw qemuUnsupported("<hostdev> attribute 'display' is only supported with model='vfio-pci'");
  if (m.display === 'on' && !d.devices.some((n) => n.name === 'graphics')) {
    throw qemuUnsupported("graphics device is needed for attribute value 'display=on' in <hostdev>");
  }
}

/** virDomainDefHostdevValidate: no host device twice, at most one vGPU with ramfb. */
export function validateHostdevSet(d: DomainDraft): void {
  const all = d.devices.filter((n) => n.name === 'hostdev').map((n) => MODELS.get(n)).filter((m): m is HostdevModel => !!m);
  let ramfb = false;
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    for (let j = i + 1; j < all.length; j++) {
      if (a.mode === all[j]!.mode && a.key === all[j]!.key) throw domainXmlError('Hostdev already exists in the domain configuration');
    }
    if (a.type === 'mdev' && a.ramfb === 'on') {
      if (ramfb) throw unsupported("Only one vgpu device can have 'ramfb' enabled");
      ramfb = true;
    }
  }
}
