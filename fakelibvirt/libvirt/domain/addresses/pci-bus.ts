/**
 * libvirt's PCI address set (conf/domain_addr.c, virDomainPCIAddressSet): the buses by controller
 * index with the flags of their model, the functions reserved in each slot, and the search for the
 * next free slot. In a dry run (libvirt's first pass) a device that fits nowhere makes the set grow
 * by the controller that would give it a slot, which is how libvirt decides the controllers to add.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import {
  AGGREGATE_SLOT, AUTOASSIGN, busModel, connectTypeModel, DMI_TO_PCI_BRIDGE, HOTPLUGGABLE, INTEGRATED, PCI_BRIDGE, PCI_DEVICE,
  PCIE_DEVICE, PCIE_EXPANDER_BUS, PCIE_ROOT_PORT, PCIE_SWITCH_DOWNSTREAM_PORT, PCIE_SWITCH_UPSTREAM_PORT, PCIE_TO_PCI_BRIDGE,
  PCI_EXPANDER_BUS, TYPES_ENDPOINT, TYPES_MASK,
} from './pci-connect.ts';

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  fn: number;
  /** multifunction='on'/'off', absent when not set. */
  multi?: string;
}

export interface PciBus {
  model: string | undefined;
  flags: number;
  minSlot: number;
  maxSlot: number;
  /** Per slot: the bitmask of reserved functions, and whether functions may be shared out (root ports). */
  functions: number[];
  aggregate: boolean[];
}

const err = (fromConfig: boolean, message: string) =>
  LibvirtError.of(fromConfig ? VirErrorNumber.XML_ERROR : VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.DOMAIN, message);
const internal = (message: string) => LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.DOMAIN, message);

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
/** virPCIDeviceAddressAsString. */
export const addressString = (a: PciAddress) => `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${a.fn.toString(16)}`;

export function newBus(): PciBus {
  return { model: undefined, flags: 0, minSlot: 0, maxSlot: 31, functions: new Array(32).fill(0), aggregate: new Array(32).fill(false) };
}

export function setBusModel(bus: PciBus, model: string, hotplug: boolean): void {
  const m = busModel(model, hotplug);
  Object.assign(bus, { model, flags: m.flags, minSlot: m.minSlot, maxSlot: m.maxSlot });
}

/** The description of a device's connection in libvirt's "It requires a controller that accepts a …" text. */
const CONNECT_NAMES: [number, string][] = [
  [PCI_DEVICE, 'standard PCI device'], [PCIE_DEVICE, 'PCI Express device'], [PCIE_ROOT_PORT, 'pcie-root-port'],
  [PCIE_SWITCH_UPSTREAM_PORT, 'pcie-switch-upstream-port'], [PCIE_SWITCH_DOWNSTREAM_PORT, 'pcie-switch-downstream-port'],
  [DMI_TO_PCI_BRIDGE, 'dmi-to-pci-bridge'], [PCIE_TO_PCI_BRIDGE, 'pcie-to-pci-bridge'], [PCI_EXPANDER_BUS, 'pci-expander-bus'],
  [PCIE_EXPANDER_BUS, 'pcie-expander-bus'], [PCI_BRIDGE, 'pci-bridge'],
];

