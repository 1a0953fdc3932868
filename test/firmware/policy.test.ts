import { describe, expect, it } from 'vitest';
import {
  GuestPolicy,
  KVM_SNP_POLICY_MASK_VALID,
  NAMED_SEV_POLICIES,
  NAMED_SNP_POLICIES,
  PolicyError,
  SNP_POLICY_REASONS,
  SnpGuestPolicy,
  reservedBitsMessage,
} from '../../fakelibvirt/firmware/policy.ts';

describe('GuestPolicy (SEV / SEV-ES)', () => {
  it('decodes the named policies', () => {
    const qemu = GuestPolicy.parse(NAMED_SEV_POLICIES.QEMU_DEFAULT);
    expect(qemu.flags()).toEqual(['NODBG']);
    const nova = GuestPolicy.parse(NAMED_SEV_POLICIES.NOVA);
    expect(nova.flags()).toEqual(['NODBG', 'NOKS', 'DOMAIN', 'SEV']);
    expect(nova.es).toBe(false);
    const novaEs = GuestPolicy.parse(NAMED_SEV_POLICIES.NOVA_ES);
    expect(novaEs.flags()).toEqual(['NODBG', 'NOKS', 'ES', 'DOMAIN', 'SEV']);
    expect(GuestPolicy.parse(NAMED_SEV_POLICIES.KUBEVIRT_ES).flags()).toEqual(['NODBG', 'ES']);
    expect(GuestPolicy.parse(0x08).nosend).toBe(true);
  });

  it('formats as 0x%04x', () => {
    expect(GuestPolicy.parse(0x1).toHex()).toBe('0x0001');
    expect(GuestPolicy.parse(0x33).toHex()).toBe('0x0033');
    expect(GuestPolicy.of(['NODBG', 'NOKS', 'ES', 'DOMAIN', 'SEV']).toHex()).toBe('0x0037');
  });

  it('reads the API minimum from bits 23:16 and 31:24', () => {
    const p = GuestPolicy.of(['NODBG'], 1, 52);
    expect(p.value).toBe(0x34010001);
    expect(p.apiMajor).toBe(1);
    expect(p.apiMinor).toBe(52);
    expect(p.allowsFirmware(1, 52)).toBe(true);
    expect(p.allowsFirmware(1, 51)).toBe(false);
    expect(p.allowsFirmware(2, 0)).toBe(true);
    expect(p.allowsFirmware(0, 99)).toBe(false);
  });

  it('rejects reserved bits 6-15 with a clear error', () => {
    expect(() => GuestPolicy.parse(0x40)).toThrow(PolicyError);
    expect(() => GuestPolicy.parse(0x0133)).toThrow(reservedBitsMessage(0x0133));
    expect(reservedBitsMessage(0x0133)).toBe('guest policy 0x0133 sets reserved bits 6-15 (0x100)');
  });

  it('rejects values that are not u32', () => {
    expect(() => GuestPolicy.parse(-1)).toThrow(PolicyError);
    expect(() => GuestPolicy.parse(2 ** 32)).toThrow(PolicyError);
    expect(() => GuestPolicy.parse(1.5)).toThrow(PolicyError);
  });

  it('serialises little-endian', () => {
    expect(GuestPolicy.parse(0x0037).toLE()).toEqual(Buffer.from([0x37, 0, 0, 0]));
  });
});

describe('SnpGuestPolicy', () => {
  it('decodes the QEMU default 0x30000', () => {
    const p = SnpGuestPolicy.parse(NAMED_SNP_POLICIES.QEMU_DEFAULT);
    expect(p.smt).toBe(true);
    expect(p.reservedMbo).toBe(true);
    expect(p.debug).toBe(false);
    expect(p.toHex()).toBe('0x00030000');
    expect(p.validity()).toBeNull();
    expect(p.kvmValidity()).toBeNull();
  });

  it('reads ABI major/minor and the named bits', () => {
    const p = SnpGuestPolicy.of(['SMT', 'RESERVED_MBO', 'DEBUG', 'SINGLE_SOCKET'], 1, 55);
    expect(p.value).toBe(0x1b0137n);
    expect(p.abiMajor).toBe(1);
    expect(p.abiMinor).toBe(55);
    expect(p.debug && p.singleSocket).toBe(true);
    expect(p.kvmValidity()).toBeNull();
  });

  it('bit 17 cleared is invalid for KVM and the ABI', () => {
    const p = SnpGuestPolicy.parse(0x10000n);
    expect(p.kvmValidity()).toBe(SNP_POLICY_REASONS.reservedBitClear);
    expect(p.validity()).toBe(SNP_POLICY_REASONS.reservedBitClear);
  });

  it('KVM refuses MIGRATE_MA and every other bit outside SNP_POLICY_MASK_VALID', () => {
    expect(KVM_SNP_POLICY_MASK_VALID).toBe(0x1bffffn);
    const ma = SnpGuestPolicy.of(['SMT', 'RESERVED_MBO', 'MIGRATE_MA']);
    expect(ma.migrateMa).toBe(true);
    expect(ma.validity()).toBeNull();
    expect(ma.kvmValidity()).toBe(SNP_POLICY_REASONS.kvmUnsupported(1n << 18n));
    expect(SnpGuestPolicy.of(['RESERVED_MBO', 'CIPHERTEXT_HIDING']).kvmValidity()).not.toBeNull();
  });

  it('bits 63:26 must be zero', () => {
    const p = SnpGuestPolicy.parse(0x30000n | (1n << 40n));
    expect(p.validity()).toBe(SNP_POLICY_REASONS.mbzSet(1n << 40n));
    expect(() => SnpGuestPolicy.parse(1n << 64n)).toThrow(PolicyError);
  });
});
