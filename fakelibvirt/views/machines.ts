/**
 * QEMU machine types as libvirt resolves them (aliases map to canonical versioned names), and the
 * guest architectures the host's QEMU binaries serve.
 */
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
function i686Emulator(profile: HardwareProfile): string {
  const e = profile.qemu.emulator;
  return e.endsWith('qemu-system-x86_64') ? e.replace(/qemu-system-x86_64$/, 'qemu-system-i386') : e;
}

/** The 32-bit ARM guest's emulator: Debian's qemu-system-arm package ships qemu-system-arm beside qemu-system-aarch64. */
function armv7lEmulator(profile: HardwareProfile): string {
  return profile.qemu.emulator.replace(/qemu-system-aarch64$/, 'qemu-system-arm');
}

/** The CPU can run KVM guests: svm or vmx on x86; every arm64 server kernel boots at EL2 with KVM. */
function hasHardwareVirt(profile: HardwareProfile): boolean {
  if (profile.arch === 'aarch64') return true;
  return profile.cpu.flags.includes('svm') || profile.cpu.flags.includes('vmx');
}

export type GuestArchName = 'i686' | 'x86_64' | 'armv7l' | 'aarch64';

export interface GuestArch {
  readonly arch: GuestArchName;
  readonly wordsize: 32 | 64;
  readonly emulator: string;
  /** libvirt offers a kvm domain for it. */
  readonly kvm: boolean;
}

/**
 * The `<guest>` architectures of `<capabilities>`, in libvirt's order (virArch enum: armv7l before
 * aarch64, i686 before x86_64). Each host has its native 64-bit arch and the 32-bit one its QEMU
 * package also installs. KVM runs 32-bit x86 guests, but Neoverse-class ARM cores have no AArch32
 * at EL1, so armv7l guests are emulated only.
 */
export function guestArches(profile: HardwareProfile): readonly GuestArch[] {
  const kvm = hasHardwareVirt(profile);
  if (profile.arch === 'aarch64') {
    return [
      { arch: 'armv7l', wordsize: 32, emulator: armv7lEmulator(profile), kvm: false },
      { arch: 'aarch64', wordsize: 64, emulator: profile.qemu.emulator, kvm },
    ];
  }
  return [
    { arch: 'i686', wordsize: 32, emulator: i686Emulator(profile), kvm },
    { arch: 'x86_64', wordsize: 64, emulator: profile.qemu.emulator, kvm },
  ];
}

/** The host's other guest architecture (i686 on x86_64, armv7l on aarch64). */
export function foreignGuestArch(profile: HardwareProfile): GuestArch {
  return guestArches(profile).find((g) => g.arch !== profile.arch) as GuestArch;
}