/** virDomainPCIAddressFlagsCompatible (the address is spelled out only in an error). */
function compatible(a: PciAddress, busFlags: number, devFlags: number, report: boolean, fromConfig: boolean): boolean {
  if (devFlags & INTEGRATED) {
    if (a.bus !== 0) {
      if (report) throw err(fromConfig, `The device at PCI address ${addressString(a)} needs to be an integrated device (bus=0)`);
      return false;
    }
    busFlags |= AUTOASSIGN;
  }
  if (fromConfig) {
    // A user's address may put a PCI device in a PCIe slot or the reverse, and a pci-bridge wherever a PCI device fits.
    if (busFlags & TYPES_ENDPOINT) busFlags |= TYPES_ENDPOINT;
    if (devFlags & PCI_BRIDGE) devFlags |= PCI_DEVICE;
  } else if (devFlags & AUTOASSIGN && !(busFlags & AUTOASSIGN)) {
    if (report) {
      throw err(fromConfig, `The device at PCI address ${addressString(a)} was auto-assigned this address, but the PCI controller with index='${a.bus}' doesn't allow auto-assignment`);
    }
    return false;
  }
  if (devFlags & HOTPLUGGABLE && !(busFlags & HOTPLUGGABLE)) {
    if (report) throw err(fromConfig, `The device at PCI address ${addressString(a)} requires hotplug capability, but the PCI controller with index='${a.bus}' doesn't support hotplug`);
    return false;
  }
  if (!(devFlags & busFlags & TYPES_MASK)) {
    if (!report) return false;
    const name = CONNECT_NAMES.find(([f]) => devFlags & f)?.[1];
    if (name === undefined) {
      throw err(fromConfig, `The device at PCI address ${addressString(a)} has unrecognized connection type flags 0x${hex(devFlags & TYPES_MASK, 2)}`);
    }
    throw err(fromConfig, `The device at PCI address ${addressString(a)} cannot be plugged into the PCI controller with index='${a.bus}'. It requires a controller that accepts a ${name}.`);
  }
  return true;
}

export class PciAddressSet {
  readonly buses: PciBus[] = [];
  constructor(
    nbuses: number,
    readonly dryRun: boolean,
    /** QEMU 7.2 has pcie-pci-bridge: PCI devices on a PCIe machine go behind one. */
    private readonly pcieToPciBridge = true,
  ) {
    for (let i = 0; i < nbuses; i++) this.buses.push(newBus());
  }

  /** virDomainPCIAddressValidate. */
  validate(a: PciAddress, flags: number, fromConfig: boolean): void {
    if (this.buses.length === 0) throw err(fromConfig, 'No PCI buses available');
    if (a.domain !== 0) throw err(fromConfig, `Invalid PCI address ${addressString(a)}. Only PCI domain 0 is available`);
    if (a.bus >= this.buses.length) throw err(fromConfig, `Invalid PCI address ${addressString(a)}. Only PCI buses up to ${this.buses.length - 1} are available`);
    const bus = this.buses[a.bus]!;
    compatible(a, bus.flags, flags, true, fromConfig);
    if (bus.minSlot && a.slot < bus.minSlot) throw err(fromConfig, `Invalid PCI address ${addressString(a)}. slot must be >= ${bus.minSlot}`);
    if (a.slot > bus.maxSlot) throw err(fromConfig, `Invalid PCI address ${addressString(a)}. slot must be <= ${bus.maxSlot}`);
    if (a.fn > 7) throw err(fromConfig, `Invalid PCI address ${addressString(a)}. function must be <= 7`);
  }

  slotInUse(a: PciAddress): boolean {
    return this.buses[a.bus]!.functions[a.slot] !== 0;
  }

  isFullyReserved(bus: PciBus): boolean {
    for (let s = bus.minSlot; s <= bus.maxSlot; s++) if (!bus.functions[s]) return false;
    return true;
  }

  private isEmpty(bus: PciBus): boolean {
    for (let s = bus.minSlot; s <= bus.maxSlot; s++) if (bus.functions[s]) return false;
    return true;
  }

  /** virDomainPCIAddressReserveAddrInternal (fromConfig: the address came from the document). */
  reserve(a: PciAddress, flags: number, fromConfig = true): void {
    if (this.dryRun) this.grow(a, flags);
    this.validate(a, flags, fromConfig);
    const bus = this.buses[a.bus]!;
    if (bus.functions[a.slot]! & (1 << a.fn)) throw err(fromConfig, `Attempted double use of PCI Address ${addressString(a)}`);
    if (!bus.functions[a.slot] && flags & AGGREGATE_SLOT) bus.aggregate[a.slot] = true;
    bus.functions[a.slot]! |= 1 << a.fn;
  }

  release(a: PciAddress): void {
    const bus = this.buses[a.bus];
    if (bus) bus.functions[a.slot]! &= ~(1 << a.fn);
  }

