/**
 * The hardware-profile schema: raw facts about one host, as an operator could read them off the
 * machine (CPUID, firmware version, kernel command line, package versions). Nothing a client sees
 * is stored here; every view is derived from these facts by the modules in `derive/` and `views/`.
 */
import { z } from 'zod';
import { versionAtLeast } from './version.ts';

export const GENERATIONS = ['naples', 'rome', 'milan', 'genoa', 'turin', 'client', 'intel', 'arm'] as const;
export type Generation = (typeof GENERATIONS)[number];

/** Host architectures a profile can describe; SEV exists only on x86_64. */
export const HOST_ARCHES = ['x86_64', 'aarch64'] as const;
export type HostArch = (typeof HOST_ARCHES)[number];

export const CPU_VENDORS = ['AuthenticAMD', 'GenuineIntel', 'ARM'] as const;
export type CpuVendor = (typeof CPU_VENDORS)[number];

/** The architecture and generation each vendor's profiles must have (superRefine below). */
const VENDOR_RULES: Record<CpuVendor, { readonly arch: HostArch; readonly generations: readonly Generation[] }> = {
  AuthenticAMD: { arch: 'x86_64', generations: ['naples', 'rome', 'milan', 'genoa', 'turin', 'client'] },
  GenuineIntel: { arch: 'x86_64', generations: ['intel'] },
  ARM: { arch: 'aarch64', generations: ['arm'] },
};

/** /proc/cpuinfo flags the kernel derives from CPUID 0x8000001F and BIOS state (views/cpuinfo.ts). */
export const DERIVED_CPU_FLAGS = ['sme', 'sev', 'sev_es', 'sev_snp'] as const;

/** A dotted version such as "5.4.0" or "9.0.0"; kept as text, compared with `versionAtLeast`. */
const Version = z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'expected a version like 9.0.0');

/** A 32-bit register value, written as hex text ("0x0101fd3f") or a plain number. */
const Register = z.union([
  z.number().int().min(0).max(0xffffffff),
  z.string().regex(/^0x[0-9a-fA-F]{1,8}$/, 'expected a 32-bit hex value like 0x0001000f'),
]).transform((v) => (typeof v === 'number' ? v : Number.parseInt(v, 16)));

/**
 * On ARM (vendor 'ARM', MIDR implementer 0x41) the x86 identity fields hold the MIDR fields the
 * kernel prints: family = "CPU architecture" (8), model = "CPU part" (0xd0c for Neoverse-N1),
 * stepping = "CPU revision", and `variant` = "CPU variant".
 */
const Cpu = z.object({
  vendor: z.enum(CPU_VENDORS),
  family: z.number().int().min(0),
  model: z.number().int().min(0),
  stepping: z.number().int().min(0),
  /** ARM only: the MIDR variant (the "r" of r3p1). */
  variant: z.number().int().min(0).max(15).default(0),
  modelName: z.string().min(1),
  /** libvirt's CPU model name for the host-model CPU (e.g. EPYC-Milan). */
  libvirtModel: z.string().min(1),
  sockets: z.number().int().min(1),
  coresPerSocket: z.number().int().min(1),
  threadsPerCore: z.number().int().min(1),
  mhz: z.number().int().min(1),
  numaNodes: z.number().int().min(1),
  /** /proc/cpuinfo flags as the kernel prints them, before SEV-related flags are derived. */
  flags: z.array(z.string().regex(/^[a-z0-9_]+$/)).min(1),
});

/** CPUID Fn8000_001F: memory-encryption capabilities; absent on Intel. */
const Cpuid8000001F = z.object({
  eax: Register,
  ebx: Register,
  /** Maximum SEV ASID (number of encrypted guests supported simultaneously). */
  ecx: Register,
  /** Minimum ASID for SEV-enabled, SEV-ES-disabled guests; set by the BIOS ES limit. */
  edx: Register,
});

