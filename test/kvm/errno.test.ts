import { describe, expect, it } from 'vitest';
import { ERRNOS, KvmError, errnoCode, strerror } from '../../fakelibvirt/kvm/errno.ts';

describe('errno table', () => {
  it('has the Linux numbers and glibc texts', () => {
    expect(ERRNOS.ENOTTY).toEqual({ errno: 25, text: 'Inappropriate ioctl for device' });
    expect(ERRNOS.EBUSY).toEqual({ errno: 16, text: 'Device or resource busy' });
    expect(ERRNOS.EINVAL).toEqual({ errno: 22, text: 'Invalid argument' });
    expect(ERRNOS.ENOMEM).toEqual({ errno: 12, text: 'Cannot allocate memory' });
    expect(ERRNOS.EPERM).toEqual({ errno: 1, text: 'Operation not permitted' });
    expect(ERRNOS.EOPNOTSUPP.errno).toBe(95);
  });

  it('strerror accepts either sign and falls back like glibc', () => {
    expect(strerror(16)).toBe('Device or resource busy');
    expect(strerror(-25)).toBe('Inappropriate ioctl for device');
    expect(strerror(4242)).toBe('Unknown error 4242');
    expect(errnoCode(-22)).toBe('EINVAL');
  });

  it('numbers are unique', () => {
    const nums = Object.values(ERRNOS).map((e) => e.errno);
    expect(new Set(nums).size).toBe(nums.length);
  });

  it('KvmError carries errno, code, ret and the kernel log', () => {
    const e = new KvmError('EBUSY', 'KVM_SEV_INIT', ['line']);
    expect(e).toBeInstanceOf(Error);
    expect(e.errno).toBe(16);
    expect(e.ret).toBe(-16);
    expect(e.code).toBe('EBUSY');
    expect(e.message).toBe('KVM_SEV_INIT: Device or resource busy');
    expect(e.kernelLog).toEqual(['line']);
    expect(new KvmError('ENOTTY').message).toBe('Inappropriate ioctl for device');
  });
});