  /** virDomainPCIAddressFindUnusedFunctionOnBus: moves `a` to the free slot found. */
  private findOnBus(bus: PciBus, a: PciAddress, fn: number, flags: number): boolean {
    if (!compatible(a, bus.flags, flags, false, false)) return false;
    for (; a.slot <= bus.maxSlot; a.slot++) {
      if (bus.functions[a.slot] === 0) return true;
      if (flags & AGGREGATE_SLOT && bus.aggregate[a.slot]) {
        if ((bus.functions[a.slot]! & (1 << a.fn)) === 0) return true;
        if (fn === -1) {
          for (; a.fn < 8; a.fn++) if ((bus.functions[a.slot]! & (1 << a.fn)) === 0) return true;
          a.fn = 0;
        }
      }
    }
    return false;
  }

  /** virDomainPCIAddressGetNextAddr (one isolation group: libvirt's groups only split host devices). */
  nextAddress(flags: number, fn = -1): PciAddress {
    if (this.buses.length === 0) throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, 'No PCI buses available');
    const a: PciAddress = { domain: 0, bus: 0, slot: 0, fn: fn === -1 ? 0 : fn };
    for (a.bus = 0; a.bus < this.buses.length; a.bus++) {
      const bus = this.buses[a.bus]!;
      a.slot = bus.minSlot;
      if (this.findOnBus(bus, a, fn, flags)) return a;
    }
    for (a.bus = 0; a.bus < this.buses.length; a.bus++) {
      const bus = this.buses[a.bus]!;
      if (!this.isEmpty(bus)) continue;
      a.slot = bus.minSlot;
      if (this.findOnBus(bus, a, fn, flags)) return a;
    }
    if (this.dryRun) {
      this.grow(a, flags);
      a.slot = this.buses[a.bus]!.minSlot;
      return a;
    }
    throw internal('No more available PCI slots');
  }

  /** virDomainPCIAddressReserveNextAddr: the address, which the caller sets on the device unless this is a dry run. */
  reserveNext(flags: number, fn = -1): PciAddress {
    const a = this.nextAddress(flags, fn);
    this.reserve(a, flags, false);
    return a;
  }

  /** virDomainPCIAddressSetGrow: the buses a device at `a` needs, of the model that would give it a slot. */
  private grow(a: PciAddress, flags: number): void {
    let add = a.bus - this.buses.length + 1;
    if (add <= 0) return;
    let model: string;
    let needPcieToPci = false;
    if (flags & PCI_DEVICE) {
      model = 'pci-bridge';
      // A PCIe-only topology first needs a pcie-root-port with a pcie-to-pci-bridge in it.
      const bridgeable = this.buses.some((b) => b.flags & PCI_BRIDGE);
      let needDmi = !bridgeable;
      needPcieToPci = !bridgeable;
      if (this.pcieToPciBridge) needDmi = false;
      else needPcieToPci = false;
      if ((needDmi || needPcieToPci) && add === 1) {
        add++;
        a.bus++;
      }
      const first = this.buses.length;
      for (let i = 0; i < add; i++) this.buses.push(newBus());
      let i = first;
      if (needDmi) setBusModel(this.buses[i++]!, 'dmi-to-pci-bridge', false);
      if (needPcieToPci) {
        setBusModel(this.buses[i]!, 'pcie-root-port', true);
        // Only the bridge may take this root port, so the spare one for hot-plug is a separate port.
        this.buses[i]!.flags = PCIE_TO_PCI_BRIDGE;
        i++;
        setBusModel(this.buses[i++]!, 'pcie-to-pci-bridge', true);
      }
      for (; i < this.buses.length; i++) setBusModel(this.buses[i]!, model, true);
      return;
    }
    if (flags & (PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT)) {
      model = 'pcie-root-port';
      for (let i = 0; i < add; i++) {
        const bus = newBus();
        setBusModel(bus, model, true);
        this.buses.push(bus);
      }
      return;
    }
    const existing = connectTypeModel(flags);
    if (existing !== undefined) {
      throw internal(`a PCI slot is needed to connect a PCI controller model='${existing}', but none is available, and it cannot be automatically added`);
    }
    throw internal(`Cannot automatically add a new PCI bus for a device with connect flags ${hex(flags, 2)}`);
  }
}
