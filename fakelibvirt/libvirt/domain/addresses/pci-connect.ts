/**
 * Which kind of PCI slot each device needs (libvirt's virDomainPCIConnectFlags): the bus flags a
 * controller model offers downstream (virDomainPCIAddressBusSetModel), the connection a PCI
 * controller model makes upstream (virDomainPCIControllerModelToConnectType), and the connection
 * every other device needs (qemuDomainDeviceCalculatePCIConnectFlags), as data.
 */
import { child, type XmlNode } from '../../xml-tree.ts';
import { controllerModelOf } from '../devices/controller.ts';

// libvirt's virDomainPCIConnectFlags bit values (its error texts print them).
export const AUTOASSIGN = 1 << 0;
export const HOTPLUGGABLE = 1 << 1;
export const INTEGRATED = 1 << 2;
export const AGGREGATE_SLOT = 1 << 3;
export const PCI_DEVICE = 1 << 4;
export const PCIE_DEVICE = 1 << 5;
export const PCIE_ROOT_PORT = 1 << 6;
export const PCIE_SWITCH_UPSTREAM_PORT = 1 << 7;
export const PCIE_SWITCH_DOWNSTREAM_PORT = 1 << 8;
export const DMI_TO_PCI_BRIDGE = 1 << 9;
export const PCI_EXPANDER_BUS = 1 << 10;
export const PCIE_EXPANDER_BUS = 1 << 11;
export const PCI_BRIDGE = 1 << 12;
export const PCIE_TO_PCI_BRIDGE = 1 << 13;

export const TYPES_ENDPOINT = PCI_DEVICE | PCIE_DEVICE;
export const TYPES_MASK = 0x3ff0;

/** The slots of a bus a controller model provides: what plugs in downstream, and the slot range. */
export interface BusModel {
  readonly flags: number;
  readonly minSlot: number;
  readonly maxSlot: number;
}

/** virDomainPCIAddressBusSetModel. */
export function busModel(model: string, hotplug: boolean): BusModel {
  const hp = hotplug ? HOTPLUGGABLE : 0;
  switch (model) {
    case 'pci-root':
      return { flags: AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | PCI_EXPANDER_BUS | hp, minSlot: 1, maxSlot: 31 };
    case 'pci-bridge':
      return { flags: AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp, minSlot: 1, maxSlot: 31 };
    case 'pci-expander-bus':
      return { flags: AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp, minSlot: 0, maxSlot: 31 };
    case 'pcie-root':
      // No auto-assignment of endpoints: they get root ports (or are integrated).
      return { flags: PCIE_DEVICE | PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE | PCIE_EXPANDER_BUS, minSlot: 1, maxSlot: 31 };
    case 'dmi-to-pci-bridge':
      return { flags: PCI_DEVICE | PCI_BRIDGE, minSlot: 0, maxSlot: 31 };
    case 'pcie-to-pci-bridge':
      return { flags: AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp, minSlot: 1, maxSlot: 31 };
    case 'pcie-root-port':
    case 'pcie-switch-downstream-port':
      return { flags: AUTOASSIGN | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT | PCIE_TO_PCI_BRIDGE | hp, minSlot: 0, maxSlot: 0 };
    case 'pcie-switch-upstream-port':
      return { flags: PCIE_SWITCH_DOWNSTREAM_PORT, minSlot: 0, maxSlot: 31 };
    case 'pcie-expander-bus':
      return { flags: PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE, minSlot: 0, maxSlot: 31 };
    default:
      return { flags: 0, minSlot: 0, maxSlot: 31 };
  }
}

/** virDomainPCIControllerModelToConnectType: how a PCI controller plugs in upstream. */
export function controllerConnect(model: string | undefined): number {
  switch (model) {
    case 'pci-bridge': return PCI_BRIDGE;
    case 'pci-expander-bus': return PCI_EXPANDER_BUS;
    case 'pcie-expander-bus': return PCIE_EXPANDER_BUS;
    case 'dmi-to-pci-bridge': return DMI_TO_PCI_BRIDGE;
    case 'pcie-to-pci-bridge': return PCIE_TO_PCI_BRIDGE;
    case 'pcie-root-port': return PCIE_ROOT_PORT | AGGREGATE_SLOT;
    case 'pcie-switch-upstream-port': return PCIE_SWITCH_UPSTREAM_PORT;
    case 'pcie-switch-downstream-port': return PCIE_SWITCH_DOWNSTREAM_PORT;
    default: return 0;
  }
}

/** virDomainPCIControllerConnectTypeToModel: the controller that provides a connection type. */
export function connectTypeModel(flags: number): string | undefined {
  if (flags & PCIE_ROOT_PORT) return 'pcie-root-port';
  if (flags & PCIE_SWITCH_UPSTREAM_PORT) return 'pcie-switch-upstream-port';
  if (flags & PCIE_SWITCH_DOWNSTREAM_PORT) return 'pcie-switch-downstream-port';
  if (flags & DMI_TO_PCI_BRIDGE) return 'dmi-to-pci-bridge';
  if (flags & PCI_EXPANDER_BUS) return 'pci-expander-bus';
  if (flags & PCIE_EXPANDER_BUS) return 'pcie-expander-bus';
  if (flags & PCI_BRIDGE) return 'pci-bridge';
  return undefined;
}

