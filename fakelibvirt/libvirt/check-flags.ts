/**
 * libvirt's virCheckFlags: an API call with flags outside what the driver function knows is refused
 * before anything happens. Measured on libvirt 9.0 (QEMU and test drivers): VIR_ERR_INVALID_ARG with
 * the bare text, no "invalid argument:" prefix, naming the driver function.
 */
import { LibvirtError, VirErrorNumber, type VirErrorDomain } from '../../src/libvirt/errors.ts';

export function checkFlags(flags: number, known: number, fn: string, domain: VirErrorDomain): void {
  const extra = flags & ~known;
  if (extra !== 0) {
    throw new LibvirtError({ code: VirErrorNumber.INVALID_ARG, domain, message: `unsupported flags (0x${extra.toString(16)}) in function ${fn}` });
  }
}
