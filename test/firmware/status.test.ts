import { describe, expect, it } from 'vitest';
import {
  FIRMWARE_STATUSES,
  QEMU_UNKNOWN_FW_ERROR,
  SevFirmwareError,
  SevStatus,
  qemuFwErrorString,
  statusName,
} from '../../fakelibvirt/firmware/status.ts';

describe('firmware status table', () => {
  it('covers 0x00-0x27 in order, once each', () => {
    expect(FIRMWARE_STATUSES.map((s) => s.code)).toEqual(Array.from({ length: 0x28 }, (_, i) => i));
  });

  it('names agree with the SevStatus constants', () => {
    for (const [name, code] of Object.entries(SevStatus)) expect(statusName(code)).toBe(name);
  });

  it("gives QEMU's strings verbatim", () => {
    expect(qemuFwErrorString(0)).toBe('');
    expect(qemuFwErrorString(0x07)).toBe('Policy is not allowed');
    expect(qemuFwErrorString(0x0c)).toBe('ASID is already owned');
    expect(qemuFwErrorString(0x10)).toBe('Guest handle is invalid');
    expect(qemuFwErrorString(0x17)).toBe('Required firmware resource depleted');
    expect(qemuFwErrorString(0x18)).toBe('Part-specific integrity check failure');
  });

  it('prints "unknown error" past QEMU\'s table and for nonsense codes', () => {
    expect(qemuFwErrorString(0x19)).toBe(QEMU_UNKNOWN_FW_ERROR);
    expect(qemuFwErrorString(0x27)).toBe('unknown error');
    expect(qemuFwErrorString(-1)).toBe('unknown error');
    expect(qemuFwErrorString(0x8004)).toBe('unknown error');
  });

  it('SevFirmwareError carries status, name and command', () => {
    const e = new SevFirmwareError('LAUNCH_START', 0x17);
    expect(e).toBeInstanceOf(Error);
    expect(e.status).toBe(0x17);
    expect(e.statusName).toBe('RESOURCE_LIMIT');
    expect(e.command).toBe('LAUNCH_START');
    expect(e.message).toBe('LAUNCH_START failed with firmware status 0x17 (RESOURCE_LIMIT)');
    expect(new SevFirmwareError('INIT', 0x8004).statusName).toBe('UNKNOWN_0x8004');
  });
});
