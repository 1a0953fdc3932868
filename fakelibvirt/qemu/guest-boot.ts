/**
 * What happens inside an encrypted guest once QEMU runs it. QEMU accepts these configurations, but
 * the guest cannot work: its firmware, kernel or devices cannot cope with encrypted memory. The
 * fake records each such fault on the running guest, where tests and the conformance suite see it.
 */
import { versionAtLeast } from '../profile/version.ts';
import { isTransitionalVirtio, isVirtioDevice, type DeviceDef, type DomainDef } from '../libvirt/domain-def.ts';
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
  return d.targetDev ? `${d.kind} ${d.targetDev}` : `${d.kind}${d.model ? ` (${d.model})` : ''}`;
}

/** The disk the firmware boots: the lowest boot order, else the first hard disk. */
export function bootDisk(def: DomainDef): DeviceDef | undefined {
  const disks = def.devices.filter((d) => d.kind === 'disk' && d.device === 'disk');
  const ordered = disks.filter((d) => d.bootOrder !== undefined).sort((a, b) => a.bootOrder! - b.bootOrder!);
  return ordered[0] ?? disks[0];
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
  // From QEMU 6.0 the platform IOMMU is forced on for confidential guests; before, each device needs it.
  if (!versionAtLeast(qemuVersion, 6, 0)) {
    for (const d of def.devices) {
      if (isVirtioDevice(d) && !d.iommu) {
        faults.push({ code: 'virtio-without-iommu', message: `virtio ${describe(d)} lacks iommu='on': its DMA cannot reach encrypted memory and guest I/O breaks` });
      }
    }
  }
  if (!isQ35(machine)) {
    for (const d of def.devices) {
      if (isTransitionalVirtio(d)) {
        faults.push({ code: 'transitional-virtio-on-pc', message: `transitional virtio ${describe(d)} on machine ${machine}: legacy virtio I/O does not work for an encrypted guest (use q35 or a *-non-transitional model)` });
      }
    }
  }
  const boot = bootDisk(def);
  if (boot?.bus === 'virtio' && !def.guestOs.virtioBlkBoot) {
    faults.push({ code: 'virtio-blk-boot-disk', message: `guest OS '${def.guestOs.name}' cannot boot an encrypted guest from virtio-blk disk ${boot.targetDev ?? ''}`.trimEnd() });
  }
  for (const d of def.devices) {
    if (d.kind === 'interface' && isVirtioDevice(d) && d.romEnabled) {
      faults.push({ code: 'ipxe-rom-not-sev-aware', message: `interface (${d.model}) loads the iPXE option ROM, which is not SEV-aware (add <rom enabled='no'/>)` });
    }
  }
  if (def.features.has('vmcoreinfo')) {
    faults.push({ code: 'vmcoreinfo-needs-dma', message: 'vmcoreinfo needs fw_cfg DMA, which an SEV guest cannot do: the guest kernel crashes' });
  }
  return faults;
}
