/**
 * The devices libvirt 9.0 and its QEMU driver add or complete at define, in virDomainDefPostParse's
 * order: controller indexes (virDomainAssignControllerIndexes), the machine's default controllers
 * (qemuDomainDefAddDefaultDevices), each disk's and controller's post-parse, the duplicate-controller
 * check, the console/serial pairing and the controllers the disks and virtio ports imply
 * (virDomainDefAddImplicitDevices), the video graphics imply. The other devices the QEMU driver
 * adds are in default-devices.ts. Validation of these devices (common, then the QEMU driver's) is
 * here too.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../xml-tree.ts';
import { getTop, node, type DomainDraft, type DraftStep } from './draft.ts';
import { controllerModelNumber, controllerModelOf, formatController, type ControllerModel } from './devices/controller.ts';
import { domainXmlError } from './devices/device-info.ts';
import { diskModelOf } from './devices/disk.ts';
import { driveAddress, postParseDisks, validateDisk, validateDiskSet } from './devices/disk-rules.ts';
import { addConsoleCompat, formatConsoleAliases } from './console-compat.ts';
import { validateController } from './devices/controller-rules.ts';
import { addDefaultAudio, addDefaultMemballoon, addImplicitInputs } from './default-devices.ts';

const qemuUnsupported = (message: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, message);

/** 256 buses of 32 slots: the most PCI devices one domain's hierarchy can address. */
const MAX_PCI_SLOTS = 256 * 32;
const noPciSlot = (type: string) =>
  LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, `a PCI slot is needed to connect a controller of type '${type}', but none is available`);

/** QEMU_USB_XHCI_MAXPORTS. */
const XHCI_MAX_PORTS = 15;

export function machineOf(d: DomainDraft): string {
  const type = child(getTop(d, 'os') ?? { name: 'os', attrs: {}, children: [], text: '' }, 'type');
  return type?.attrs.machine ?? '';
}

/** qemuDomainIsQ35 / qemuDomainIsI440FX (on the canonical machine name). */
export const isQ35 = (machine: string) => machine === 'q35' || machine.startsWith('pc-q35-');
export const isI440fx = (machine: string) =>
  machine === 'pc' || machine.startsWith('pc-0.') || machine.startsWith('pc-1.') || machine.startsWith('pc-i440fx-') || machine.startsWith('rhel');

const controllers = (d: DomainDraft) =>
  d.devices.map((n) => controllerModelOf(n)).filter((m): m is ControllerModel => m !== undefined);

/** Replaces a controller's node after its model changed. */
function refresh(d: DomainDraft, m: ControllerModel): void {
  const i = d.devices.findIndex((n) => controllerModelOf(n) === m);
  if (i >= 0) d.devices[i] = formatController(m);
}

const hasMaster = (m: ControllerModel) => m.info.some((n) => n.name === 'master');

/**
 * virDomainControllerInsertPreAlloced: where a controller goes among the others — after the last
 * one of its type if it has no index yet; else before the earliest one of its type with a higher
 * index, or before a companion (a controller with a `<master>`) at its own index if it is the
 * master; else at the end.
 */
function insertionPoint(devices: readonly XmlNode[], m: ControllerModel): number {
  let insertAt = -1;
  for (let i = devices.length - 1; i >= 0; i--) {
    const c = controllerModelOf(devices[i]!);
    if (!c || c.type !== m.type) continue;
    if (m.idx === -1) return i + 1;
    if (c.idx > m.idx) insertAt = i;
    else if (!hasMaster(m) && hasMaster(c) && c.idx === m.idx) insertAt = i;
  }
  return insertAt < 0 ? devices.length : insertAt;
}

export function insertController(d: DomainDraft, m: ControllerModel): void {
  d.devices.splice(insertionPoint(d.devices, m), 0, formatController(m));
}

/** virDomainDefControllersParse inserts each parsed controller with virDomainControllerInsertPreAlloced. */
function orderParsedControllers(d: DomainDraft): void {
  const parsed = d.devices.filter((n) => controllerModelOf(n) !== undefined);
  for (const n of parsed) d.devices.splice(d.devices.indexOf(n), 1);
  for (const n of parsed) d.devices.splice(insertionPoint(d.devices, controllerModelOf(n)!), 0, n);
}

const findController = (d: DomainDraft, type: string, idx: number) => controllers(d).find((c) => c.type === type && c.idx === idx);

/** virDomainDefAddController. */
function addController(d: DomainDraft, type: string, idx: number, model?: string): ControllerModel {
  const m: ControllerModel = { type, idx, model, driver: {}, pci: {}, info: [] };
  insertController(d, m);
  return m;
}

