/**
 * /proc/cpuinfo as the kernel prints it. The memory-encryption flags are not stored in profiles:
 * the kernel sets them from CPUID Fn8000_001F and clears them again when the BIOS did not enable
 * memory encryption (arch/x86/kernel/cpu/amd.c early_detect_mem_encrypt; sev-hardware.md §1.1).
 */
import type { HardwareProfile } from '../profile/schema.ts';
import { decodeCpuid, type KernelSevState } from '../profile/derive.ts';
import { versionAtLeast } from '../profile/version.ts';

interface DerivedFlagRule {
  readonly flag: 'sme' | 'sev' | 'sev_es' | 'sev_snp';
  readonly eaxBit: number;
  /** Kernel release that first knew the feature bit. */
  readonly since: readonly [number, number];
}

const DERIVED_FLAG_RULES: readonly DerivedFlagRule[] = [
  { flag: 'sme', eaxBit: 0, since: [4, 14] },
  { flag: 'sev', eaxBit: 1, since: [4, 16] },
  { flag: 'sev_es', eaxBit: 3, since: [5, 10] },
  { flag: 'sev_snp', eaxBit: 4, since: [5, 19] },
];

/** From 6.8 the kernel also clears sev_snp when SYSCFG.SNPEn is not set by the BIOS. */
const SNP_BIOS_CHECK_SINCE = [6, 8] as const;

/**
 * Whether SYSCFG.MemEncryptionModEn is set. A server PSP only registers /dev/sev when the BIOS
 * enabled SEV; a client part needs the BIOS SME option, which operators enable along with
 * `mem_encrypt=on`.
 */
export function biosMemoryEncryptionEnabled(profile: HardwareProfile): boolean {
  if (!profile.cpuid8000001f) return false;
  return profile.devSev.present || /(?:^|\s)mem_encrypt=on(?:\s|$)/.test(profile.kernel.cmdline);
}

/** The four memory-encryption flags the kernel shows, in cpufeatures order. */
export function memoryEncryptionFlags(profile: HardwareProfile): string[] {
  const cpuid = decodeCpuid(profile);
  if (!cpuid || !biosMemoryEncryptionEnabled(profile)) return [];
  const kv = profile.kernel.version;
  // sme stays only when SME is active (sme_me_mask set by mem_encrypt=on).
  const smeActive = /(?:^|\s)mem_encrypt=on(?:\s|$)/.test(profile.kernel.cmdline);
  return DERIVED_FLAG_RULES.filter((r) => {
    if ((cpuid.eax & (1 << r.eaxBit)) === 0 || !versionAtLeast(kv, ...r.since)) return false;
    if (r.flag === 'sme') return smeActive;
    if (r.flag === 'sev_snp' && versionAtLeast(kv, ...SNP_BIOS_CHECK_SINCE)) return !!profile.firmware?.snpEnabledInBios;
    return true;
  }).map((r) => r.flag);
}

/**
 * The full flag list: profile flags with the derived ones inserted where the kernel prints them
 * (word 19 follows the AMD-defined words, so just before the SVM feature flags `npt`…).
 */
export function cpuinfoFlags(profile: HardwareProfile, _kernel?: KernelSevState): string[] {
  const derived = memoryEncryptionFlags(profile);
  const flags = [...profile.cpu.flags];
  const at = flags.indexOf('npt');
  flags.splice(at < 0 ? flags.length : at, 0, ...derived);
  return flags;
}

function logicalCpuCount(profile: HardwareProfile): number {
  const c = profile.cpu;
  return c.sockets * c.coresPerSocket * c.threadsPerCore;
}

/** Linux numbers the first thread of every core first, then the SMT siblings. */
export function cpuLocation(profile: HardwareProfile, id: number): { socket: number; core: number; thread: number } {
  const c = profile.cpu;
  const totalCores = c.sockets * c.coresPerSocket;
  const thread = Math.floor(id / totalCores);
  const globalCore = id % totalCores;
  return { socket: Math.floor(globalCore / c.coresPerSocket), core: globalCore % c.coresPerSocket, thread };
}

/** The kernel pads keys with tabs to the second tab stop ("model\t\t:", "power management:"). */
function cpuinfoKey(k: string): string {
  return k.length < 8 ? `${k}\t\t` : k.length < 16 ? `${k}\t` : k;
}

