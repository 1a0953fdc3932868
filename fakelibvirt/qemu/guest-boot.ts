/**
 * What happens inside an encrypted guest once QEMU runs it. QEMU accepts these configurations, but
 * the guest cannot work: its firmware, kernel or devices cannot cope with encrypted memory. The
 * fake records each such fault on the running guest, where tests and the conformance suite see it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { DirectKernelBoot } from '../firmware/guid-tables.ts';
import { child } from '../libvirt/xml-tree.ts';
import { versionAtLeast } from '../profile/version.ts';
import { implicitVirtioSerialController, isTransitionalVirtio, isVirtioDevice, type DeviceDef, type DomainDef } from '../libvirt/domain-def.ts';
import { isQ35 } from '../libvirt/qemu-validate.ts';

export interface GuestFault {
  /** Stable identifier tests and conformance cases match on. */
  readonly code:
    | 'guest-os-not-sev-aware'
    | 'guest-os-not-sev-es-aware'
    | 'firmware-not-uefi'
    | 'virtio-without-iommu'
    | 'transitional-virtio-on-pc'
    | 'virtio-blk-boot-disk'
    | 'ipxe-rom-not-sev-aware'
    | 'vmcoreinfo-needs-dma';
  readonly message: string;
}

function describe(d: DeviceDef): string {
  if (d.targetDev) return `${d.kind} ${d.targetDev}`;
  const what = d.kind === 'controller' ? d.controllerType : d.model;
  return `${d.kind}${what ? ` (${what})` : ''}`;
}

/** The PCI devices QEMU creates for the guest: the declared ones plus libvirt's implicit virtio-serial controller. */
function pciDevices(def: DomainDef): readonly DeviceDef[] {
  const implicit = implicitVirtioSerialController(def.devices);
  return implicit ? [...def.devices, implicit] : def.devices;
}

/**
 * Before QEMU 6.0 the platform IOMMU is not forced on for confidential guests, so each virtio
 * device needs iommu='on' (VIRTIO_F_ACCESS_PLATFORM) or its DMA misses the bounce buffers. One rule
 * for boot and hot-plug: `devices` are the ones the guest gets at this moment.
 */
function virtioIommuFaults(devices: readonly DeviceDef[], qemuVersion: string): GuestFault[] {
  if (versionAtLeast(qemuVersion, 6, 0)) return [];
  return devices
    .filter((d) => isVirtioDevice(d) && !d.iommu)
    .map((d) => ({ code: 'virtio-without-iommu' as const, message: `virtio ${describe(d)} lacks iommu='on': its DMA cannot reach encrypted memory and guest I/O breaks` }));
}

/** On i440fx an encrypted guest's virtio devices need the modern interface; transitional ones fall back to legacy I/O. */
function transitionalVirtioFaults(devices: readonly DeviceDef[], machine: string): GuestFault[] {
  if (isQ35(machine)) return [];
  return devices
    .filter(isTransitionalVirtio)
    .map((d) => ({ code: 'transitional-virtio-on-pc' as const, message: `transitional virtio ${describe(d)} on machine ${machine}: legacy virtio I/O does not work for an encrypted guest (use q35 or a *-non-transitional model)` }));
}

/**
 * A device hot-plugged into a running encrypted guest: the boot-time device rules, minus the iPXE
 * ROM (option ROMs run only in the firmware, at boot).
 */
export function hotplugFaults(device: DeviceDef, machine: string, qemuVersion: string): GuestFault[] {
  return [...virtioIommuFaults([device], qemuVersion), ...transitionalVirtioFaults([device], machine)];
}

/** A virtio NIC's iPXE option ROM runs in the encrypted guest's firmware and cannot do its DMA. */
function ipxeRomFaults(devices: readonly DeviceDef[]): GuestFault[] {
  return devices
    .filter((d) => d.kind === 'interface' && isVirtioDevice(d) && d.romEnabled)
    .map((d) => ({ code: 'ipxe-rom-not-sev-aware' as const, message: `interface (${d.model}) loads the iPXE option ROM, which is not SEV-aware (add <rom enabled='no'/>)` }));
}

