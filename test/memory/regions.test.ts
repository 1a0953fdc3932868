import { describe, expect, it } from 'vitest';
import {
  EXTRA_QEMU_REGIONS,
  EXTRA_REGIONS_PADDING_KIB,
  EXTRA_REGIONS_UEFI_KIB,
  extraRegionsKiB,
  novaReservationKiB,
  pinnedBytesFor,
} from '../../src/sev/qemu-regions.ts';

describe('extra QEMU memory regions', () => {
  it('match the nova spec table: 10832 KiB plus 256 KiB padding', () => {
    expect(Object.fromEntries(EXTRA_QEMU_REGIONS.map((r) => [r.name, r.sizeKiB]))).toEqual({
      'UEFI ROM': 4096,
      'UEFI var store (pflash)': 4096,
      'pc.rom': 128,
      'isa-bios': 128,
      'ACPI tables': 2384,
    });
    expect(EXTRA_REGIONS_UEFI_KIB).toBe(10832);
    expect(EXTRA_REGIONS_PADDING_KIB).toBe(256);
    expect(extraRegionsKiB('bios')).toBe(2640);
  });

  it('nova rounds regions + padding up to 16 MiB', () => {
    expect(novaReservationKiB()).toBe(16384);
  });

  it('an SEV guest pins RAM, video RAM and the regions', () => {
    // 4 GiB guest with qxl (ram 65536 + vram 65536 + vgamem 16384 KiB).
    expect(pinnedBytesFor({ guestRamKiB: 4194304, videoRamKiB: 147456, firmware: 'uefi' })).toBe((4194304 + 147456 + 10832) * 1024);
    expect(pinnedBytesFor({ guestRamKiB: 1048576, videoRamKiB: 0, firmware: 'bios' })).toBe((1048576 + 2640) * 1024);
  });
});