const USB_PCIE = ['nec-xhci', 'qemu-xhci'];
const USB_PCI = ['ehci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3', 'vt82c686b-uhci', 'piix3-uhci', 'piix4-uhci', 'pci-ohci'];
const SCSI_VIRTIO = ['virtio-scsi', 'virtio-non-transitional'];
const SOUND_PCI = ['es1370', 'ac97', 'ich6', 'ich9'];
const VIDEO_PCI = ['vga', 'cirrus', 'vmvga', 'xen', 'vbox', 'qxl', 'parallels'];
/** The character device target types whose value is VIR_DOMAIN_CHR_SERIAL_TARGET_TYPE_PCI (3): libvirt compares every chr's target type with it. */
const CHR_PCI_TARGET: Record<string, string> = { serial: 'pci-serial', channel: 'xen', console: 'uml' };

/** virDomainNetModel (matched case-insensitively by virDomainNetSetModelString). */
const NET_MODELS = [
  'unknown', 'netfront', 'rtl8139', 'virtio', 'e1000', 'e1000e', 'virtio-transitional', 'virtio-non-transitional', 'usb-net',
  'spapr-vlan', 'lan9118', 'scm91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'Am79C970A', 'Am79C973', '82540EM', '82545EM',
  '82543GC',
];
const knownNetModel = (model: string | undefined) =>
  NET_MODELS.find((m) => model !== undefined && m.toLowerCase() === model.toLowerCase()) ?? 'unknown';

/**
 * qemuDomainDeviceCalculatePCIConnectFlags on the canonical node. `pcie` is the flags of a PCIe
 * device on this machine (PCI when it has no pcie-root); virtio devices are PCIe there too (QEMU
 * 7.2 has the transitional models), and their transitional models only plug into PCI slots.
 */
export function deviceConnectFlags(dev: XmlNode, pcie: number): number {
  const pci = PCI_DEVICE | AUTOASSIGN;
  const virtio = (model: string | undefined) => (model === 'virtio-transitional' ? pci : pcie);
  const model = dev.attrs.model;
  switch (dev.name) {
    case 'controller': {
      const m = controllerModelOf(dev);
      const type = m?.type ?? dev.attrs.type;
      const cm = m?.model ?? model;
      switch (type) {
        case 'pci': return controllerConnect(cm);
        case 'sata': case 'ide': return pci;
        case 'usb':
          if (cm === undefined) return pci;
          return USB_PCIE.includes(cm) ? pcie : USB_PCI.includes(cm) ? pci : 0;
        case 'scsi':
          if (cm === undefined || cm === 'ncr53c90') return 0;
          return SCSI_VIRTIO.includes(cm) ? pcie : pci;
        case 'virtio-serial': return virtio(cm);
        default: return 0;
      }
    }
    case 'filesystem': {
      const driver = child(dev, 'driver')?.attrs.type;
      if (driver === undefined || driver === 'path' || driver === 'handle') return virtio(model);
      return driver === 'virtiofs' ? pcie : 0;
    }
    case 'interface': {
      const netModel = knownNetModel(child(dev, 'model')?.attrs.type);
      if (dev.attrs.type === 'hostdev' || netModel === 'usb-net') return 0;
      if (netModel === 'virtio' || netModel === 'virtio-non-transitional') return pcie;
      if (netModel === 'virtio-transitional') return pci;
      // A model outside libvirt's table is "unknown": taken for a PCIe device.
      if (netModel === 'e1000e' || netModel === 'unknown') return pcie;
      return pci;
    }
    case 'sound': return SOUND_PCI.includes(model ?? '') ? pci : 0;
    case 'disk': return child(dev, 'target')?.attrs.bus === 'virtio' ? virtio(model) : 0;
    case 'hostdev': {
      const type = dev.attrs.type;
      if (dev.attrs.mode === 'capabilities' || (type !== 'pci' && type !== 'scsi_host' && type !== 'mdev')) return 0;
      if (type === 'scsi_host') return virtio(model);
      // A host device libvirt cannot inspect counts as PCIe, as most assignable devices are.
      return pcie;
    }
    case 'memballoon': return model === 'virtio-transitional' ? pci : model === 'virtio' || model === 'virtio-non-transitional' ? pcie : 0;
    case 'rng': return virtio(model);
    case 'watchdog': return model === 'i6300esb' ? pci : 0;
    case 'video': {
      const type = child(dev, 'model')?.attrs.type;
      if (type === 'virtio') return pcie;
      if (type === 'bochs') return pcie;
      return VIDEO_PCI.includes(type ?? '') ? pci : 0;
    }
    case 'shmem': return pci;
    case 'input': return dev.attrs.bus === 'virtio' ? virtio(model) : 0;
    case 'serial': case 'channel': case 'console': case 'parallel':
      return child(dev, 'target')?.attrs.type === CHR_PCI_TARGET[dev.name] ? pci : 0;
    case 'iommu': return model === 'virtio' ? pcie | INTEGRATED : 0;
    case 'vsock': return model === 'virtio-transitional' ? pci : pcie;
    case 'memory': return model === 'virtio-pmem' || model === 'virtio-mem' ? pcie : 0;
    default: return 0;
  }
}