/** IS_USB2_CONTROLLER: the ICH9 EHCI and its UHCI companions. */
const USB2_MODELS = new Set(['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3']);
const isUsb2 = (c: ControllerModel) => c.type === 'usb' && USB2_MODELS.has(c.model ?? '');

/**
 * virDomainAssignControllerIndexes: a controller without an index takes the lowest unused one of
 * its type (a PCI one too: index 0, which then clashes with the machine's root), except a USB2
 * controller right after another USB2 one (the USB controller before it in the list), which joins
 * that one's index unless a controller of its own model already has it.
 */
function assignControllerIndexes(d: DomainDraft): void {
  const all = controllers(d);
  all.forEach((c, outer) => {
    if (c.idx !== -1) return;
    let prev: ControllerModel | undefined;
    if (outer > 0 && isUsb2(c)) {
      prev = all.slice(0, outer).reverse().find((o) => o.type === 'usb');
      if (prev && !isUsb2(prev)) prev = undefined;
      if (prev && all.some((o) => o.type === 'usb' && o.idx === prev!.idx && o.model === c.model)) prev = undefined;
    }
    if (prev) c.idx = prev.idx;
    else {
      let idx = 0;
      while (all.some((o) => o.type === c.type && o.idx === idx)) idx++;
      c.idx = idx;
    }
    refresh(d, c);
  });
}

/** qemuDomainDefAddDefaultDevices for x86 (the controller half). */
function addDefaultControllers(d: DomainDraft): void {
  const machine = machineOf(d);
  if (machine === 'isapc') return;
  const q35 = isQ35(machine);
  if (!findController(d, 'usb', 0)) addController(d, 'usb', 0, q35 ? 'qemu-xhci' : undefined);
  if (q35 && !findController(d, 'sata', 0)) addController(d, 'sata', 0);
  const root = findController(d, 'pci', 0);
  const want = q35 ? 'pcie-root' : isI440fx(machine) ? 'pci-root' : undefined;
  if (want === undefined) return;
  if (root) {
    if (root.model !== want) {
      throw LibvirtError.of(
        VirErrorNumber.XML_ERROR,
        VirErrorDomain.QEMU,
        `The PCI controller with index='0' must be model='${want}' for this machine type, but model='${root.model ?? '(null)'}' was found instead`,
      );
    }
  } else addController(d, 'pci', 0, want);
}

/** virDomainControllerDefPostParse: an iothread needs a virtio-scsi model (compared by number, whatever the type). */
function commonPostParseController(c: ControllerModel): void {
  const VIRTIO_SCSI_NUMBERS = [6, 8, 9]; // virtio-scsi, virtio-transitional, virtio-non-transitional
  if (c.driver.iothread !== undefined && !VIRTIO_SCSI_NUMBERS.includes(controllerModelNumber(c))) {
    throw domainXmlError("'iothread' attribute only supported for virtio scsi controllers");
  }
}

/** qemuDomainControllerDefPostParse (x86 with QEMU 7.2's devices), then the common one. */
function postParseController(d: DomainDraft, c: ControllerModel): void {
  postParseQemuController(d, c);
  commonPostParseController(c);
}

function postParseQemuController(d: DomainDraft, c: ControllerModel): void {
  const machine = machineOf(d);
  // qemuDomainGetSCSIControllerModel: 'auto' is no model either; x86 QEMU 7.2 has the LSI controller.
  if (c.type === 'scsi' && (c.model === undefined || c.model === 'auto')) c.model = 'lsilogic';
  if (c.type === 'usb') {
    if (c.model === undefined) c.model = 'piix3-uhci';
    if (c.model === 'qusb1' || c.model === 'qusb2') throw qemuUnsupported("USB controller model type 'qusb1' or 'qusb2' is not supported in qemu");
    if ((c.model === 'nec-xhci' || c.model === 'qemu-xhci') && (c.ports ?? -1) > XHCI_MAX_PORTS) {
      throw qemuUnsupported(`'${c.model}' controller only supports up to '${XHCI_MAX_PORTS}' ports`);
    }
  }
  if (c.type === 'pci') {
    if ((c.model === 'pci-root' || c.model === 'pcie-root') && c.idx !== 0) {
      throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.QEMU, 'pci-root and pcie-root controllers should have index 0');
    }
    if (c.model === 'pci-expander-bus' && !isI440fx(machine)) throw qemuUnsupported('pci-expander-bus controllers are only supported on 440fx-based machinetypes');
    if (c.model === 'pcie-expander-bus' && !isQ35(machine)) throw qemuUnsupported('pcie-expander-bus controllers are not supported with this machine type');
    // The NUMA node a PCI controller is put on must be one of the guest's <cpu><numa> cells.
    const numaNode = c.pci.numaNode;
    const cells = child(getTop(d, 'cpu') ?? node('cpu'), 'numa')?.children.filter((n) => n.name === 'cell').length ?? 0;
    if (numaNode !== undefined && numaNode >= cells) {
      throw LibvirtError.of(
        VirErrorNumber.XML_ERROR, VirErrorDomain.QEMU,
        `${c.model} with index ${c.idx} is configured for a NUMA node (${numaNode}) not present in the domain's <cpu><numa> array (${cells})`,
      );
    }
  }
  refresh(d, c);
}

