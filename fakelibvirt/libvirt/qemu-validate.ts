/**
 * The QEMU driver's define-time validation (qemu_validate.c) for what the SEV stack touches:
 * machine types, launchSecurity against the domain capabilities, and IDE on q35. The same checks
 * run again at start, against the capabilities of that moment.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { versionAtLeast } from '../profile/version.ts';
import { defaultMachine, resolveMachine as findMachine } from '../views/machines.ts';
import type { DomainDef } from './domain-def.ts';

const qemuError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.QEMU, detail);

/** The canonical machine type a definition runs with (alias resolved, default applied). */
export function resolveMachine(profile: HardwareProfile, machine: string | undefined): string {
  if (machine === undefined) return defaultMachine(profile).name;
  const hit = findMachine(profile, machine);
  if (!hit) {
    throw qemuError(
      VirErrorNumber.CONFIG_UNSUPPORTED,
      `Emulator '${profile.qemu.emulator}' does not support machine type '${machine}'`,
    );
  }
  return hit.name;
}

export const isQ35 = (canonical: string) => canonical.includes('q35');

/** libvirt's text for a launch security type the host's QEMU cannot run. */
export function launchSecurityUnsupportedText(profile: HardwareProfile, type: 'sev' | 'sev-snp'): string {
  if (versionAtLeast(profile.libvirt.version, 10, 5)) return `'${type}' launch security is not supported with this QEMU binary`;
  return `${type === 'sev' ? 'SEV' : 'SEV-SNP'} launch security is not supported with this QEMU binary`;
}

export interface ValidationContext {
  readonly profile: HardwareProfile;
  /** Launch-security types the domain capabilities currently offer. */
  readonly sectypes: readonly string[];
}

export function validateForQemu(def: DomainDef, ctx: ValidationContext): string {
  const machine = resolveMachine(ctx.profile, def.os.machine);
  if (def.os.arch !== 'x86_64' && def.os.arch !== 'i686') {
    throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, `No emulator found for arch '${def.os.arch}'`);
  }
  if (isQ35(machine)) {
    const ide = def.devices.some(
      (d) => (d.kind === 'disk' && d.bus === 'ide') || (d.kind === 'controller' && d.controllerType === 'ide'),
    );
    if (ide) throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, 'IDE controllers are unsupported for this QEMU binary or machine type');
  }
  const ls = def.launchSecurity;
  if (ls) {
    if (!ctx.sectypes.includes(ls.type)) {
      throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, launchSecurityUnsupportedText(ctx.profile, ls.type));
    }
    if (ls.type === 'sev' && ls.kernelHashes !== undefined && !versionAtLeast(ctx.profile.qemu.version, 6, 2)) {
      throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, 'SEV measured direct kernel boot is not supported with this QEMU binary');
    }
    // Before 6.9 libvirt required both values in the XML; later versions fill them in at start.
    if (!versionAtLeast(ctx.profile.libvirt.version, 6, 9) && (ls.cbitpos === undefined || ls.reducedPhysBits === undefined)) {
      const what = ls.cbitpos === undefined ? 'cbitpos' : 'reduced-phys-bits';
      throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, `failed to get launch security ${what}`);
    }
  }
  return machine;
}
