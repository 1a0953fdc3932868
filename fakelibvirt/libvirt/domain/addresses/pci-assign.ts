/**
 * qemuDomainAssignPCIAddresses: a dry run that places every device to learn which controllers the
 * domain needs (pcie-root-ports for PCIe devices on q35, a pcie-to-pci-bridge for conventional PCI
 * ones, pci-bridges on i440fx, one spare root port for hot-plug on a new q35 domain), those
 * controllers added, then the real placement in libvirt's order of device kinds, the multifunction
 * flags, and the defaults of the PCI controllers (model name, chassis, port, bus number).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import type { DomainDraft } from '../draft.ts';
import { controllerModelOf, type ControllerModel } from '../devices/controller.ts';
import { insertController } from '../implicit-devices.ts';
import {
  addressOf, devicesInInfoOrder, devicesOf, pciAddressOf, pciPresent, pciWanted, setPciAddress,
} from './device-address.ts';
import { reserveChipsetSlots } from './pci-chipset.ts';
import { PciAddressSet, setBusModel, type PciAddress } from './pci-bus.ts';
import { AUTOASSIGN, controllerConnect, deviceConnectFlags, PCI_DEVICE, PCIE_DEVICE } from './pci-connect.ts';

const qemuError = (code: VirErrorNumber, message: string) => LibvirtError.of(code, VirErrorDomain.QEMU, message);

const controllers = (d: DomainDraft) => d.devices.map((n) => controllerModelOf(n)).filter((m): m is ControllerModel => m !== undefined);
const pciControllers = (d: DomainDraft) => controllers(d).filter((c) => c.type === 'pci');
const rootModel = (d: DomainDraft) => pciControllers(d).find((c) => c.idx === 0)?.model;

const USB2 = ['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'];
/** Each USB2 part's function in the shared slot, and whether it carries multifunction='on'. */
const USB2_FUNCTION: Record<string, [number, string | undefined]> = {
  'ich9-ehci1': [7, undefined], 'ich9-uhci1': [0, 'on'], 'ich9-uhci2': [1, undefined], 'ich9-uhci3': [2, undefined],
};

export function assignPciAddresses(d: DomainDraft): void {
  const maxIdx = Math.max(-1, ...pciControllers(d).map((c) => c.idx));
  const hasPcieRoot = rootModel(d) === 'pcie-root';
  const pcie = (hasPcieRoot ? PCIE_DEVICE : PCI_DEVICE) | AUTOASSIGN;
  const flagsOf = (dev: XmlNode) => deviceConnectFlags(dev, pcie);
  let nbuses = maxIdx + 1;

  if (nbuses > 0) {
    const dry = createSet(d, nbuses, true, flagsOf);
    reserveChipsetSlots(d, dry, flagsOf);
    // With pci-root, one slot is kept back for a future pci-bridge, so the last free one goes to a bridge.
    if (rootModel(d) === 'pci-root' && !dry.buses.every((b) => dry.isFullyReserved(b))) dry.reserveNext(PCI_DEVICE | AUTOASSIGN);
    assignSlots(d, dry, flagsOf);
    // A new q35 domain whose controllers libvirt chooses gets one spare root port for hot-plug.
    if (maxIdx <= 0 && dry.buses.length > maxIdx + 1 && hasPcieRoot) dry.reserveNext(PCIE_DEVICE | AUTOASSIGN);
    for (let i = 1; i < dry.buses.length; i++) {
      const model = dry.buses[i]!.model;
      if (pciControllers(d).some((c) => c.idx === i)) continue;
      const m: ControllerModel = { type: 'pci', idx: i, model, driver: {}, pci: {}, info: [] };
      insertController(d, m);
      if (model !== 'pci-root' && model !== 'pcie-root') dry.reserveNext(controllerConnect(model));
    }
    nbuses = dry.buses.length;
  }

  const set = createSet(d, nbuses, false, flagsOf);
  reserveChipsetSlots(d, set, flagsOf);
  assignSlots(d, set, flagsOf);
  setAllMulti(d);
  controllerDefaults(d);
}

