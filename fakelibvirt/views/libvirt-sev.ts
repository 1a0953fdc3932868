/**
 * What libvirt knows about SEV on this host: the `<sev>` domain capability and virNodeGetSEVInfo
 * both read this one record. It exists only when libvirt's probe of QEMU (query-sev-capabilities)
 * succeeded and the capability cache reflects it.
 */
import type { HardwareProfile } from '../profile/schema.ts';
import {
  GUEST_REDUCED_PHYS_BITS,
  decodeCpuid,
  libvirtGuestLimits,
  qemuSevProbeFailure,
  type KernelSevState,
} from '../profile/derive.ts';
import { versionAtLeast } from '../profile/version.ts';
import { platformIdentity } from './platform-identity.ts';

export type LaunchSecurityType = 'sev' | 'sev-snp';

export interface LibvirtSevView {
  readonly cbitpos: number;
  readonly reducedPhysBits: number;
  readonly maxGuests: number;
  readonly maxESGuests: number;
  /** Present when QEMU reports cpu0-id (7.1+) and libvirt stores it (8.4.0+). */
  readonly cpu0Id?: string;
  readonly pdh: string;
  readonly certChain: string;
  /** The launchSecurity sectype values this host supports. */
  readonly sectypes: readonly LaunchSecurityType[];
}

export interface LibvirtSevOptions {
  /** libvirt's QEMU capabilities cache predates SEV being enabled (libvirt < 6.5 only). */
  readonly cacheStale: boolean;
  /**
   * The daemon read its capabilities from the cache file instead of probing QEMU since it started
   * (the usual state). libvirt 8.4–9.0 write cpu0Id to that file but never read it back, so a warm
   * cache reports no cpu0Id in domcapabilities or nodesevinfo: measured on 9.0 (the oracle's
   * patched cache holds cpu0Id; its domcapabilities omit it), and read in 9.0's
   * virQEMUCapsParseSEVInfo; later releases unmeasured, so they keep it.
   */
  readonly warmCache?: boolean;
}

/** The libvirt releases whose cache parser drops cpu0Id (8.4 added it; 9.0 measured). */
const CPU0ID_NOT_CACHED_BEFORE = [9, 1, 0] as const;

/** Version gates of the SEV facts libvirt reports (libvirt-protocol.md §12). */
export const LIBVIRT_SEV_SINCE = {
  maxGuests: [8, 0, 0],
  cpu0Id: [8, 4, 0],
  snp: [10, 5, 0],
  launchSecurityCaps: [10, 5, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

export const QEMU_SEV_SINCE = {
  cpu0Id: [7, 1, 0],
  snp: [9, 1, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

export function libvirtSevView(
  profile: HardwareProfile,
  kernel: KernelSevState,
  { cacheStale, warmCache = false }: LibvirtSevOptions,
): LibvirtSevView | null {
  if (cacheStale || qemuSevProbeFailure(profile, kernel) !== null) return null;
  const cpuid = decodeCpuid(profile);
  if (!cpuid) return null;
  const lv = profile.libvirt.version;
  const qv = profile.qemu.version;
  const id = platformIdentity(profile);
  const snp = kernel.snpEnabled && versionAtLeast(qv, ...QEMU_SEV_SINCE.snp) && versionAtLeast(lv, ...LIBVIRT_SEV_SINCE.snp);
  const lostInCache = warmCache && !versionAtLeast(lv, ...CPU0ID_NOT_CACHED_BEFORE);
  const withCpu0Id = versionAtLeast(lv, ...LIBVIRT_SEV_SINCE.cpu0Id) && versionAtLeast(qv, ...QEMU_SEV_SINCE.cpu0Id) && !lostInCache;
  return {
    cbitpos: cpuid.cbitpos,
    reducedPhysBits: GUEST_REDUCED_PHYS_BITS,
    ...libvirtGuestLimits(cpuid),
    ...(withCpu0Id ? { cpu0Id: id.cpu0Id } : {}),
    // Read through: the certificates are built on first use (the chain needs the fake ASK's RSA key).
    get pdh() {
      return id.pdh;
    },
    get certChain() {
      return id.certChain;
    },
    sectypes: snp ? ['sev', 'sev-snp'] : ['sev'],
  };
}

/** The view with the cache state the profile describes (what a freshly started fake shows). */
export function profileSevView(profile: HardwareProfile, kernel: KernelSevState): LibvirtSevView | null {
  return libvirtSevView(profile, kernel, { cacheStale: profile.libvirt.capabilityCacheStale });
}
