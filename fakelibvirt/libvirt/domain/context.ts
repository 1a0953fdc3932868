/**
 * What libvirt's QEMU driver knows about the host while it parses a domain: the emulator and its
 * machine types per guest architecture, the virtualisation types it can run, the launch-security
 * types QEMU reports, and the versions that gate behaviour. Built from a profile (and the host's
 * current SEV state), never from the document.
 */
import type { HardwareProfile } from '../../profile/schema.ts';
import { parseVersion, versionAtLeast } from '../../profile/version.ts';
import { guestArches, type GuestArchName, type MachineType } from '../../views/machines.ts';

export interface DomainContext {
  readonly profile: HardwareProfile;
  /** Guest architectures with their emulator and whether a kvm domain is offered. */
  readonly arches: readonly { readonly arch: GuestArchName; readonly emulator: string; readonly kvm: boolean }[];
  /** The x86_64/aarch64 QEMU's machine types (canonical names, aliases, limits). */
  readonly machines: readonly MachineType[];
  /** Launch-security types QEMU offers right now (`sev`, `sev-snp`), empty without SEV. */
  readonly sectypes: readonly string[];
  /** libvirt knows `<launchSecurity type='sev-snp'>` (10.5.0+). */
  readonly snpKnown: boolean;
  readonly libvirtAtLeast: (major: number, minor: number, micro?: number) => boolean;
  readonly qemuAtLeast: (major: number, minor: number, micro?: number) => boolean;
}

/**
 * One context per profile and launch-security offer, shared by every define and start on every
 * host of that profile: it is immutable, and building it (the guest arches) costs as much as a
 * small parse step.
 */
const shared = new WeakMap<HardwareProfile, Map<string, DomainContext>>();

export function domainContext(profile: HardwareProfile, sectypes: readonly string[]): DomainContext {
  let byOffer = shared.get(profile);
  if (!byOffer) shared.set(profile, (byOffer = new Map()));
  const key = sectypes.join(',');
  let ctx = byOffer.get(key);
  if (!ctx) byOffer.set(key, (ctx = buildContext(profile, [...sectypes])));
  return ctx;
}

function buildContext(profile: HardwareProfile, sectypes: readonly string[]): DomainContext {
  return {
    profile,
    arches: guestArches(profile),
    machines: profile.qemu.machineTypes,
    sectypes,
    snpKnown: versionAtLeast(profile.libvirt.version, 10, 5),
    libvirtAtLeast: atLeast(profile.libvirt.version),
    qemuAtLeast: atLeast(profile.qemu.version),
  };
}

/** versionAtLeast against one version, parsed once: version gates are asked per value of a table, per define. */
function atLeast(version: string): (major: number, minor: number, micro?: number) => boolean {
  const [x, y, z] = parseVersion(version);
  return (major, minor, micro = 0) => (x !== major ? x > major : y !== minor ? y > minor : z >= micro);
}
