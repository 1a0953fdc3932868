/**
 * Facts derived from a hardware profile with the formulas the real components use: the CPU's
 * CPUID decode, KVM's module parameters and misc-cgroup capacities, and libvirt's maxGuests.
 * Everything here is a pure function of the profile plus the kernel's runtime parameter state.
 */
import type { HardwareProfile } from './schema.ts';
import { versionAtLeast } from './version.ts';

/** CPUID Fn8000_001F decoded as Linux, QEMU and sevctl decode it. */
export interface CpuidSev {
  readonly eax: number;
  readonly ebx: number;
  /** Maximum SEV ASID (`max_sev_asid`). */
  readonly maxSevAsid: number;
  /** Minimum ASID for plain SEV guests (`min_sev_asid`); ES/SNP use 1 .. min-1. */
  readonly minSevAsid: number;
  /** EBX[5:0]: the page-table C-bit. */
  readonly cbitpos: number;
  /** EBX[11:6]: the host's physical-address reduction (the guest always sees 1). */
  readonly hostPhysBitsReduction: number;
  readonly sevBit: boolean;
  readonly sevEsBit: boolean;
  readonly snpBit: boolean;
}

/** QEMU hard-codes this in query-sev-capabilities; the guest reduction is always 1. */
export const GUEST_REDUCED_PHYS_BITS = 1;

export function decodeCpuid(profile: HardwareProfile): CpuidSev | null {
  const r = profile.cpuid8000001f;
  if (!r) return null;
  return {
    eax: r.eax,
    ebx: r.ebx,
    maxSevAsid: r.ecx,
    minSevAsid: r.edx,
    cbitpos: r.ebx & 0x3f,
    hostPhysBitsReduction: (r.ebx >> 6) & 0x3f,
    sevBit: (r.eax & (1 << 1)) !== 0,
    sevEsBit: (r.eax & (1 << 3)) !== 0,
    snpBit: (r.eax & (1 << 4)) !== 0,
  };
}

/** libvirt's formulas (qemu_capabilities.c, "SEV API v0.24 section 6.19.1"). */
export function libvirtGuestLimits(cpuid: CpuidSev | null): { maxGuests: number; maxESGuests: number } {
  if (!cpuid || cpuid.maxSevAsid === 0 || cpuid.minSevAsid === 0) return { maxGuests: 0, maxESGuests: 0 };
  return {
    maxGuests: Math.max(0, cpuid.maxSevAsid - cpuid.minSevAsid + 1),
    maxESGuests: cpuid.minSevAsid - 1,
  };
}

export type KvmAmdParam = 'sev' | 'sev_es' | 'sev_snp';
export const KVM_AMD_PARAMS: readonly KvmAmdParam[] = ['sev', 'sev_es', 'sev_snp'];

/** Operator overrides of what the kernel command line asked for (runtime control in tests). */
export type KernelParamOverrides = Partial<Record<KvmAmdParam, boolean>>;

/** The kernel's view after `sev_hardware_setup`: which features are on, and what sysfs prints. */
export interface KernelSevState {
  /** kvm_amd is loaded (AMD CPU with SVM). */
  readonly kvmAmdLoaded: boolean;
  /** The parameter files that exist, with the text the kernel prints (newline included). */
  readonly sysfs: Partial<Record<KvmAmdParam, string>>;
  readonly sevEnabled: boolean;
  readonly sevEsEnabled: boolean;
  readonly snpEnabled: boolean;
  /** misc cgroup capacities, present from kernel 5.13; only resources with capacity > 0. */
  readonly miscCapacity: { readonly sev?: number; readonly sev_es?: number } | null;
}

/** Kernel version at which each kvm_amd parameter file appeared. */
const PARAM_SINCE: Record<KvmAmdParam, [number, number]> = { sev: [4, 16], sev_es: [5, 11], sev_snp: [6, 11] };

/** From 5.13 the parameters are bools ("Y"/"N"); before, ints ("1"/"0"). */
export function formatModuleParam(kernelVersion: string, on: boolean): string {
  const boolForm = versionAtLeast(kernelVersion, 5, 13);
  return `${boolForm ? (on ? 'Y' : 'N') : on ? '1' : '0'}\n`;
}

/** What `kvm_amd.<param>=` on the command line asks for; undefined when not given. */
export function cmdlineRequest(cmdline: string, param: KvmAmdParam): boolean | undefined {
  const m = new RegExp(`(?:^|\\s)kvm_amd\\.${param}=(\\S+)`).exec(cmdline);
  if (!m?.[1]) return undefined;
  return ['1', 'y', 'Y', 'on', 'true'].includes(m[1]);
}

