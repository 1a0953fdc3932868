/**
 * qemuDomainAssignAddresses at define, in libvirt's order: virtio-serial ports (which may add
 * virtio-serial controllers), spapr-vio regs, PCI addresses (which may add PCI controllers), USB
 * ports (which may add hubs). Each device's address ends up in its canonical node.
 */
import type { DraftStep } from './draft.ts';
import { refreshControllers, withAddressCache } from './addresses/device-address.ts';
import { assignPciAddresses } from './addresses/pci-assign.ts';
import { assignUsbAddresses } from './addresses/usb.ts';
import { assignVirtioSerialAddresses } from './addresses/virtio-serial.ts';
import { addSmartcardControllers } from './addresses/smartcard-ccid.ts';
import { assignSpaprVioAddresses } from './addresses/spapr-vio.ts';

export const assignAddresses: DraftStep = (d) =>
  withAddressCache(() => {
    // Not yet done among the implicit controllers (implicit-devices.ts); harmless if it is one day.
    addSmartcardControllers(d);
    assignVirtioSerialAddresses(d);
    assignSpaprVioAddresses(d);
    assignPciAddresses(d);
    assignUsbAddresses(d);
    refreshControllers(d);
  });