/** The disk the firmware boots: the lowest boot order (the first of equals), else the first hard disk. */
export function bootDisk(def: DomainDef): DeviceDef | undefined {
  let first: DeviceDef | undefined;
  let ordered: DeviceDef | undefined;
  for (const d of def.devices) {
    if (d.kind !== 'disk' || d.device !== 'disk') continue;
    first ??= d;
    if (d.bootOrder !== undefined && (ordered === undefined || d.bootOrder < ordered.bootOrder!)) ordered = d;
  }
  return ordered ?? first;
}

export function usesUefi(def: DomainDef): boolean {
  return def.os.firmware === 'efi' || (!!def.os.loader && def.os.loader.type !== 'rom' && /ovmf|edk2|uefi/i.test(def.os.loader.path));
}

export function encryptedGuestFaults(def: DomainDef, machine: string, qemuVersion: string): GuestFault[] {
  const ls = def.launchSecurity;
  if (!ls) return [];
  const faults: GuestFault[] = [];
  const es = ls.type === 'sev' && (ls.policy & 0x4) !== 0;
  if (!def.guestOs.sev) {
    faults.push({ code: 'guest-os-not-sev-aware', message: `guest OS '${def.guestOs.name}' has no SEV support: it cannot boot with encrypted memory` });
  } else if ((es || ls.type === 'sev-snp') && !def.guestOs.sevEs) {
    faults.push({ code: 'guest-os-not-sev-es-aware', message: `guest OS '${def.guestOs.name}' has no SEV-ES support (no GHCB): it cannot boot with an encrypted register state` });
  }
  if (!usesUefi(def)) {
    faults.push({ code: 'firmware-not-uefi', message: 'the BIOS firmware is not SEV-aware: an encrypted guest needs OVMF (UEFI)' });
  }
  // The PCI device list (with libvirt's implicit controller) only when a device rule applies.
  if (!versionAtLeast(qemuVersion, 6, 0) || !isQ35(machine)) {
    const devices = pciDevices(def);
    faults.push(...virtioIommuFaults(devices, qemuVersion));
    faults.push(...transitionalVirtioFaults(devices, machine));
  }
  const boot = bootDisk(def);
  if (boot?.bus === 'virtio' && !def.guestOs.virtioBlkBoot) {
    faults.push({ code: 'virtio-blk-boot-disk', message: `guest OS '${def.guestOs.name}' cannot boot an encrypted guest from virtio-blk disk ${boot.targetDev ?? ''}`.trimEnd() });
  }
  faults.push(...ipxeRomFaults(def.devices));
  if (def.features.has('vmcoreinfo')) {
    faults.push({ code: 'vmcoreinfo-needs-dma', message: 'vmcoreinfo needs fw_cfg DMA, which an SEV guest cannot do: the guest kernel crashes' });
  }
  return faults;
}

/** Kernel and initrd files above this size are not read (QEMU would; the fake measures what it can hold). */
const MAX_BOOT_FILE_BYTES = 256 * 1024 * 1024;

/**
 * What QEMU reads for `<os><kernel>` boot: the files' bytes when this machine has them (QEMU opens
 * the paths), else deterministic bytes standing in for a file the fake host pretends to have.
 */
function bootFile(path: string, label: string): Buffer {
  try {
    const st = statSync(path);
    if (st.isFile() && st.size <= MAX_BOOT_FILE_BYTES) return readFileSync(path);
  } catch {
    // not on this machine
  }
  return createHash('sha256').update(`sevharness synthetic ${label}:${path}`).digest();
}

/** `<os><kernel>/<initrd>/<cmdline>` of the definition: null without a kernel (no direct boot). */
export function directKernelBoot(def: DomainDef): DirectKernelBoot | null {
  const os = child(def.tree, 'os');
  const text = (name: string) => (os ? child(os, name)?.text.trim() : undefined);
  const kernel = text('kernel');
  if (!kernel) return null;
  const initrd = text('initrd');
  const cmdNode = os ? child(os, 'cmdline') : undefined;
  const cmdline = cmdNode ? (cmdNode.raw ?? cmdNode.text) : undefined;
  return {
    kernel: bootFile(kernel, 'kernel'),
    ...(initrd ? { initrd: bootFile(initrd, 'initrd') } : {}),
    ...(cmdline !== undefined ? { cmdline } : {}),
  };
}