const Firmware = z.object({
  apiMajor: z.number().int().min(0).max(255),
  apiMinor: z.number().int().min(0).max(255),
  build: z.number().int().min(0).max(255),
  /** Whether the BIOS enabled SNP (SNPEn, RMP table) so the firmware can initialise SNP. */
  snpEnabledInBios: z.boolean().default(false),
  /**
   * The SNP firmware's CurrentTcb (SNP ABI TCB_VERSION security patch levels): what an SNP
   * attestation report carries and its VCEK is derived for. `fmc` exists on Turin and later only.
   * Absent: the profile states no SNP TCB, and the fake refuses SNP attestation reports.
   */
  snpTcb: z
    .object({
      bootloader: z.number().int().min(0).max(127),
      tee: z.number().int().min(0).max(127),
      snp: z.number().int().min(0).max(127),
      microcode: z.number().int().min(0).max(255),
      fmc: z.number().int().min(0).max(127).optional(),
    })
    .optional(),
});

const Kernel = z.object({
  version: Version,
  cmdline: z.string(),
});

const DevSev = z.object({
  present: z.boolean(),
  /** Octal permission bits as `ls -l` would imply, e.g. "0600" (devtmpfs default) or "0666". */
  mode: z.string().regex(/^0[0-7]{3}$/).default('0600'),
  owner: z.string().default('root'),
  group: z.string().default('root'),
});

const MachineType = z.object({
  /** Canonical versioned name, e.g. pc-q35-7.2. */
  name: z.string().min(1),
  /** Unversioned alias, e.g. q35 or pc. */
  alias: z.string().min(1).optional(),
  maxCpus: z.number().int().min(1),
  default: z.boolean().default(false),
});

const Libvirt = z.object({
  version: Version,
  /**
   * libvirt's QEMU capability cache was probed before SEV was enabled on this host and has not been
   * invalidated. Only libvirt older than 6.5 keeps such a cache: newer versions re-probe when the
   * kvm_amd `sev` parameter or /dev/sev change.
   */
  capabilityCacheStale: z.boolean().default(false),
  hostname: z.string().min(1),
  hostUuid: z.string().uuid(),
});

const Qemu = z.object({
  version: Version,
  emulator: z.string().startsWith('/'),
  machineTypes: z.array(MachineType).min(1),
  /** OVMF firmware images installed on the host (code + vars pairs). */
  ovmf: z.array(z.object({ code: z.string().startsWith('/'), vars: z.string().startsWith('/') })),
  /**
   * swtpm, the TPM emulator libvirt starts for `<tpm><backend type='emulator'>`, with the TPM
   * versions its swtpm_setup supports. Absent: not installed, and libvirt refuses every emulator
   * TPM ("TPM version '…' is not supported") — as on milan-7003-es8 and the oracle's stack.
   */
  swtpm: z.object({ versions: z.array(z.enum(['1.2', '2.0'])).min(1) }).optional(),
});

const Memory = z.object({
  totalKiB: z.number().int().positive(),
  /** Memory the host keeps for itself (kernel, daemons); guests cannot pin into it. */
  reservedKiB: z.number().int().min(0),
  hugepages2M: z.number().int().min(0).default(0),
  hugepages1G: z.number().int().min(0).default(0),
  /** RLIMIT_MEMLOCK inherited by QEMU when libvirt sets no limit (ulimit -l, KiB). */
  defaultMemlockKiB: z.number().int().min(0),
});

