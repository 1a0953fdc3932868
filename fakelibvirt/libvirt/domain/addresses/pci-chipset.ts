/**
 * The slots the machine's chipset fixes before any device is placed
 * (qemuDomainValidateDevicePCISlotsPIIX3 / …Q35): the PIIX3's functions on 00:01 and the primary
 * video on 00:02 for i440fx; the ICH9's LPC/SATA/SMBus on 00:1f, the primary video on 00:01, USB2
 * on 00:1d/00:1a, the DMI bridge on 00:1e and HD audio on 00:1b for q35.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import type { XmlNode } from '../../xml-tree.ts';
import { child } from '../../xml-tree.ts';
import type { DomainDraft } from '../draft.ts';
import { controllerModelOf } from '../devices/controller.ts';
import { isI440fx, isQ35, machineOf } from '../implicit-devices.ts';
import { addressOf, devicesOf, pciPresent, pciWanted, setPciAddress } from './device-address.ts';
import type { PciAddress, PciAddressSet } from './pci-bus.ts';
import { AUTOASSIGN, PCI_DEVICE, PCIE_DEVICE } from './pci-connect.ts';

const internal = (message: string) => LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, message);
const at = (slot: number, fn = 0, multi?: string): PciAddress => ({ domain: 0, bus: 0, slot, fn, multi });
const same = (a: PciAddress, b: PciAddress) => a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.fn === b.fn;

type Flags = (dev: XmlNode) => number;

export function reserveChipsetSlots(d: DomainDraft, set: PciAddressSet, flagsOf: Flags): void {
  const machine = machineOf(d);
  if (isI440fx(machine)) piix3(d, set, flagsOf);
  if (isQ35(machine)) q35(d, set, flagsOf);
}

/** The first video, when it is a PCI one (ramfb and none are not). */
function primaryVideo(d: DomainDraft): XmlNode | undefined {
  const video = devicesOf(d, 'video')[0];
  const type = video && child(video, 'model')?.attrs.type;
  return video && type !== 'none' && type !== 'ramfb' ? video : undefined;
}

/** The primary video in its slot when free (qemu places the first VGA there), else the next free one. */
function placeVideo(d: DomainDraft, set: PciAddressSet, flagsOf: Flags, slot: number, flags: number): void {
  const video = primaryVideo(d);
  if (!video || !pciWanted(video)) return;
  const a = at(slot);
  set.validate(a, flags, true);
  if (set.slotInUse(a)) {
    const next = set.reserveNext(flagsOf(video));
    if (!set.dryRun) setPciAddress(video, next);
  } else {
    set.reserve(a, flags);
    setPciAddress(video, a);
  }
}

function piix3(d: DomainDraft, set: PciAddressSet, flagsOf: Flags): void {
  const flags = AUTOASSIGN | PCI_DEVICE;
  for (const dev of devicesOf(d, 'controller')) {
    const c = controllerModelOf(dev);
    if (!c || c.idx !== 0) continue;
    let want: PciAddress;
    let message: string;
    if (c.type === 'ide') [want, message] = [at(1, 1), 'Primary IDE controller must have PCI address 0:0:1.1'];
    else if (c.type === 'usb' && (c.model === 'piix3-uhci' || c.model === undefined)) {
      [want, message] = [at(1, 2), 'PIIX3 USB controller at index 0 must have PCI address 0:0:1.2'];
    } else continue;
    const present = pciPresent(dev);
    if (present) {
      if (!same(present, want)) throw internal(message);
    } else setPciAddress(dev, want);
    if (set.buses.length) set.reserve(pciPresent(dev)!, flags);
  }
  if (set.buses.length) {
    set.reserve(at(1, 0), flags);
    set.reserve(at(1, 3), flags);
  }
  placeVideo(d, set, flagsOf, 2, flags);
}

function q35(d: DomainDraft, set: PciAddressSet, flagsOf: Flags): void {
  const flags = PCIE_DEVICE;
  for (const dev of devicesOf(d, 'controller')) {
    const c = controllerModelOf(dev);
    if (!c) continue;
    if (c.type === 'sata' && c.idx === 0) {
      const present = pciPresent(dev);
      if (present) {
        if (!same(present, at(0x1f, 2))) throw internal('Primary SATA controller must have PCI address 0:0:1f.2');
      } else setPciAddress(dev, at(0x1f, 2));
    } else if (c.type === 'usb' && c.model === 'ich9-uhci1' && addressOf(dev) === undefined) {
      // USB2 where real Q35 hardware has it, when free; its companions follow it later.
      const slot = [0x1d, 0x1a].find((s) => !set.slotInUse(at(s)));
      if (slot !== undefined) {
        set.reserve(at(slot), flags);
        setPciAddress(dev, at(slot, 0, 'on'));
      }
    } else if (c.type === 'pci' && c.model === 'dmi-to-pci-bridge' && addressOf(dev) === undefined && !set.slotInUse(at(0x1e))) {
      set.reserve(at(0x1e), flags);
      setPciAddress(dev, at(0x1e));
    }
  }
  if (set.buses.length) {
    set.reserve(at(0x1f, 0, 'on'), flags);
    set.reserve(at(0x1f, 3), flags);
  }
  placeVideo(d, set, flagsOf, 1, flags);
  if (!set.slotInUse(at(0x1b))) {
    const sound = devicesOf(d, 'sound').find((s) => s.attrs.model === 'ich9' && pciWanted(s));
    if (sound) {
      set.reserve(at(0x1b), flags);
      setPciAddress(sound, at(0x1b));
    }
  }
}
