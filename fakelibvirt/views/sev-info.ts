/** virNodeGetSEVInfo (`virsh nodesevinfo`): typed parameters in libvirt's order. */
import type { HardwareProfile } from '../profile/schema.ts';
import { versionAtLeast } from '../profile/version.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { param, type TypedParam } from '../../src/libvirt/typed-params.ts';
import { LIBVIRT_SEV_SINCE, type LibvirtSevView } from './libvirt-sev.ts';

/** The qemu driver's error when QEMU's capabilities have no SEV (measured on libvirt 9.0). */
export const NO_SEV_DETAIL = 'QEMU does not support SEV guest';

export function noSevError(): LibvirtError {
  return LibvirtError.of(VirErrorNumber.OPERATION_UNSUPPORTED, VirErrorDomain.QEMU, NO_SEV_DETAIL);
}

/** The VIR_NODE_SEV_* parameters; throws the qemu driver's error when libvirt sees no SEV. */
export function nodeSevInfo(profile: HardwareProfile, sev: LibvirtSevView | null): TypedParam[] {
  if (!sev) throw noSevError();
  const limits = versionAtLeast(profile.libvirt.version, ...LIBVIRT_SEV_SINCE.maxGuests);
  return [
    param.string('pdh', sev.pdh),
    param.string('cert-chain', sev.certChain),
    ...(sev.cpu0Id !== undefined ? [param.string('cpu0-id', sev.cpu0Id)] : []),
    param.uint('cbitpos', sev.cbitpos),
    param.uint('reduced-phys-bits', sev.reducedPhysBits),
    ...(limits ? [param.uint('max-guests', sev.maxGuests), param.uint('max-es-guests', sev.maxESGuests)] : []),
  ];
}

/** virsh's rendering: one `%-18s: %s` line per parameter. */
export function formatNodeSevInfo(params: readonly TypedParam[]): string {
  return params.map((p) => `${p.field.padEnd(18, ' ')}: ${String(p.value)}\n`).join('');
}
