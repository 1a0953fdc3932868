/**
 * `<video>`: virDomainVideoDefParseXML's checks in its order (acceleration, resolution, driver,
 * model type, the sizes as unsigned decimals) and the canonical form virDomainVideoDefFormat writes
 * (driver, then model with type ram vram vram64 vgamem heads primary, then device info); the
 * post-parse (primary first, the QEMU driver's default model and qxl vgamem, libvirt's default
 * (V)RAM rounded up to a power of two, a leading 'none' video cleared); common and QEMU validation.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import { strToUIntPositive } from '../c-numbers.ts';
import { node, type DomainDraft } from '../draft.ts';
import { invalidAttr, ownText7, propEnum, propTristateBool, propUInt, unsupportedDomain, xmlError } from '../props.ts';
import { domainXmlError, internalError, parseDeviceInfo, qemuUnsupported, unsupported, virtioOptions } from './device-info.ts';
import { ruleApplies } from '../since.ts';

/** virDomainVideoType. */
const VIDEO_TYPES = ['default', 'vga', 'cirrus', 'vmvga', 'xen', 'vbox', 'qxl', 'parallels', 'virtio', 'gop', 'none', 'bochs', 'ramfb'];
/** The models QEMU 7.2 offers in domain capabilities. */
const QEMU_VIDEO_TYPES = ['vga', 'cirrus', 'vmvga', 'qxl', 'virtio', 'none', 'bochs', 'ramfb'];
const VIDEO_BACKENDS = ['default', 'qemu', 'vhostuser'] as const;
/** virDomainVideoVGAConf. */
const VGACONF = ['io', 'on', 'off'] as const;
/** QEMU_QXL_VGAMEM_DEFAULT. */
const QXL_VGAMEM_KIB = 16 * 1024;

/** virDomainVideoDefaultRAM for a QEMU domain. */
function defaultRam(type: string): number {
  if (type === 'vga' || type === 'cirrus' || type === 'vmvga' || type === 'bochs') return 16 * 1024;
  if (type === 'xen') return 4 * 1024;
  if (type === 'qxl') return 64 * 1024;
  return 0;
}

/** VIR_ROUND_UP_POWER_OF_TWO on an unsigned int: 0 stays 0, values past 2^31 become 0. */
function roundUpPow2(v: number): number {
  if (v <= 0 || v > 2 ** 31) return 0;
  let p = 1;
  while (p < v) p *= 2;
  return p;
}

const SIZES = ['ram', 'vram', 'vram64', 'vgamem'] as const;

/** virXMLPropUInt's text for a `<model>` size that is not an unsigned int. */
const uintError = (attr: string, v: string) =>
  xmlError(`Invalid value for attribute '${attr}' in element 'model': '${v}'. Expected non-negative integer value`);

export function parseVideo(n: XmlNode, d: DomainDraft): XmlNode {
  const model = child(n, 'model');
  // virStringParseYesNo: anything but yes/no is ignored.
  const primary = model?.attrs.primary === 'yes';
  const accel = model && child(model, 'acceleration');
  let accelNode: XmlNode | undefined;
  if (accel) {
    const rendernode = accel.attrs.rendernode;
    const accel3d = propTristateBool(accel, 'accel3d', ownText7(d.ctx, (v) => unsupportedDomain(`unknown accel3d value '${v}'`)));
    const accel2d = propTristateBool(accel, 'accel2d', ownText7(d.ctx, (v) => unsupportedDomain(`unknown accel2d value '${v}'`)));
    if (rendernode === undefined && accel3d === undefined && accel2d === undefined) throw unsupported('missing values for acceleration');
    accelNode = node('acceleration', { accel3d, accel2d, rendernode: rendernode === undefined ? undefined : sanitizePath(rendernode) });
  }
  const res = model && child(model, 'resolution');
  let resNode: XmlNode | undefined;
  if (res) {
    const x = propUInt(res, 'x', 10, { required: true })!;
    const y = propUInt(res, 'y', 10, { required: true })!;
    resNode = node('resolution', x && y ? { x, y } : {});
  }
  const driver = child(n, 'driver');
  let backend: string | undefined;
  let virtio: Record<string, string | undefined> = {};
  if (driver) {
    backend = propEnum(driver, 'name', VIDEO_BACKENDS, { nonzero: true, ...ownText7(d.ctx, (v) => unsupportedDomain(`unknown video driver '${v}'`)) });
    virtio = virtioOptions(driver, d.ctx);
  }
  // '' is no model to 9.0; 7.0 turned it as an unknown one, and 11.3's virXMLPropEnum refuses it (both measured).
  const written = model?.attrs.type;
  const type = written === '' && (ruleApplies('emptyEnumIsUnknown', d.ctx) || ruleApplies('emptyVideoModelInvalid', d.ctx)) ? '' : written || undefined;
  if (type !== undefined && !VIDEO_TYPES.includes(type)) {
    if (ruleApplies('emptyVideoModelInvalid', d.ctx)) throw invalidAttr(model!, 'type', type);
    throw unsupported(`unknown video model '${type}'`);
  }
  const sizes: Record<string, number | undefined> = {};
  const generic = ruleApplies('devicePropReaders', d.ctx);
  for (const size of SIZES) {
    const v = model?.attrs[size];
    if (v === undefined || (v === '' && !generic)) continue;
    const num = strToUIntPositive(v, 10);
    if (num === null) throw generic ? uintError(size, v) : domainXmlError(`cannot parse video ${size} '${v}'`);
    sizes[size] = num || undefined;
  }
  // virDomainVideoDefNew starts with one head.
  let heads: number | undefined = 1;
  const headsText = model?.attrs.heads;
  if (headsText !== undefined && (headsText !== '' || generic)) {
    const h = strToUIntPositive(headsText, 10);
    if (h === null) throw generic ? uintError('heads', headsText) : internalError(`cannot parse video heads '${headsText}'`);
    heads = h || undefined;
  }
  const info = parseDeviceInfo(n);
  // A bad vgaconf is reported but the definition goes on without the driver settings.
  let vgaconf: string | undefined;
  try {
    vgaconf = driver ? propEnum(driver, 'vgaconf', VGACONF) : undefined;
  } catch {
    vgaconf = undefined;
  }
  // 'io' is the enum's first entry, which the formatter leaves out.
  const driverAttrs = { ...virtio, vgaconf: vgaconf === 'io' ? undefined : vgaconf, name: backend };
  const hasDriver = Object.values(driverAttrs).some((v) => v !== undefined);
  return node('video', {}, [
    hasDriver && node('driver', driverAttrs),
    node('model', { type: type ?? 'default', ...sizes, heads, primary: primary ? 'yes' : undefined }, [accelNode, resNode]),
    ...info.nodes,
  ]);
}