export function deriveKernel(profile: HardwareProfile, overrides: KernelParamOverrides = {}): KernelSevState {
  const cpuid = decodeCpuid(profile);
  const kv = profile.kernel.version;
  const kvmAmdLoaded = profile.cpu.vendor === 'AuthenticAMD' && profile.cpu.flags.includes('svm');
  if (!kvmAmdLoaded) {
    return { kvmAmdLoaded, sysfs: {}, sevEnabled: false, sevEsEnabled: false, snpEnabled: false, miscCapacity: null };
  }
  // Before 5.13 SEV was off unless asked for (CONFIG_AMD_MEM_ENCRYPT_ACTIVE_BY_DEFAULT is usually
  // unset); from 5.13 the parameters default on and are overwritten with the actual support.
  const defaultOn = versionAtLeast(kv, 5, 13);
  const requested = (p: KvmAmdParam) => overrides[p] ?? cmdlineRequest(profile.kernel.cmdline, p) ?? defaultOn;
  const exists = (p: KvmAmdParam) => versionAtLeast(kv, ...PARAM_SINCE[p]);

  const hwSev = !!cpuid && cpuid.sevBit && cpuid.maxSevAsid > 0 && profile.devSev.present && profile.firmware !== null;
  const sevEnabled = exists('sev') && requested('sev') && hwSev;
  // SEV-ES needs ES-capable hardware and at least one ES ASID (min_sev_asid > 1).
  const sevEsEnabled = sevEnabled && exists('sev_es') && requested('sev_es') && !!cpuid?.sevEsBit && cpuid.minSevAsid > 1;
  const snpEnabled =
    sevEsEnabled && exists('sev_snp') && requested('sev_snp') && !!cpuid?.snpBit && !!profile.firmware?.snpEnabledInBios;

  const sysfs: Partial<Record<KvmAmdParam, string>> = {};
  const state: Record<KvmAmdParam, boolean> = { sev: sevEnabled, sev_es: sevEsEnabled, sev_snp: snpEnabled };
  for (const p of KVM_AMD_PARAMS) if (exists(p)) sysfs[p] = formatModuleParam(kv, state[p]);

  let miscCapacity: KernelSevState['miscCapacity'] = null;
  if (versionAtLeast(kv, 5, 13)) {
    const cap: { sev?: number; sev_es?: number } = {};
    if (sevEnabled && cpuid && cpuid.minSevAsid <= cpuid.maxSevAsid) cap.sev = cpuid.maxSevAsid - cpuid.minSevAsid + 1;
    if (sevEsEnabled && cpuid && cpuid.minSevAsid > 1) cap.sev_es = cpuid.minSevAsid - 1;
    miscCapacity = cap;
  }
  return { kvmAmdLoaded, sysfs, sevEnabled, sevEsEnabled, snpEnabled, miscCapacity };
}

/** misc.capacity as the root cgroup prints it: one line per resource with capacity > 0. */
export function formatMiscCapacity(cap: KernelSevState['miscCapacity']): string | null {
  if (!cap) return null;
  const lines: string[] = [];
  if (cap.sev) lines.push(`sev ${cap.sev}`);
  if (cap.sev_es) lines.push(`sev_es ${cap.sev_es}`);
  return lines.map((l) => `${l}\n`).join('');
}

/** Why QEMU's `query-sev-capabilities` probe (run by libvirt) fails, or null when it succeeds. */
export function qemuSevProbeFailure(profile: HardwareProfile, kernel: KernelSevState): string | null {
  if (!versionAtLeast(profile.qemu.version, 2, 12)) return 'QEMU has no sev-guest object';
  if (!kernel.sevEnabled) return 'SEV is not enabled in KVM';
  if (!profile.devSev.present) return 'SEV: Failed to open /dev/sev';
  // libvirt up to 5.1 probed QEMU as the unprivileged qemu user, which cannot open a 0600 /dev/sev.
  const othersRw = (Number.parseInt(profile.devSev.mode, 8) & 0o006) === 0o006;
  if (!versionAtLeast(profile.libvirt.version, 5, 1, 1) && !othersRw && profile.devSev.owner === 'root') {
    return "SEV: Failed to open /dev/sev: Permission denied";
  }
  return null;
}

/** Whether this libvirt re-probes QEMU when the kvm_amd sev parameter or /dev/sev change. */
export function libvirtReprobesOnSevChange(profile: HardwareProfile): boolean {
  return versionAtLeast(profile.libvirt.version, 6, 5);
}
