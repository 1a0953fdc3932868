/**
 * What a host is at a moment, as a pure fold of its profile and the host-state faults applied to
 * it, in order: the profile as the host shows it now (/dev/sev, the kernel command line, the
 * default RLIMIT_MEMLOCK), the kernel's SEV state, and what libvirt's capability cache says. The
 * same faults in the same order give the same state, so `resetHandlers()` and `boundary()` restore
 * a host exactly by folding again from the profile. Here: the pristine state and the steps faults
 * build on; each fault's own step is its entry in fault-kinds.ts, the fold is fault.ts's foldState.
 */
import type { HardwareProfile } from '../profile/schema.ts';
import { deriveKernel, type KernelParamOverrides, type KernelSevState, type KvmAmdParam } from '../profile/derive.ts';
import { libvirtSevView, type LibvirtSevView } from '../views/libvirt-sev.ts';

export interface HostRuntimeState {
  /** The profile as the host shows it now; the facts no fault touches are the profile's own. */
  readonly profile: HardwareProfile;
  /** Module parameters given at load time, above the command line (FakeHost's `kernelOverrides`). */
  readonly kernelOverrides: KernelParamOverrides;
  readonly kernel: KernelSevState;
  /** libvirt's cached view of SEV (null: libvirt reports none). */
  readonly sevCache: LibvirtSevView | null;
}

/** /dev/sev's mode when it is left unopenable: libvirt's probe (CAP_DAC_OVERRIDE) opens it, QEMU cannot. */
export const DEV_SEV_UNOPENABLE_MODE = '0000';

/**
 * The kernel state. Whether the PSP is there (the kernel's hardware check) is the profile's fact:
 * a /dev/sev deleted later does not change what kvm_amd found at load.
 */
export function kernelOf(base: HardwareProfile, profile: HardwareProfile, overrides: KernelParamOverrides): KernelSevState {
  return deriveKernel({ ...profile, devSev: base.devSev }, overrides);
}

/** libvirt re-probing QEMU now: the cache matches the host (and the probe put cpu0Id in memory). */
export function probe(profile: HardwareProfile, kernel: KernelSevState): LibvirtSevView | null {
  return libvirtSevView(profile, kernel, { cacheStale: false });
}

/** libvirt's `virQEMUCapsKVMSupportsSecureGuestAMD`: the sev parameter reads on and /dev/sev exists. */
export function kvmSupportsSecureGuest(s: Pick<HostRuntimeState, 'profile' | 'kernel'>): boolean {
  return s.kernel.sevEnabled && s.profile.devSev.present;
}

/** The host as its profile (and the constructor's module parameters) make it, daemon freshly started. */
export function pristineState(base: HardwareProfile, kernelOverrides: KernelParamOverrides = {}): HostRuntimeState {
  const kernel = kernelOf(base, base, kernelOverrides);
  // A daemon starts as a real one usually does: with capabilities read from its cache file.
  const sevCache = libvirtSevView(base, kernel, { cacheStale: base.libvirt.capabilityCacheStale, warmCache: true });
  return { profile: base, kernelOverrides: { ...kernelOverrides }, kernel, sevCache };
}

/** `kvm_amd.<param>=<value>` in the command line, replacing an earlier setting of the same parameter. */
export function withCmdlineParam(cmdline: string, param: KvmAmdParam, value: string): string {
  const token = `kvm_amd.${param}=${value}`;
  const re = new RegExp(`(^|\\s)kvm_amd\\.${param}=\\S*`);
  return re.test(cmdline) ? cmdline.replace(re, `$1${token}`) : `${cmdline} ${token}`.trim();
}

/** Whether two kernel states differ in anything KVM set up at module load. */
export function kernelChanged(a: KernelSevState, b: KernelSevState): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}
