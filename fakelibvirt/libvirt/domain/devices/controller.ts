/**
 * `<controller>`: virDomainControllerDefParseXML in its order of reads, the model kept beside the
 * canonical node for post-parse (index assignment, QEMU model defaults, duplicates) and addresses,
 * formatted as virDomainControllerDefFormat writes it.
 */
import type { XmlNode } from '../../xml-tree.ts';
import { child } from '../../xml-tree.ts';
import { strToInt } from '../c-numbers.ts';
import { inputDevices, node, textNode, type DomainDraft } from '../draft.ts';
import { propEnum, propInt, propTristateSwitch, propUInt, xmlError } from '../props.ts';
import { VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { confError, domainXmlError, parseDeviceInfo, unsupported, virtioOptions } from './device-info.ts';

/** virDomainControllerType. */
export const CONTROLLER_TYPES = ['ide', 'fdc', 'scsi', 'sata', 'virtio-serial', 'ccid', 'usb', 'pci', 'xenbus', 'isa'] as const;
export const PCI_MODELS = [
  'pci-root', 'pcie-root', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-to-pci-bridge', 'pcie-root-port', 'pcie-switch-upstream-port',
  'pcie-switch-downstream-port', 'pci-expander-bus', 'pcie-expander-bus',
] as const;
export const PCI_MODEL_NAMES = [
  'none', 'pci-bridge', 'i82801b11-bridge', 'ioh3420', 'x3130-upstream', 'xio3130-downstream', 'pxb', 'pxb-pcie', 'pcie-root-port',
  'spapr-pci-host-bridge', 'pcie-pci-bridge',
] as const;
export const SCSI_MODELS = [
  'auto', 'buslogic', 'lsilogic', 'lsisas1068', 'vmpvscsi', 'ibmvscsi', 'virtio-scsi', 'lsisas1078', 'virtio-transitional',
  'virtio-non-transitional', 'ncr53c90', 'dc390', 'am53c974',
] as const;
export const USB_MODELS = [
  'piix3-uhci', 'piix4-uhci', 'ehci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3', 'vt82c686b-uhci', 'pci-ohci', 'nec-xhci',
  'qusb1', 'qusb2', 'qemu-xhci', 'none',
] as const;
const IDE_MODELS = ['piix3', 'piix4', 'ich6'] as const;
const VIRTIO_SERIAL_MODELS = ['virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;

/** The model table per controller type (virDomainControllerModelTypeFromString); isa's is empty. */
const MODEL_TABLES: Partial<Record<string, readonly string[]>> = {
  scsi: SCSI_MODELS, usb: USB_MODELS, pci: PCI_MODELS, ide: IDE_MODELS, 'virtio-serial': VIRTIO_SERIAL_MODELS, isa: [],
};

/** The model's number in its type's enum (-1: none), which some libvirt checks compare across types. */
export function controllerModelNumber(m: ControllerModel): number {
  return m.model === undefined ? -1 : (MODEL_TABLES[m.type] ?? []).indexOf(m.model);
}

export interface ControllerModel {
  type: string;
  /** -1: not set (libvirt's "default" model). */
  model?: string;
  /** -1 until virDomainAssignControllerIndexes gives one. */
  idx: number;
  ports?: number;
  vectors?: number;
  maxGrantFrames?: number;
  maxEventChannels?: number;
  driver: Record<string, string | number | undefined>;
  pci: {
    modelName?: string;
    chassisNr?: number;
    chassis?: number;
    port?: number;
    busNr?: number;
    targetIndex?: number;
    hotplug?: string;
    numaNode?: number;
    pcihole64KiB?: number;
  };
  /** alias/master/… nodes before the address, and the address (PCI attrs once assigned). */
  info: XmlNode[];
  address?: Record<string, string>;
}

const MODELS = new WeakMap<XmlNode, ControllerModel>();
export const controllerModelOf = (n: XmlNode): ControllerModel | undefined => MODELS.get(n);

export function parseController(input: XmlNode, d?: DomainDraft): XmlNode {
  const m = readController(input);
  if (d) checkUsbControllerSet(m, input, d);
  return formatController(m);
}

const usbDisabled = () => confError(VirErrorNumber.XML_DETAIL, "Can't add another USB controller: USB is disabled for this domain");

/**
 * virDomainDefControllersParse's USB rules, checked as each controller is parsed: model 'none'
 * (no USB) excludes every other USB controller; after the last one, some USB controller must be
 * a master (not a companion with `<master>`, which ICH9 UHCIs get by default).
 */
function checkUsbControllerSet(m: ControllerModel, input: XmlNode, d: DomainDraft): void {
  const earlier = d.devices.map((n) => controllerModelOf(n)).filter((c): c is ControllerModel => c?.type === 'usb');
  if (m.type === 'usb') {
    const none = earlier.some((c) => c.model === 'none');
    if (none || (m.model === 'none' && earlier.length > 0)) throw usbDisabled();
  }
  const all = inputDevices(d, 'controller');
  if (all[all.length - 1] !== input) return;
  const usb = m.type === 'usb' ? [...earlier, m] : earlier;
  const isMaster = (c: ControllerModel) => !c.info.some((n) => n.name === 'master');
  if (usb.some((c) => c.model !== 'none') && !usb.some(isMaster)) throw confError(VirErrorNumber.XML_DETAIL, 'No master USB controller specified');
}

export function readController(input: XmlNode): ControllerModel {
  const type = propEnum(input, 'type', CONTROLLER_TYPES) ?? 'ide';
  const m: ControllerModel = { type, idx: -1, driver: {}, pci: {}, info: [] };
  const modelText = input.attrs.model;
  if (modelText !== undefined) {
    const table = MODEL_TABLES[type];
    if (!table || !table.includes(modelText)) throw unsupported(`Unknown model type '${modelText}'`);
    m.model = modelText;
  }
  m.idx = propInt(input, 'index', 10, { nonnegative: true }) ?? -1;
  const driver = child(input, 'driver');
  if (driver) {
    const queues = propUInt(driver, 'queues', 10) || undefined;
    const cmdPerLun = propUInt(driver, 'cmd_per_lun', 10) || undefined;
    const maxSectors = propUInt(driver, 'max_sectors', 10) || undefined;
    const ioeventfd = propTristateSwitch(driver, 'ioeventfd');
    const iothread = propUInt(driver, 'iothread', 10) || undefined;
    m.driver = { queues, cmd_per_lun: cmdPerLun, max_sectors: maxSectors, ioeventfd, iothread, ...virtioOptions(driver) };
  }
  const models = input.children.filter((c) => c.name === 'model');
  if (models.length > 1) throw domainXmlError('Multiple <model> elements in controller definition not allowed');
  if (models.length === 1 && type === 'pci') m.pci.modelName = nonNone(propEnum(models[0]!, 'name', PCI_MODEL_NAMES));
  const targets = input.children.filter((c) => c.name === 'target');
  if (targets.length > 1) throw domainXmlError('Multiple <target> elements in controller definition not allowed');
  if (targets.length === 1 && type === 'pci') {
    const t = targets[0]!;
    const int0 = (name: string) => propInt(t, name, 0, { nonnegative: true });
    m.pci.chassisNr = int0('chassisNr');
    m.pci.chassis = int0('chassis');
    m.pci.port = int0('port');
    m.pci.busNr = int0('busNr');
    m.pci.hotplug = propTristateSwitch(t, 'hotplug');
    m.pci.targetIndex = int0('index');
  }
  const numaText = child(child(input, 'target') ?? node('x'), 'node')?.text;
  let numaNode: number | undefined;
  if (numaText !== undefined && numaText !== '') {
    const n = strToInt(numaText, 10);
    if (n === null || n < 0) throw domainXmlError('invalid NUMA node in target');
    numaNode = n;
  }
  if (!(type === 'usb' && m.model === 'none')) {
    const info = parseDeviceInfo(input);
    m.info = info.nodes.filter((n) => n.name !== 'address');
    const address = info.nodes.find((n) => n.name === 'address');
    if (address) m.address = address.attrs;
  }
  const ports = propInt(input, 'ports', 10, { nonnegative: true });
  if (type === 'virtio-serial') {
    m.vectors = propInt(input, 'vectors', 10, { nonnegative: true });
    m.ports = ports;
  } else if (type === 'usb') {
    const master = { 'ich9-uhci1': 0, 'ich9-uhci2': 2, 'ich9-uhci3': 4 }[m.model ?? ''];
    if (master !== undefined && !m.info.some((n) => n.name === 'master')) {
      const at = m.info.findIndex((n) => n.name !== 'alias');
      const masterNode = node('master', { startport: master });
      if (at < 0) m.info.push(masterNode);
      else m.info.splice(at, 0, masterNode);
    }
    m.ports = ports;
  } else if (type === 'pci') {
    if (m.model === 'pci-root' || m.model === 'pcie-root') {
      const hole = child(input, 'pcihole64');
      if (hole) m.pci.pcihole64KiB = pcihole64KiB(hole);
    }
    m.pci.numaNode = numaNode;
  } else if (type === 'xenbus') {
    m.maxGrantFrames = propInt(input, 'maxGrantFrames', 10, { nonnegative: true });
    m.maxEventChannels = propInt(input, 'maxEventChannels', 10, { nonnegative: true });
  }
  return m;
}

const nonNone = (v: string | undefined) => (v === 'none' ? undefined : v);

const UNIT: Record<string, bigint> = {
  b: 1n, bytes: 1n, k: 1024n, kib: 1024n, kb: 1000n, m: 1024n ** 2n, mib: 1024n ** 2n, mb: 1000n ** 2n, g: 1024n ** 3n, gib: 1024n ** 3n,
  gb: 1000n ** 3n, t: 1024n ** 4n, tib: 1024n ** 4n, tb: 1000n ** 4n, p: 1024n ** 5n, pib: 1024n ** 5n, pb: 1000n ** 5n, e: 1024n ** 6n,
  eib: 1024n ** 6n, eb: 1000n ** 6n,
};

/** virParseScaledValue on `<pcihole64>` (KiB by default), rounded up to KiB. */
function pcihole64KiB(hole: XmlNode): number {
  const unit = hole.attrs.unit ?? 'KiB';
  const scale = UNIT[unit.toLowerCase()];
  if (!/^\d+$/.test(hole.text.trim())) throw xmlError(`Invalid value '${hole.text}' for element or attribute './pcihole64'`);
  if (scale === undefined) throw domainXmlError(`unknown suffix '${unit}'`);
  return Number((BigInt(hole.text.trim()) * scale + 1023n) / 1024n);
}

/** virDomainControllerDefFormat. */
export function formatController(m: ControllerModel): XmlNode {
  const attrs: Record<string, string | number | undefined> = { type: m.type, index: m.idx, model: m.model };
  if (m.type === 'virtio-serial') Object.assign(attrs, { ports: m.ports, vectors: m.vectors });
  if (m.type === 'usb') attrs.ports = m.ports;
  if (m.type === 'xenbus') Object.assign(attrs, { maxGrantFrames: m.maxGrantFrames, maxEventChannels: m.maxEventChannels });
  const kids: (XmlNode | undefined | false)[] = [];
  if (m.type === 'pci') {
    const p = m.pci;
    if (p.modelName !== undefined) kids.push(node('model', { name: p.modelName }));
    const target = node(
      'target',
      {
        chassisNr: p.chassisNr, chassis: p.chassis, port: p.port === undefined ? undefined : `0x${p.port.toString(16)}`, busNr: p.busNr,
        index: p.targetIndex, hotplug: p.hotplug,
      },
      [p.numaNode !== undefined && textNode('node', p.numaNode)],
    );
    if (Object.keys(target.attrs).length > 0 || target.children.length > 0) kids.push(target);
  }
  const driver = node('driver', m.driver);
  if (Object.keys(driver.attrs).length > 0) kids.push(driver);
  kids.push(...m.info);
  if (m.address) kids.push(node('address', m.address));
  if (m.type === 'pci' && m.pci.pcihole64KiB !== undefined) kids.push(textNode('pcihole64', m.pci.pcihole64KiB, { unit: 'KiB' }));
  const n = node('controller', attrs, kids);
  MODELS.set(n, m);
  return n;
}
