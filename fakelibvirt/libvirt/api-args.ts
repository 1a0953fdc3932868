/**
 * The argument checks of libvirt's public API entry points (libvirt-domain.c), made before the
 * driver sees the call: virCheckNonZeroArg, VIR_REQUIRE_FLAG, VIR_EXCLUSIVE_FLAGS and the memory
 * size ceiling. They carry VIR_FROM_DOMAIN and no "invalid argument:" prefix (measured on 9.0).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';

const invalidArg = (message: string) => new LibvirtError({ code: VirErrorNumber.INVALID_ARG, domain: VirErrorDomain.DOMAIN, message });

/** VIR_ERR_OVERFLOW (virerror.h); the shared table does not carry it. */
const VIR_ERR_OVERFLOW = 70;

export function nonZeroArg(value: number | bigint, name: string, api: string): void {
  if (value === 0 || value === 0n) throw invalidArg(`${name} in ${api} must not be zero`);
}

export function requireFlag(flags: number, flag: number, flagName: string, required: number, requiredName: string): void {
  if (flags & flag && !(flags & required)) throw invalidArg(`Flag '${requiredName}' is required by flag '${flagName}'`);
}

export function exclusiveFlags(flags: number, a: number, aName: string, b: number, bName: string): void {
  if (flags & a && flags & b) throw invalidArg(`Flags '${aName}' and '${bName}' are mutually exclusive`);
}

/** virMemoryMaxValue(true) / 1024: LLONG_MAX bytes in KiB on a 64-bit host. */
const MEMORY_MAX_KIB = 9223372036854775807n / 1024n;

/** The KiB argument of virDomainSetMemory / SetMaxMemory / SetMemoryFlags, checked and as a number. */
export function memoryArg(kib: number | bigint, api: string): number {
  nonZeroArg(kib, 'memory', api);
  const big = BigInt(kib);
  if (big >= MEMORY_MAX_KIB) {
    throw new LibvirtError({ code: VIR_ERR_OVERFLOW as VirErrorNumber, domain: VirErrorDomain.DOMAIN, message: `numerical overflow: input too large: ${big}` });
  }
  return Number(big);
}