/** MIDR implementer codes by vendor (arch/arm64 cputype.h); only ARM-designed cores are modelled. */
const ARM_IMPLEMENTER: Record<string, number> = { ARM: 0x41 };

/** arm64's /proc/cpuinfo: the MIDR fields and the HWCAP "Features" line, no model name. */
function formatArmCpuinfo(profile: HardwareProfile): string {
  const c = profile.cpu;
  const hex = (n: number, digits = 1) => `0x${n.toString(16).padStart(digits, '0')}`;
  const blocks: string[] = [];
  for (let id = 0; id < logicalCpuCount(profile); id++) {
    const lines: [string, string | number][] = [
      ['processor', id],
      // The generic timer runs at 25 MHz on Neoverse servers; BogoMIPS is twice its frequency.
      ['BogoMIPS', '50.00'],
      ['Features', c.flags.join(' ')],
      ['CPU implementer', hex(ARM_IMPLEMENTER[c.vendor] ?? 0, 2)],
      ['CPU architecture', c.family],
      ['CPU variant', hex(c.variant)],
      ['CPU part', hex(c.model, 3)],
      ['CPU revision', c.stepping],
    ];
    blocks.push(lines.map(([k, v]) => `${cpuinfoKey(k)}: ${v}`).join('\n') + '\n');
  }
  return blocks.join('\n') + '\n';
}

/** /proc/cpuinfo with one block per logical CPU. */
export function formatCpuinfo(profile: HardwareProfile, kernel?: KernelSevState): string {
  if (profile.arch === 'aarch64') return formatArmCpuinfo(profile);
  const c = profile.cpu;
  const flags = cpuinfoFlags(profile, kernel).join(' ');
  const cpuid = decodeCpuid(profile);
  // Linux reduces the physical address width by the host reduction when SME/SEV is on.
  const reduce = cpuid && biosMemoryEncryptionEnabled(profile) ? cpuid.hostPhysBitsReduction : 0;
  const physBits = (c.vendor === 'GenuineIntel' ? 46 : ['milan', 'genoa', 'turin'].includes(profile.generation) ? 52 : 48) - reduce;
  const virtBits = c.flags.includes('la57') ? 57 : 48;
  const cacheKb = c.vendor === 'GenuineIntel' ? 1280 : 512;
  const blocks: string[] = [];
  const n = logicalCpuCount(profile);
  for (let id = 0; id < n; id++) {
    const loc = cpuLocation(profile, id);
    const lines: [string, string | number][] = [
      ['processor', id],
      ['vendor_id', c.vendor],
      ['cpu family', c.family],
      ['model', c.model],
      ['model name', c.modelName],
      ['stepping', c.stepping],
      ['microcode', c.vendor === 'GenuineIntel' ? '0xd0003a5' : '0xa0011d1'],
      ['cpu MHz', c.mhz.toFixed(3)],
      ['cache size', `${cacheKb} KB`],
      ['physical id', loc.socket],
      ['siblings', c.coresPerSocket * c.threadsPerCore],
      ['core id', loc.core],
      ['cpu cores', c.coresPerSocket],
      ['apicid', loc.socket * 128 + loc.core * c.threadsPerCore + loc.thread],
      ['initial apicid', loc.socket * 128 + loc.core * c.threadsPerCore + loc.thread],
      ['fpu', 'yes'],
      ['fpu_exception', 'yes'],
      ['cpuid level', c.vendor === 'GenuineIntel' ? 27 : 16],
      ['wp', 'yes'],
      ['flags', flags],
      ['bogomips', (c.mhz * 2).toFixed(2)],
      ['TLB size', '2560 4K pages'],
      ['clflush size', 64],
      ['cache_alignment', 64],
      ['address sizes', `${physBits} bits physical, ${virtBits} bits virtual`],
      ['power management', c.vendor === 'GenuineIntel' ? '' : 'ts ttp tm hwpstate cpb eff_freq_ro [13] [14]'],
    ];
    blocks.push(lines.map(([k, v]) => `${cpuinfoKey(k)}:${v === '' ? '' : ` ${v}`}`).join('\n') + '\n');
  }
  return blocks.join('\n') + '\n';
}