/** qemuDomainPCIAddressSetCreate: buses from the PCI controllers, then every address the document gives. */
function createSet(d: DomainDraft, nbuses: number, dryRun: boolean, flagsOf: (dev: XmlNode) => number): PciAddressSet {
  const set = new PciAddressSet(nbuses, dryRun);
  let hasPcieRoot = false;
  for (const c of pciControllers(d)) {
    if (c.idx >= nbuses) throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, `Inappropriate new pci controller index ${c.idx} exceeds addrs array length`);
    if (c.model === undefined) continue;
    setBusModel(set.buses[c.idx]!, c.model, c.pci.hotplug !== 'off');
    if (c.model === 'pcie-root') hasPcieRoot = true;
  }
  if (nbuses > 0 && set.buses[0]!.model === undefined) setBusModel(set.buses[0]!, 'pci-root', true);
  const fill = hasPcieRoot ? 'pcie-root-port' : 'pci-bridge';
  for (let i = 1; i < nbuses; i++) if (set.buses[i]!.model === undefined) setBusModel(set.buses[i]!, fill, true);
  for (const dev of devicesInInfoOrder(d)) collect(set, dev, flagsOf);
  return set;
}

/** qemuDomainCollectPCIAddress. */
function collect(set: PciAddressSet, dev: XmlNode, flagsOf: (dev: XmlNode) => number): void {
  const a = pciPresent(dev);
  if (!a) return;
  // A device that should have no PCI address is taken as a PCI one; validation refuses it if need be.
  const flags = flagsOf(dev) || PCI_DEVICE;
  const c = controllerModelOf(dev);
  if (c && a.domain === 0 && a.bus === 0 && a.slot === 1) {
    const piix3 = (c.type === 'ide' && c.idx === 0 && a.fn === 1) ||
      (c.type === 'usb' && c.idx === 0 && (c.model === 'piix3-uhci' || c.model === undefined) && a.fn === 2);
    if (piix3) {
      if (set.buses.length > 0 && !(set.buses[0]!.flags & PCI_DEVICE)) {
        throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, 'Bus 0 must be PCI for integrated PIIX3 USB or IDE controllers');
      }
      return;
    }
  }
  set.reserve(a, flags);
}

/** qemuDomainAssignDevicePCISlots: kinds in libvirt's order, each device that wants an address gets the next free one. */
function assignSlots(d: DomainDraft, set: PciAddressSet, flagsOf: (dev: XmlNode) => number): void {
  const place = (dev: XmlNode) => {
    const a = set.reserveNext(flagsOf(dev));
    if (!set.dryRun) setPciAddress(dev, a);
  };
  const each = (kind: string, when: (dev: XmlNode) => boolean) => {
    for (const dev of devicesOf(d, kind)) if (pciWanted(dev) && when(dev)) place(dev);
  };
  each('controller', (dev) => {
    const c = controllerModelOf(dev);
    return c?.type === 'pci' && c.model !== 'pci-root' && c.model !== 'pcie-root';
  });
  each('filesystem', () => true);
  each('interface', (dev) => dev.attrs.type !== 'hostdev');
  each('sound', (dev) => !['sb16', 'pcspk', 'usb'].includes(dev.attrs.model ?? ''));
  for (const dev of devicesOf(d, 'controller')) {
    const c = controllerModelOf(dev);
    if (!c || c.type === 'pci' || (c.type === 'usb' && c.model === 'none') || c.type === 'fdc' || c.type === 'ccid') continue;
    if ((c.type === 'ide' && c.idx === 0) || (c.type === 'scsi' && c.model === 'ncr53c90') || !pciWanted(dev)) continue;
    if (c.type === 'usb' && USB2.includes(c.model ?? '')) placeUsb2(d, set, dev, c, flagsOf(dev));
    else place(dev);
  }
  for (const dev of devicesOf(d, 'disk')) {
    if (child(dev, 'target')?.attrs.bus !== 'virtio') continue;
    const type = addressOf(dev)?.type;
    if (pciPresent(dev) || type === 'ccw' || type === 'virtio-mmio') continue;
    if (!pciWanted(dev)) throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, `virtio disk cannot have an address of type '${type}'`);
    place(dev);
  }
  each('hostdev', (dev) => {
    const type = dev.attrs.type;
    if (dev.attrs.mode === 'capabilities' || addressOf(dev)?.type === 'unassigned') return false;
    return type === 'pci' || type === 'scsi_host' || (type === 'mdev' && dev.attrs.model === 'vfio-pci');
  });
  each('memballoon', (dev) => dev.attrs.model !== 'none');
  each('rng', () => true);
  each('watchdog', (dev) => dev.attrs.model === 'i6300esb');
  each('video', (dev) => !['none', 'ramfb'].includes(child(dev, 'model')?.attrs.type ?? ''));
  each('shmem', () => true);
  each('input', (dev) => dev.attrs.bus === 'virtio');
  each('serial', (dev) => child(dev, 'target')?.attrs.type === 'pci-serial');
  each('iommu', (dev) => dev.attrs.model === 'virtio');
  each('vsock', () => true);
  each('memory', (dev) => dev.attrs.model === 'virtio-pmem' || dev.attrs.model === 'virtio-mem');
}