/** virFileSanitizePath: no doubled slashes, no trailing one. */
function sanitizePath(p: string): string {
  const s = p.replace(/\/{2,}/g, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

const modelOf = (v: XmlNode) => child(v, 'model')!;
const num = (m: XmlNode, k: string) => (m.attrs[k] === undefined ? 0 : Number(m.attrs[k]));

/** Rebuilds a video's model element with new attributes (children kept). */
function withModel(v: XmlNode, attrs: Record<string, string | number | undefined>): XmlNode {
  const m = modelOf(v);
  return node('video', v.attrs, v.children.map((c) => (c === m ? node('model', attrs, m.children) : c)));
}

/** The device post-parse of each video (QEMU's, then the common one). */
function postParseVideo(v: XmlNode, primary: boolean): XmlNode {
  const m = modelOf(v);
  let type = m.attrs.type!;
  // qemuDomainDefaultVideoDevice: QEMU 7.2 on x86 has cirrus-vga.
  if (type === 'default') type = 'cirrus';
  const vgamem = type === 'qxl' && !num(m, 'vgamem') ? QXL_VGAMEM_KIB : num(m, 'vgamem');
  let ram = num(m, 'ram');
  let vram = num(m, 'vram');
  if (ram === 0 && type === 'qxl') ram = defaultRam(type);
  if (vram === 0) vram = defaultRam(type);
  ram = roundUpPow2(ram);
  vram = roundUpPow2(vram);
  const some = (x: number) => x || undefined;
  return withModel(v, {
    type, ram: some(ram), vram: some(vram), vram64: some(num(m, 'vram64')), vgamem: some(vgamem), heads: some(num(m, 'heads')),
    primary: primary ? 'yes' : undefined,
  });
}

/**
 * The videos' post-parse: the parser puts each primary one first; each is completed; then the first
 * is primary (virDomainDefPostParseVideo), or cleared to a bare model when it is 'none'.
 */
export function postParseVideos(d: DomainDraft): void {
  const at = d.devices.map((n, i) => (n.name === 'video' ? i : -1)).filter((i) => i >= 0);
  if (at.length === 0) return;
  const ordered: XmlNode[] = [];
  for (const i of at) {
    const v = d.devices[i]!;
    if (modelOf(v).attrs.primary === 'yes') ordered.unshift(v);
    else ordered.push(v);
  }
  const done = ordered.map((v) => postParseVideo(v, modelOf(v).attrs.primary === 'yes'));
  const first = done[0]!;
  if (modelOf(first).attrs.type === 'none') {
    done[0] = node('video', {}, [node('model', { type: 'none' }), child(first, 'alias')]);
  } else {
    done[0] = postParseVideo(first, true);
  }
  at.forEach((i, k) => (d.devices[i] = done[k]!));
}

/** Every video device: one primary at most, then the common and QEMU driver's rules for each. */
export function validateVideos(d: DomainDraft): void {
  const videos = d.devices.filter((v) => v.name === 'video');
  // The parser put a primary one first; a second one written primary is refused.
  if (videos.filter((v) => modelOf(v).attrs.primary === 'yes').length > 1) throw unsupported('Only one primary video device is supported');
  for (const v of videos) {
    validateVideoCommon(v, videos.length);
    validateVideoQemu(v);
  }
}

/** virDomainVideoDefValidate. */
function validateVideoCommon(v: XmlNode, count: number): void {
  const m = modelOf(v);
  const type = m.attrs.type!;
  if (type === 'none' && count > 1) throw unsupported("a 'none' video type must be the only video device defined for the domain");
  const driver = child(v, 'driver');
  const accel = child(m, 'acceleration');
  if (driver?.attrs.name === 'vhostuser') {
    if (type !== 'virtio') throw unsupported("'vhostuser' driver is only supported with 'virtio' device");
  } else if (accel?.attrs.rendernode !== undefined) {
    throw unsupported("unsupported rendernode accel attribute without 'vhostuser'");
  }
  const res = child(m, 'resolution');
  if (res && (res.attrs.x === undefined || res.attrs.y === undefined)) throw unsupported('video resolution values must be greater than 0');
  if (type !== 'qxl') {
    if (num(m, 'ram')) throw unsupported('ram attribute only supported for video type qxl');
    if (num(m, 'vram64')) throw unsupported('vram64 attribute only supported for video type qxl');
    if (num(m, 'vgamem')) throw unsupported('vgamem attribute only supported for video type qxl');
  }
  if (type === 'ramfb' && child(v, 'address')) throw unsupported('address not supported for video type ramfb');
  if (type !== 'virtio' && driver) {
    // virDomainCheckVirtioOptionsAreAbsent.
    const texts: Record<string, string> = {
      iommu: 'iommu driver option is only supported for virtio devices',
      ats: 'ats driver option is only supported for virtio devices',
      packed: 'packed driver option is only supported for virtio devices',
      page_per_vq: 'page_per_vq option is only supported for virtio devices',
    };
    for (const [k, text] of Object.entries(texts)) if (driver.attrs[k] !== undefined) throw unsupported(text);
  }
}

/** qemuValidateDomainDeviceDefVideo with QEMU 7.2's capabilities. */
function validateVideoQemu(v: XmlNode): void {
  const m = modelOf(v);
  const type = m.attrs.type!;
  if (type === 'none') return;
  if (!QEMU_VIDEO_TYPES.includes(type)) throw qemuUnsupported(`domain configuration does not support video model '${type}'`);
  if (type !== 'qxl' && type !== 'virtio') {
    if (m.attrs.primary !== 'yes') throw qemuUnsupported(`video type '${type}' is only valid as primary video device`);
    if (num(m, 'heads') !== 1) throw qemuUnsupported(`video type '${type}' doesn't support multiple 'heads'`);
  }
  const accel = child(m, 'acceleration');
  if (accel?.attrs.accel2d === 'yes') throw qemuUnsupported('qemu does not support the accel2d setting');
  if (type === 'qxl') {
    const limit = Math.floor(0xffffffff / 1024);
    if (num(m, 'vram') > limit) throw overflow(`value for 'vram' must be less than '${limit}'`);
    if (num(m, 'ram') > limit) throw overflow(`value for 'ram' must be less than '${limit}'`);
    const vgamem = num(m, 'vgamem');
    if (vgamem) {
      if (vgamem < 1024) throw qemuUnsupported("value for 'vgamem' must be at least 1 MiB (1024 KiB)");
      if (vgamem !== roundUpPow2(vgamem)) throw qemuUnsupported("value for 'vgamem' must be power of two");
    }
  }
  if (!['vga', 'qxl', 'virtio', 'bochs'].includes(type) && child(m, 'resolution')) {
    throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.QEMU, 'model resolution is not supported');
  }
  if ((type === 'vga' || type === 'vmvga') && num(m, 'vram') && num(m, 'vram') < 1024) {
    throw qemuUnsupported("value for 'vram' must be at least 1 MiB (1024 KiB)");
  }
  // QEMU 7.2 as packaged has vhost-user-gpu and virgl (measured: both accepted).
  if (child(v, 'driver')?.attrs.name !== 'vhostuser' && accel?.attrs.accel3d === 'yes' && type !== 'virtio') {
    throw qemuUnsupported("3d acceleration is supported only with 'virtio' video device");
  }
  if (type === 'ramfb' && child(v, 'address')) throw qemuUnsupported("'address' is not supported for 'ramfb' video devices");
}

/** VIR_ERR_OVERFLOW (not in the shared table). */
const VIR_ERR_OVERFLOW = 82;
const overflow = (message: string) => new LibvirtError({ code: VIR_ERR_OVERFLOW, domain: VirErrorDomain.QEMU, message });
