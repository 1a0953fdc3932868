/**
 * What the running host asks of the QEMU driver's validation outside define: the canonical machine
 * a definition runs with, and start's second validation. libvirt validates a definition again when
 * it starts it, against the capabilities of that moment — SEV can have gone since define (a reloaded
 * kvm_amd) — so the launch-security rule runs again; the others cannot change with the host's state.
 * The rules themselves live once, in the define pipeline (domain/qemu-validate.ts and
 * domain/launch-security.ts).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { defaultMachine, resolveMachine as findMachine } from '../views/machines.ts';
import type { DomainContext } from './domain/context.ts';
import { validateLaunchSecurity } from './domain/launch-security.ts';
import type { DomainDef } from './domain-def.ts';
import { child } from './xml-tree.ts';

/** The canonical machine type a definition runs with (alias resolved, default applied). */
export function resolveMachine(profile: HardwareProfile, machine: string | undefined): string {
  if (machine === undefined) return defaultMachine(profile).name;
  const hit = findMachine(profile, machine);
  if (!hit) {
    throw LibvirtError.of(
      VirErrorNumber.CONFIG_UNSUPPORTED,
      VirErrorDomain.QEMU,
      `Emulator '${profile.qemu.emulator}' does not support machine type '${machine}'`,
    );
  }
  return hit.name;
}

export const isQ35 = (canonical: string) => canonical.includes('q35');

/** Start's revalidation of a defined domain against the host as it is now. */
export function validateAtStart(def: DomainDef, ctx: DomainContext): void {
  validateLaunchSecurity(child(def.tree, 'launchSecurity'), ctx);
}