/** virDomainDefRejectDuplicateControllers (several USB controllers may share an index). */
function rejectDuplicateControllers(d: DomainDraft): void {
  const seen = new Set<string>();
  for (const c of controllers(d)) {
    if (c.type === 'usb') continue;
    const key = `${c.type}/${c.idx}`;
    if (seen.has(key)) throw domainXmlError(`Multiple '${c.type}' controllers with index '${c.idx}'`);
    seen.add(key);
  }
}

/** virDomainDefAddImplicitControllers: one controller per drive-address controller index, virtio-serial. */
function addImplicitControllers(d: DomainDraft): void {
  const disks = d.devices.map((n) => diskModelOf(n)).filter((m) => m !== undefined);
  for (const [type, bus] of [['scsi', 'scsi'], ['fdc', 'fdc'], ['ide', 'ide'], ['sata', 'sata']] as const) {
    let max = -1;
    for (const m of disks) {
      const a = m.bus === bus ? driveAddress(m) : undefined;
      if (a) max = Math.max(max, Number(a.controller));
    }
    // Each of these controllers takes a PCI slot (SATA/SCSI) or cannot exist twice (IDE/FDC): more
    // than the 256 buses' slots can hold never gets through address assignment (libvirt 9.0 spends
    // hours trying before it gives up).
    if (max >= MAX_PCI_SLOTS) throw noPciSlot(type);
    for (let i = 0; i <= max; i++) if (!findController(d, type, i)) addController(d, type, i);
  }
  const virtioPort = d.devices.some(
    (n) => (n.name === 'channel' || n.name === 'console') && child(n, 'target')?.attrs.type === 'virtio',
  );
  if (virtioPort && !controllers(d).some((c) => c.type === 'virtio-serial')) addController(d, 'virtio-serial', 0);
  // Implicit SCSI controllers get the QEMU driver's default model afterwards.
  for (const c of controllers(d)) if (c.type === 'scsi' && (c.model === undefined || c.model === 'auto')) postParseController(d, c);
}

/**
 * virDomainDefAddImplicitVideo: graphics without a `<video>` get one of the default type, which the
 * QEMU driver makes cirrus on x86 (QEMU 7.2 has cirrus-vga), with cirrus' 16 MiB of VRAM, one
 * head, primary as the first video.
 */
function addImplicitVideo(d: DomainDraft): void {
  if (!d.devices.some((n) => n.name === 'graphics') || d.devices.some((n) => n.name === 'video')) return;
  d.devices.push(node('video', {}, [node('model', { type: 'cirrus', vram: 16384, heads: 1, primary: 'yes' })]));
}

/** virDomainDefPostParse's device work: the driver's callback, device post-parse, then the common part. */
export const postParse: DraftStep = (d) => {
  orderParsedControllers(d);
  assignControllerIndexes(d);
  // qemuDomainDefAddDefaultDevices: inputs first, then controllers, balloon and audio.
  addImplicitInputs(d);
  addDefaultControllers(d);
  addDefaultMemballoon(d);
  addDefaultAudio(d);
  postParseDisks(d);
  for (const c of controllers(d)) postParseController(d, c);
  rejectDuplicateControllers(d);
  // virDomainDefAddImplicitDevices.
  addConsoleCompat(d);
  addImplicitControllers(d);
  addImplicitVideo(d);
};

/** What the formatter derives rather than stores: a serial-type console is its serial's copy. */
export const beforeFormat: DraftStep = formatConsoleAliases;

/** The per-device validation of disks and controllers (libvirt's device iteration order), then the disk set. */
export const validate: DraftStep = (d) => {
  const disks = d.devices.map((n) => diskModelOf(n)).filter((m) => m !== undefined);
  for (const m of disks) validateDisk(m, d);
  for (const c of controllers(d)) validateController(d, c);
  validateDiskSet(disks);
};
