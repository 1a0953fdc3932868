/** QEMU machine types as libvirt resolves them: aliases map to canonical versioned names. */
import type { HardwareProfile } from '../profile/schema.ts';

export type MachineType = HardwareProfile['qemu']['machineTypes'][number];

/** The machine QEMU starts without `-machine` (the `default` flag, else the first listed). */
export function defaultMachine(profile: HardwareProfile): MachineType {
  const list = profile.qemu.machineTypes;
  return list.find((m) => m.default) ?? (list[0] as MachineType);
}

/** A machine by canonical name or alias; undefined when QEMU has no such machine. */
export function resolveMachine(profile: HardwareProfile, name: string): MachineType | undefined {
  return profile.qemu.machineTypes.find((m) => m.name === name) ?? profile.qemu.machineTypes.find((m) => m.alias === name);
}

export function isQ35(m: MachineType): boolean {
  return m.name.includes('q35') || m.alias === 'q35';
}

/** The i686 guest's emulator: qemu-system-i386 beside qemu-system-x86_64; RHEL's qemu-kvm serves both. */
export function i686Emulator(profile: HardwareProfile): string {
  const e = profile.qemu.emulator;
  return e.endsWith('qemu-system-x86_64') ? e.replace(/qemu-system-x86_64$/, 'qemu-system-i386') : e;
}

/** The CPU can run KVM guests (svm or vmx in /proc/cpuinfo). */
export function hasHardwareVirt(profile: HardwareProfile): boolean {
  return profile.cpu.flags.includes('svm') || profile.cpu.flags.includes('vmx');
}
