/**
 * A profile's truth: what the hardware, kernel and libvirt of a hardware profile really offer,
 * derived with the fake host's own formulas. Cases derive expectations from this, never from the
 * driver under test.
 */
import { decodeCpuid, deriveKernel, type KernelParamOverrides, type KernelSevState } from '../fakelibvirt/profile/derive.ts';
import type { HardwareProfile } from '../fakelibvirt/profile/schema.ts';
import { versionAtLeast } from '../fakelibvirt/profile/version.ts';
import { libvirtSevView, type LibvirtSevView } from '../fakelibvirt/views/libvirt-sev.ts';

/**
 * QEMU from which the platform IOMMU is forced on for confidential guests, so virtio devices no
 * longer need iommu='on' each (fakelibvirt/qemu/guest-boot.ts).
 */
export const QEMU_AUTO_IOMMU: readonly [number, number, number] = [6, 0, 0];

export interface ProfileTruth {
  readonly name: string;
  readonly profile: HardwareProfile;
  readonly kernel: KernelSevState;
  /** What libvirt shows once its capability cache is fresh; null when libvirt sees no SEV. */
  readonly sev: LibvirtSevView | null;
  /** What a freshly started host shows (the profile may describe a stale cache). */
  readonly sevAtStart: LibvirtSevView | null;
  readonly amd: boolean;
  /** libvirt can launch SEV guests (after a cache refresh if needed). */
  readonly sevUsable: boolean;
  readonly sevUsableAtStart: boolean;
  readonly sevEsUsable: boolean;
  readonly snpUsable: boolean;
  /** QEMU turns the platform IOMMU on by itself for SEV guests (6.0+). */
  readonly qemuAutoIommu: boolean;
  /** libvirt's maxGuests / maxESGuests formulas (0 when the host has no SEV). */
  readonly maxGuests: number;
  readonly maxESGuests: number;
  readonly cbitpos: number | null;
  readonly reducedPhysBits: number | null;
  /** libvirt reports maxGuests in domcaps (8.0.0+), so drivers can detect it. */
  readonly domcapsHasMaxGuests: boolean;
  readonly q35Machines: readonly string[];
  readonly hostRamKiB: number;
  /** Memory guests may pin: total minus the host's reservation. */
  readonly pinnableKiB: number;
  readonly staleCache: boolean;
  /**
   * libvirt offers SEV and the kernel has it on, but the BIOS gave every ASID to SEV-ES (no plain-SEV
   * ASIDs), and nothing a driver can read says so: libvirt < 8.0 reports no maxGuests and kernels
   * < 5.13 have no misc cgroup (only dmesg tells). A driver cannot be faulted for offering SEV there.
   */
  readonly sevEmptyUnseen: boolean;
}

/** The truth of a profile, optionally after kernel parameters were changed at runtime. */
export function profileTruth(profile: HardwareProfile, overrides: KernelParamOverrides = {}): ProfileTruth {
  const kernel = deriveKernel(profile, overrides);
  const sev = libvirtSevView(profile, kernel, { cacheStale: false });
  const sevAtStart = libvirtSevView(profile, kernel, { cacheStale: profile.libvirt.capabilityCacheStale });
  const cpuid = decodeCpuid(profile);
  const sevUsable = sev !== null && kernel.sevEnabled && sev.maxGuests > 0;
  const q35 = profile.qemu.machineTypes.filter((m) => m.name.includes('q35') || m.alias === 'q35');
  return {
    name: profile.name,
    profile,
    kernel,
    sev,
    sevAtStart,
    amd: profile.cpu.vendor === 'AuthenticAMD',
    sevUsable,
    sevUsableAtStart: sevUsable && sevAtStart !== null,
    // The host can run SEV-ES guests; nova 32.0.0 additionally insists on QEMU ≥ 8.0, a policy
    // choice, not a hardware limit, so a driver refusing ES on older QEMU fails the ES cases.
    sevEsUsable: sev !== null && kernel.sevEsEnabled && !kernel.snpEnabled && sev.maxESGuests > 0,
    qemuAutoIommu: versionAtLeast(profile.qemu.version, ...QEMU_AUTO_IOMMU),
    snpUsable: sev !== null && sev.sectypes.includes('sev-snp'),
    maxGuests: sev?.maxGuests ?? 0,
    maxESGuests: sev?.maxESGuests ?? 0,
    cbitpos: sev?.cbitpos ?? cpuid?.cbitpos ?? null,
    reducedPhysBits: sev?.reducedPhysBits ?? null,
    domcapsHasMaxGuests: versionAtLeast(profile.libvirt.version, 8, 0, 0),
    q35Machines: q35.flatMap((m) => (m.alias ? [m.name, m.alias] : [m.name])),
    hostRamKiB: profile.memory.totalKiB,
    pinnableKiB: Math.max(0, profile.memory.totalKiB - profile.memory.reservedKiB),
    staleCache: profile.libvirt.capabilityCacheStale,
    sevEmptyUnseen: sev !== null && kernel.sevEnabled && sev.maxGuests === 0 && !versionAtLeast(profile.libvirt.version, 8, 0, 0) && kernel.miscCapacity === null,
  };
}

/** Why SEV is absent on this host, in one phrase; null when SEV is usable. */
export function noSevReason(t: ProfileTruth): string | null {
  if (t.sevUsable) return null;
  // nova's first check: SEV is an x86_64 feature, whatever else the host shows.
  if (t.profile.arch !== 'x86_64') return `host has no SEV (${t.profile.arch} host, not x86_64)`;
  if (!t.amd) return 'host has no SEV (not an AMD CPU)';
  if (!t.kernel.kvmAmdLoaded) return 'host has no SEV (kvm_amd not loaded)';
  if (!t.kernel.sevEnabled) return 'host has no SEV (kernel sev parameter off or no SEV hardware)';
  if (t.sev === null) return 'host has no SEV (libvirt cannot probe SEV)';
  return 'host has no SEV (no SEV ASIDs)';
}

/**
 * Whether a driver can learn the exact SEV slot count on this host: libvirt ≥ 8.0 reports
 * maxGuests in domcaps, and kernels ≥ 5.13 print it as the misc cgroup's `sev` capacity.
 */
export function slotsKnowable(t: ProfileTruth): boolean {
  return t.domcapsHasMaxGuests || t.kernel.miscCapacity !== null;
}
