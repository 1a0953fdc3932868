/**
 * What an SEV guest's QEMU pins beyond guest RAM: the extra memory regions nova measured by
 * instrumenting QEMU (nova Stein/Train SEV spec, sev-hardware.md §5.3). QEMU registers every RAM
 * block with KVM_MEMORY_ENCRYPT_REG_REGION and KVM pins all of it, so these count as pinned too.
 */

export type GuestFirmware = 'uefi' | 'bios';

export interface ExtraRegion {
  readonly name: string;
  readonly sizeKiB: number;
  /** Which guest firmware creates the region. */
  readonly firmware: readonly GuestFirmware[];
}

export const EXTRA_QEMU_REGIONS: readonly ExtraRegion[] = [
  { name: 'UEFI ROM', sizeKiB: 4096, firmware: ['uefi'] },
  { name: 'UEFI var store (pflash)', sizeKiB: 4096, firmware: ['uefi'] },
  { name: 'pc.rom', sizeKiB: 128, firmware: ['uefi', 'bios'] },
  { name: 'isa-bios', sizeKiB: 128, firmware: ['uefi', 'bios'] },
  { name: 'ACPI tables', sizeKiB: 2384, firmware: ['uefi', 'bios'] },
];

/** The measured total for a UEFI guest: 10832 KiB. */
export const EXTRA_REGIONS_UEFI_KIB = EXTRA_QEMU_REGIONS.reduce((sum, r) => sum + r.sizeKiB, 0);
/** nova's recommended padding on top of the measured regions. */
export const EXTRA_REGIONS_PADDING_KIB = 256;
/** nova rounds regions + padding up to this for its host reservation. */
export const NOVA_RESERVATION_ROUNDING_KIB = 16 * 1024;
/** libvirt's kbase and KubeVirt: 256 MiB over guest RAM "should suffice" for the hard limit. */
export const LIBVIRT_SEV_OVERHEAD_KIB = 256 * 1024;

export function extraRegionsKiB(firmware: GuestFirmware): number {
  return EXTRA_QEMU_REGIONS.filter((r) => r.firmware.includes(firmware)).reduce((sum, r) => sum + r.sizeKiB, 0);
}

export interface PinnedInput {
  readonly guestRamKiB: number;
  /** Video RAM QEMU allocates for the display device (e.g. qxl ram + vram + vgamem). */
  readonly videoRamKiB: number;
  readonly firmware: GuestFirmware;
}

/**
 * Bytes an SEV or SEV-ES guest pins: guest RAM, video RAM and the extra regions. The padding is a
 * reservation margin, not memory QEMU allocates, so it is not included. For SeaBIOS guests only
 * the regions the table attributes to both firmwares count; the BIOS image itself is not in the
 * facts [inference].
 */
export function pinnedBytesFor(input: PinnedInput): number {
  return (input.guestRamKiB + input.videoRamKiB + extraRegionsKiB(input.firmware)) * 1024;
}

/** nova's per-host reservation for one guest's extra regions: regions + padding, rounded up to 16 MiB. */
export function novaReservationKiB(firmware: GuestFirmware = 'uefi'): number {
  const raw = extraRegionsKiB(firmware) + EXTRA_REGIONS_PADDING_KIB;
  return Math.ceil(raw / NOVA_RESERVATION_ROUNDING_KIB) * NOVA_RESERVATION_ROUNDING_KIB;
}
