/**
 * `<input>`: virDomainInputDefParseXML (type, model, bus with its per-arch default, evdev source)
 * and format (type, bus, model; source, driver, device info); virDomainInputDefValidate and the
 * QEMU driver's input rules.
 */
import { child, type XmlNode } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { propEnum, propTristateSwitch } from '../props.ts';
import { domainXmlError, guestArch, internalError, parseDeviceInfo, qemuUnsupported, unsupported, virtioOptions } from './device-info.ts';
import { knownValues, type Since } from '../since.ts';

const INPUT_TYPES = ['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'];
/** formatdomain.rst: evdev "since 7.4.0" (7.0 refuses it, measured). */
const INPUT_TYPES_SINCE: Since = { evdev: [7, 4] };
const INPUT_BUSES = ['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'];
const INPUT_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'];
const GRAB = ['default', 'all'] as const;
const GRAB_TOGGLE = ['default', 'ctrl-ctrl', 'alt-alt', 'shift-shift', 'meta-meta', 'scrolllock', 'ctrl-scrolllock'] as const;

const isX86 = (arch: string) => arch === 'x86_64' || arch === 'i686';

export function parseInput(n: XmlNode, d: DomainDraft): XmlNode {
  const { type, bus: writtenBus, model } = n.attrs;
  if (type === undefined) throw internalError('missing input device type');
  if (!knownValues(INPUT_TYPES, INPUT_TYPES_SINCE, d.ctx).includes(type)) throw unsupported(`unknown input device type '${type}'`);
  if (model !== undefined && INPUT_MODELS.indexOf(model) <= 0) throw unsupported(`unknown input model '${model}'`);
  if (writtenBus !== undefined && !INPUT_BUSES.includes(writtenBus)) throw unsupported(`unknown input bus type '${writtenBus}'`);
  const arch = guestArch(d);
  const bus =
    writtenBus ??
    ((type === 'mouse' || type === 'keyboard') && isX86(arch)
      ? 'ps2'
      : arch.startsWith('s390') || type === 'passthrough'
        ? 'virtio'
        : type === 'evdev'
          ? 'none'
          : 'usb');
  const info = parseDeviceInfo(n);
  if (bus === 'usb' && info.addressType !== undefined && info.addressType !== 'usb') throw domainXmlError('Invalid address for a USB device');
  const source = child(n, 'source');
  let sourceNode: XmlNode | undefined;
  if (source) {
    const evdev = type === 'passthrough' ? source.attrs.evdev : type === 'evdev' ? source.attrs.dev : undefined;
    if ((type === 'passthrough' || type === 'evdev') && !evdev) throw domainXmlError('Missing evdev path for input device');
    if (type === 'evdev') {
      const grab = propEnum(source, 'grab', GRAB, { nonzero: true });
      const grabToggle = propEnum(source, 'grabToggle', GRAB_TOGGLE, { nonzero: true });
      const repeat = propTristateSwitch(source, 'repeat');
      sourceNode = node('source', { dev: evdev, grab, grabToggle, repeat });
    } else if (evdev) sourceNode = node('source', { evdev });
  }
  const drv = node('driver', virtioOptions(child(n, 'driver'), d.ctx));
  return node('input', { type, bus, model }, [sourceNode, Object.keys(drv.attrs).length > 0 && drv, ...info.nodes]);
}

/** virDomainInputDefValidate, then qemuValidateDomainInputDef. */
export function validateInput(n: XmlNode, d: DomainDraft): void {
  const { type, bus, model } = n.attrs as Record<string, string>;
  if (bus === 'ps2' && type !== 'mouse' && type !== 'keyboard') throw internalError(`ps2 bus does not support ${type} input device`);
  if (bus === 'xen') throw internalError(`unsupported input bus ${bus}`);
  if (type === 'passthrough' && bus !== 'virtio') throw unsupported("only bus 'virtio' is supported for 'passthrough' input devices");
  if (type === 'evdev' && bus !== 'none') throw unsupported("input evdev doesn't support bus element");
  if (bus === 'ps2' && !isX86(guestArch(d))) throw qemuUnsupported('ps2 is not supported by this QEMU binary');
  if (model === 'virtio-transitional' || model === 'virtio-non-transitional') {
    throw qemuUnsupported(`virtio (non-)transitional models are not supported for input type=${type}`);
  }
}
