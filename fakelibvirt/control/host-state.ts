/**
 * What a host is at a moment, as a pure fold of its profile and the host-state faults applied to
 * it, in order: the profile as the host shows it now (/dev/sev, the kernel command line, the
 * default RLIMIT_MEMLOCK), the kernel's SEV state, and what libvirt's capability cache says. The
 * same faults in the same order give the same state, so `resetHandlers()` and `boundary()` restore
 * a host exactly by folding again from the profile.
 */
import type { HardwareProfile } from '../profile/schema.ts';
import { deriveKernel, libvirtReprobesOnSevChange, type KernelParamOverrides, type KernelSevState, type KvmAmdParam } from '../profile/derive.ts';
import { libvirtSevView, type LibvirtSevView } from '../views/libvirt-sev.ts';
import type { StateFault } from './fault.ts';

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
function kernelOf(base: HardwareProfile, profile: HardwareProfile, overrides: KernelParamOverrides): KernelSevState {
  return deriveKernel({ ...profile, devSev: base.devSev }, overrides);
}

/** libvirt re-probing QEMU now: the cache matches the host (and the probe put cpu0Id in memory). */
function probe(profile: HardwareProfile, kernel: KernelSevState): LibvirtSevView | null {
  return libvirtSevView(profile, kernel, { cacheStale: false });
}

/** libvirt's `virQEMUCapsKVMSupportsSecureGuestAMD`: the sev parameter reads on and /dev/sev exists. */
function kvmSupportsSecureGuest(s: Pick<HostRuntimeState, 'profile' | 'kernel'>): boolean {
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

/** One state fault applied to a state. */
export function applyStateFault(base: HardwareProfile, s: HostRuntimeState, f: StateFault): HostRuntimeState {
  const reprobes = libvirtReprobesOnSevChange(base);
  switch (f.kind) {
    case 'kernelParam': {
      // Loading the module with the parameter: the command line's setting wins over earlier ones.
      const { [f.param]: _dropped, ...kernelOverrides } = s.kernelOverrides;
      const profile = { ...s.profile, kernel: { ...s.profile.kernel, cmdline: withCmdlineParam(s.profile.kernel.cmdline, f.param, f.value) } };
      const kernel = kernelOf(base, profile, kernelOverrides);
      // libvirt ≥ 6.5 notices the reload and re-probes QEMU; older libvirt keeps its cache.
      return { profile, kernelOverrides, kernel, sevCache: reprobes ? probe(profile, kernel) : s.sevCache };
    }
    case 'devSev': {
      const devSev = f.state === 'missing' ? { ...s.profile.devSev, present: false } : { ...s.profile.devSev, present: true, mode: DEV_SEV_UNOPENABLE_MODE };
      const next = { ...s, profile: { ...s.profile, devSev } };
      // libvirt checks /dev/sev's existence on every capability lookup (≥ 6.5); its mode it never looks at.
      const noticed = reprobes && kvmSupportsSecureGuest(s) !== kvmSupportsSecureGuest(next);
      return noticed ? { ...next, sevCache: probe(next.profile, next.kernel) } : next;
    }
    case 'memlock':
      return { ...s, profile: { ...s.profile, memory: { ...s.profile.memory, defaultMemlockKiB: f.limitKiB } } };
    case 'cacheStale':
      return { ...s, sevCache: null };
    case 'cacheRefresh':
      return { ...s, sevCache: probe(s.profile, s.kernel) };
  }
}

/** The fold: the pristine host, then each fault in the order it was applied. */
export function foldState(base: HardwareProfile, kernelOverrides: KernelParamOverrides, faults: readonly StateFault[]): HostRuntimeState {
  return faults.reduce((s, f) => applyStateFault(base, s, f), pristineState(base, kernelOverrides));
}

/** Whether two kernel states differ in anything KVM set up at module load. */
export function kernelChanged(a: KernelSevState, b: KernelSevState): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}