/** The parts of one USB2 controller (EHCI and its UHCI companions) share a slot, each on its own function. */
function placeUsb2(d: DomainDraft, set: PciAddressSet, dev: XmlNode, c: ControllerModel, flags: number): void {
  const [fn, multi] = USB2_FUNCTION[c.model!]!;
  const sibling = devicesOf(d, 'controller').find((o) => {
    const m = controllerModelOf(o);
    return m?.type === 'usb' && USB2.includes(m.model ?? '') && m.idx === c.idx && pciPresent(o);
  });
  if (sibling) {
    const a: PciAddress = { ...pciPresent(sibling)!, fn, multi };
    set.reserve(a, flags);
    setPciAddress(dev, a);
    return;
  }
  const a = set.reserveNext(flags, fn);
  if (!set.dryRun) setPciAddress(dev, { ...a, multi });
}

/** virDomainPCIAddressSetAllMulti: function 0 of a slot with other functions in use gets multifunction='on'. */
function setAllMulti(d: DomainDraft): void {
  // The slots with a function other than 0 in use, then the first device on function 0 of each.
  const slotKey = (a: PciAddress) => `${a.domain}:${a.bus}:${a.slot}`;
  const shared = new Set<string>();
  const devs = devicesInInfoOrder(d);
  const addrs = devs.map((dev) => pciAddressOf(dev));
  for (const a of addrs) if (a && a.fn !== 0) shared.add(slotKey(a));
  if (shared.size === 0) return;
  const seen = new Set<string>();
  devs.forEach((dev, i) => {
    const b = addrs[i];
    if (!b || b.fn !== 0) return;
    const key = slotKey(b);
    if (!shared.has(key) || seen.has(key)) return;
    seen.add(key);
    if (b.multi === undefined) setPciAddress(dev, { ...b, multi: 'on' });
  });
}

/** qemuDomainPCIControllerSetDefaultModelName (QEMU 7.2 has the generic pcie-root-port). */
const MODEL_NAMES: Record<string, string> = {
  'pci-bridge': 'pci-bridge', 'dmi-to-pci-bridge': 'i82801b11-bridge', 'pcie-to-pci-bridge': 'pcie-pci-bridge',
  'pcie-root-port': 'pcie-root-port', 'pcie-switch-upstream-port': 'x3130-upstream', 'pcie-switch-downstream-port': 'xio3130-downstream',
  'pci-expander-bus': 'pxb', 'pcie-expander-bus': 'pxb-pcie',
};

function controllerDefaults(d: DomainDraft): void {
  for (const c of pciControllers(d)) {
    const dev = d.devices.find((n) => controllerModelOf(n) === c)!;
    const a = pciAddressOf(dev) ?? { domain: 0, bus: 0, slot: 0, fn: 0 };
    const p = c.pci;
    p.modelName ??= MODEL_NAMES[c.model ?? ''];
    switch (c.model) {
      case 'pci-bridge':
        p.chassisNr ??= c.idx;
        break;
      case 'pcie-root-port':
        p.chassis ??= c.idx;
        p.port ??= (a.slot << 3) + a.fn;
        break;
      case 'pcie-switch-downstream-port':
        p.chassis ??= c.idx;
        p.port ??= a.slot;
        break;
      case 'pci-expander-bus':
      case 'pcie-expander-bus':
        p.busNr ??= newBusNr(d);
        if (p.busNr === -1) {
          throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, `No free busNr lower than current lowest busNr is available to auto-assign to bus ${a.bus}. Must be manually assigned`);
        }
        break;
    }
    if (c.model === 'pci-bridge' && c.idx <= a.bus) {
      const h = (n: number) => n.toString(16).padStart(2, '0');
      throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, `PCI controller at index ${c.idx} (0x${h(c.idx)}) has bus='0x${h(a.bus)}', but index must be larger than bus`);
    }
  }
}

/** qemuDomainAddressFindNewBusNr: two below the lowest bus number in use (one for the expander, one for its bridge). */
function newBusNr(d: DomainDraft): number {
  let lowest = 256;
  for (const c of pciControllers(d)) if (c.pci.busNr !== undefined && c.pci.busNr >= 0 && c.pci.busNr < lowest) lowest = c.pci.busNr;
  return lowest <= 2 ? -1 : lowest - 2;
}