export const HardwareProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'profile names are lower-case words joined by -'),
    description: z.string().min(1),
    generation: z.enum(GENERATIONS),
    /** The host's architecture (libvirt's host `<cpu><arch>`); x86_64 unless stated. */
    arch: z.enum(HOST_ARCHES).default('x86_64'),
    cpu: Cpu,
    cpuid8000001f: Cpuid8000001F.nullable(),
    firmware: Firmware.nullable(),
    kernel: Kernel,
    devSev: DevSev,
    libvirt: Libvirt,
    qemu: Qemu,
    memory: Memory,
  })
  .superRefine((p, ctx) => {
    const amd = p.cpu.vendor === 'AuthenticAMD';
    p.cpu.flags.forEach((f, i) => {
      if ((DERIVED_CPU_FLAGS as readonly string[]).includes(f)) {
        ctx.addIssue({ code: 'custom', path: ['cpu', 'flags', i], message: `'${f}' is derived from CPUID and kernel state; leave it out of the profile` });
      }
    });
    if (!amd && p.cpuid8000001f !== null) {
      ctx.addIssue({ code: 'custom', path: ['cpuid8000001f'], message: 'only AMD CPUs have CPUID Fn8000_001F; use null' });
    }
    const rule = VENDOR_RULES[p.cpu.vendor];
    if (!rule.generations.includes(p.generation)) {
      const owner = CPU_VENDORS.find((v) => VENDOR_RULES[v].generations.includes(p.generation));
      ctx.addIssue({ code: 'custom', path: ['generation'], message: `generation '${p.generation}' needs vendor ${owner}` });
    }
    if (rule.arch !== p.arch) {
      ctx.addIssue({ code: 'custom', path: ['arch'], message: `vendor ${p.cpu.vendor} means an ${rule.arch} host, not ${p.arch}` });
    }
    const id = p.cpuid8000001f;
    if (id) {
      const sevBit = (id.eax & 0b10) !== 0;
      if (!sevBit && id.ecx !== 0) {
        ctx.addIssue({ code: 'custom', path: ['cpuid8000001f', 'ecx'], message: 'ECX (max SEV ASID) must be 0 when EAX bit 1 (SEV) is clear' });
      }
      if (id.ecx === 0 && id.edx !== 0) {
        ctx.addIssue({ code: 'custom', path: ['cpuid8000001f', 'edx'], message: 'EDX (min SEV ASID) must be 0 when ECX is 0' });
      }
      if (id.ecx > 0 && id.edx === 0) {
        ctx.addIssue({ code: 'custom', path: ['cpuid8000001f', 'edx'], message: 'EDX (min SEV ASID) must be at least 1 when ECX > 0' });
      }
      // The BIOS may dedicate every ASID to SEV-ES/SNP (EDX = ECX + 1) but never beyond that.
      if (id.ecx > 0 && id.edx > id.ecx + 1) {
        ctx.addIssue({ code: 'custom', path: ['cpuid8000001f', 'edx'], message: `EDX (${id.edx}) may exceed ECX (${id.ecx}) by at most 1` });
      }
      if (sevBit && id.ecx > 0 && p.firmware === null) {
        ctx.addIssue({ code: 'custom', path: ['firmware'], message: 'an SEV-capable CPU (ECX > 0) needs firmware facts' });
      }
    }
    const tcb = p.firmware?.snpTcb;
    if (tcb && (tcb.fmc !== undefined) !== (p.generation === 'turin')) {
      ctx.addIssue({ code: 'custom', path: ['firmware', 'snpTcb', 'fmc'], message: 'the FMC security patch level exists on Turin only (its TCB_VERSION layout)' });
    }
    if (p.libvirt.capabilityCacheStale && versionAtLeast(p.libvirt.version, 6, 5)) {
      ctx.addIssue({ code: 'custom', path: ['libvirt', 'capabilityCacheStale'], message: 'libvirt 6.5 and later re-probe on SEV changes, so the cache cannot stay stale' });
    }
    if (p.qemu.machineTypes.filter((m) => m.default).length > 1) {
      ctx.addIssue({ code: 'custom', path: ['qemu', 'machineTypes'], message: 'at most one machine type may be the default' });
    }
  });

export type HardwareProfileInput = z.input<typeof HardwareProfileSchema>;
export type HardwareProfile = z.output<typeof HardwareProfileSchema>;
