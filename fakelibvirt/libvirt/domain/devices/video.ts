/**
 * `<video>`: virDomainVideoDefParseXML's checks in its order (acceleration, resolution, driver,
 * model type, the sizes as unsigned decimals) and the QEMU driver's video rules
 * (qemuValidateDomainDeviceDefVideo). The element is kept as written once it passes; the default
 * sizes libvirt fills in are not written yet.
 */
import { child, type XmlNode } from '../../xml-tree.ts';
import { strToUIntPositive } from '../c-numbers.ts';
import type { DomainDraft } from '../draft.ts';
import { propEnum, propTristateBool, propUInt } from '../props.ts';
import { domainXmlError, internalError, parseDeviceInfo, qemuUnsupported, unsupported, virtioOptions } from './device-info.ts';

/** virDomainVideoType. */
const VIDEO_TYPES = ['default', 'vga', 'cirrus', 'vmvga', 'xen', 'vbox', 'qxl', 'parallels', 'virtio', 'gop', 'none', 'bochs', 'ramfb'];
/** The models QEMU 7.2 offers in domain capabilities. */
const QEMU_VIDEO_TYPES = ['vga', 'cirrus', 'vmvga', 'qxl', 'virtio', 'none', 'bochs', 'ramfb'];
const VIDEO_BACKENDS = ['default', 'qemu', 'vhostuser'] as const;

export function parseVideo(n: XmlNode, _d: DomainDraft): XmlNode {
  const model = child(n, 'model');
  const accel = model && child(model, 'acceleration');
  if (accel) {
    const a3 = propTristateBool(accel, 'accel3d');
    const a2 = propTristateBool(accel, 'accel2d');
    if (accel.attrs.rendernode === undefined && a3 === undefined && a2 === undefined) throw unsupported('missing values for acceleration');
  }
  const res = model && child(model, 'resolution');
  if (res) {
    propUInt(res, 'x', 10, { required: true });
    propUInt(res, 'y', 10, { required: true });
  }
  const driver = child(n, 'driver');
  if (driver) {
    propEnum(driver, 'name', VIDEO_BACKENDS, { nonzero: true });
    virtioOptions(driver);
  }
  const type = model?.attrs.type || undefined;
  if (type !== undefined && !VIDEO_TYPES.includes(type)) throw unsupported(`unknown video model '${type}'`);
  for (const size of ['ram', 'vram', 'vram64', 'vgamem']) {
    const v = model?.attrs[size];
    if (v !== undefined && strToUIntPositive(v, 10) === null) throw domainXmlError(`cannot parse video ${size} '${v}'`);
  }
  const heads = model?.attrs.heads;
  if (heads !== undefined && strToUIntPositive(heads, 10) === null) throw internalError(`cannot parse video heads '${heads}'`);
  parseDeviceInfo(n);
  return n;
}

/** Every video device: one primary at most, then the QEMU driver's rules for each. */
export function validateVideos(d: DomainDraft): void {
  const videos = d.devices.filter((v) => v.name === 'video');
  const written = videos.map((v) => child(v, 'model')?.attrs.primary === 'yes');
  if (written.filter(Boolean).length > 1) throw unsupported('Only one primary video device is supported');
  // Post-parse makes the first one primary when none says so.
  const primary = written.includes(true) ? written : videos.map((_, i) => i === 0);
  videos.forEach((v, i) => validateVideo(v, primary[i]!));
}

function validateVideo(v: XmlNode, primary: boolean): void {
  const model = child(v, 'model');
  const type = model?.attrs.type || 'default';
  if (type === 'none' || type === 'default') return;
  if (!QEMU_VIDEO_TYPES.includes(type)) throw qemuUnsupported(`domain configuration does not support video model '${type}'`);
  const num = (k: string) => (model?.attrs[k] === undefined ? undefined : strToUIntPositive(model.attrs[k]!, 10)!);
  if (type !== 'qxl' && type !== 'virtio') {
    if (!primary) throw qemuUnsupported(`video type '${type}' is only valid as primary video device`);
    const heads = num('heads');
    if (heads !== undefined && heads !== 1) throw qemuUnsupported(`video type '${type}' doesn't support multiple 'heads'`);
  }
  const accel = model && child(model, 'acceleration');
  if (accel?.attrs.accel2d === 'yes') throw qemuUnsupported('qemu does not support the accel2d setting');
  if (type === 'qxl') {
    const vgamem = num('vgamem');
    if (vgamem) {
      if (vgamem < 1024) throw qemuUnsupported("value for 'vgamem' must be at least 1 MiB (1024 KiB)");
      if ((vgamem & (vgamem - 1)) !== 0) throw qemuUnsupported("value for 'vgamem' must be power of two");
    }
  }
}
