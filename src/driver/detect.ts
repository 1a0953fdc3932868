/**
 * Host detection: whether this compute node can run SEV, SEV-ES and SEV-SNP guests, how many of each,
 * and the facts the XML builder needs (canonical q35, OVMF loaders, cbitpos). Computed once per
 * service start, as nova memoises it; a restart (a new `detectHost` call) re-detects.
 */
import { canonicalMachine, parseCapabilities, parseDomainCapabilities, type DomainCapabilities, type GuestArch } from './host-xml.ts';
import { asidCeiling } from './asid-ceiling.ts';
import type { HostFiles, LibvirtSource } from './host-source.ts';
import { hostInventory, hostTraits, type InventoryRecord, type ModelReport } from './inventory.ts';

export type { ModelReport } from './inventory.ts';

export const KVM_AMD_PARAM_DIR = 'sys/module/kvm_amd/parameters';
export const MISC_CAPACITY_FILE = 'sys/fs/cgroup/misc.capacity';
export const CPUINFO_FILE = 'proc/cpuinfo';
export const DEV_SEV = 'dev/sev';

/**
 * QEMU opens /dev/sev as the qemu user, to whom libvirt hands the node in the guest's mount
 * namespace (security_dac.c): it must exist and its owner must be able to read and write it.
 * libvirt's own check is only that it exists, and libvirt < 6.5 never looks again after probing.
 */
function devSevUsable(files: HostFiles): boolean {
  const mode = files.mode(DEV_SEV);
  return mode !== null && (mode & 0o600) === 0o600;
}

/** oslo bool_from_string(strict=False) truthy words; anything else (garbage included) is false. */
const TRUE_WORDS = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'f', 'false', 'off', 'n', 'no']);

export function boolFromString(raw: string): boolean {
  return TRUE_WORDS.has(raw.trim().toLowerCase());
}
/** Strict variant: true/false, or undefined for a value that is neither (caller raises). */
export function strictBool(raw: string): boolean | undefined {
  const t = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return undefined;
}

export interface DriverConfig {
  /** `[libvirt] hw_machine_type`, per arch; nova falls back to `pc` when x86_64 is absent. */
  readonly hw_machine_type?: Readonly<Record<string, string>>;
  /** nova's option: an upper bound on SEV guests (never raises the hardware count). */
  readonly num_memory_encrypted_guests?: number;
  /** This driver's extension: the same bound for SEV-ES guests. */
  readonly num_memory_encrypted_es_guests?: number;
  /** How guest memory is kept pinnable: `<locked/>` (nova, default) or a computed `<hard_limit>`. */
  readonly memory_policy?: 'locked' | 'hard-limit';
  /** Guest firmware (code + NVRAM template) to use instead of the domcaps loader choice. */
  readonly ovmf?: readonly { readonly code: string; readonly vars: string }[];
}

export interface SevReport extends ModelReport {
  readonly cbitpos?: number;
  readonly reducedPhysBits?: number;
}

/** What the builder and validator need about the host, resolved once. */
export interface HostFacts {
  readonly arch: string | undefined;
  readonly emulator?: string;
  readonly qemuVersion: number;
  readonly libVersion: number;
  /** Every machine name (aliases and versions) the x86_64 QEMU offers. */
  readonly machines: readonly string[];
  readonly defaultMachine: string;
  /** Canonical machine for every offered q35 name whose domain capabilities carry `<sev supported='yes'>`. */
  readonly sevMachines: ReadonlyMap<string, string>;
  /** Every offered machine name → canonical name. */
  readonly canonical: ReadonlyMap<string, string>;
  readonly loaders: readonly string[];
}

export interface HostReport {
  readonly sev: SevReport;
  readonly sevEs: ModelReport;
  readonly snp: ModelReport;
  readonly traits: readonly string[];
  readonly inventories: readonly InventoryRecord[];
  readonly warnings: readonly string[];
  readonly facts: HostFacts;
}

/**
 * The code each warning text stands for (conformance/contract.ts WARNING_CODES): a compute service
 * keeps its log texts, the placement side needs something it can match. Every text is registered
 * with its code when made, so `warningCodeOf(text)` is a lookup, never a pattern.
 */
const CODE_OF_TEXT = new Map<string, string>();
export const coded = <A extends unknown[]>(code: string, text: (...a: A) => string) => (...a: A): string => {
  const t = text(...a);
  CODE_OF_TEXT.set(t, code);
  return t;
};
export const warningCodeOf = (text: string): string | undefined => CODE_OF_TEXT.get(text);

/** Why plain SEV is unavailable on a host whose BIOS gave every ASID to SEV-ES/SNP. */
export const NO_PLAIN_SEV_ASIDS = 'the BIOS assigns every ASID to SEV-ES/SNP (no plain SEV ASIDs)';

const ES_IGNORED_FOR_SNP = 'AMD SEV-ES support is detected, but ignored because AMD SEV-SNP support is detected';
CODE_OF_TEXT.set(ES_IGNORED_FOR_SNP, 'SEV_ES_IGNORED_FOR_SNP');

export const warningText = {
  notSevCapable: coded('CAP_WITHOUT_SEV', (n: number) => `Host is configured with libvirt.num_memory_encrypted_guests set to ${n}, but is not SEV-capable.`),
  supportsOnly: coded('CAP_EXCEEDS_HOST', (n: number, max: number) => `Host is configured with libvirt.num_memory_encrypted_guests set to ${n}, but supports only ${max}.`),
  unknownMax: coded('SLOTS_UNKNOWN', (model: string) =>
    `Cannot determine the number of ${model} ASIDs (no <maxGuests> in domain capabilities, no misc cgroup); reporting 0 slots rather than unlimited. Set the slot option to the BIOS value to enable ${model} guests.`),
  unverifiedMax: coded('SLOTS_UNKNOWN', (model: string, n: number) => `Cannot verify ${n} ${model} slots against the hardware (no <maxGuests>, no misc cgroup); trusting the configured value.`),
  generationCeiling: coded('SLOTS_UNKNOWN', (generation: string, n: number) =>
    `Cannot read the SEV ASID count (no <maxGuests> in domain capabilities, no misc cgroup); offering the ${generation} maximum of ${n}. Guests beyond the BIOS's real count fail at launch: set num_memory_encrypted_guests to the BIOS value.`),
  esIgnoredForSnp: ES_IGNORED_FOR_SNP,
} as const;

/** `sev N` / `sev_es N` lines of the misc cgroup's capacity file (kernel ≥ 5.17). */
export function parseMiscCapacity(content: string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (content ?? '').split('\n')) {
    const m = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

interface SlotInput {
  readonly model: string;
  readonly available: boolean;
  readonly detected: number | undefined;
  readonly configured: number | undefined;
  readonly warnings: string[];
}

/** Slots = detected count lowered by the operator setting; unknown hardware never means unlimited. */
function slotsFor(s: SlotInput): number {
  if (!s.available) {
    if (s.configured !== undefined && s.configured > 0 && s.model === 'SEV') s.warnings.push(warningText.notSevCapable(s.configured));
    return 0;
  }
  if (s.detected === undefined) {
    if (s.configured === undefined) {
      s.warnings.push(warningText.unknownMax(s.model));
      return 0;
    }
    s.warnings.push(warningText.unverifiedMax(s.model, s.configured));
    return s.configured;
  }
  if (s.configured === undefined) return s.detected;
  if (s.configured > s.detected) s.warnings.push(warningText.supportsOnly(s.configured, s.detected));
  return Math.min(s.configured, s.detected);
}

const Q35_RE = /q35/;

async function sevDomainCaps(src: LibvirtSource, guest: GuestArch): Promise<{ byMachine: Map<string, string>; q35: DomainCapabilities | null }> {
  const byMachine = new Map<string, string>();
  let q35: DomainCapabilities | null = null;
  // Only q35-family machines matter: SEV refuses anything else before the domcaps are consulted.
  for (const m of guest.machines.filter((x) => Q35_RE.test(x.name))) {
    let dc: DomainCapabilities;
    try {
      dc = parseDomainCapabilities(await src.getDomainCapabilities({ arch: guest.arch, machine: m.name, virttype: 'kvm' }));
    } catch {
      continue; // a machine libvirt cannot describe is simply not usable for SEV
    }
    if (m.name === 'q35') q35 = dc;
    if (dc.sev?.supported) byMachine.set(m.name, m.canonical ?? dc.machine ?? m.name);
  }
  return { byMachine, q35 };
}

export async function detectHost(src: LibvirtSource, files: HostFiles, config: DriverConfig = {}): Promise<HostReport> {
  const warnings: string[] = [];
  const caps = parseCapabilities(await src.getCapabilities());
  const [qemuVersion, libVersion] = [await src.getVersion(), await src.getLibVersion()];
  const guest = caps.guests.find((g) => g.arch === 'x86_64');
  const canonical = new Map((guest?.machines ?? []).map((m) => [m.name, m.canonical ?? m.name] as const));
  const defaultMachine = config.hw_machine_type?.x86_64 ?? 'pc';
  const isX86 = caps.hostArch === 'x86_64';

  const { byMachine, q35 } = isX86 && guest ? await sevDomainCaps(src, guest) : { byMachine: new Map<string, string>(), q35: null };
  const param = (name: string) => {
    const raw = files.readText(`${KVM_AMD_PARAM_DIR}/${name}`);
    return raw !== null && boolFromString(raw);
  };
  const misc = parseMiscCapacity(files.readText(MISC_CAPACITY_FILE));
  const sevFeature = q35?.sev ?? null;

  let sevReason: string | undefined;
  if (!isX86) sevReason = `host arch is ${caps.hostArch ?? 'unknown'}, not x86_64`;
  else if (!param('sev')) sevReason = "kernel doesn't support AMD SEV";
  else if (!devSevUsable(files)) sevReason = '/dev/sev is missing or QEMU cannot open it';
  else if (!guest || !guest.machines.some((m) => m.name === 'q35')) sevReason = 'QEMU offers no q35 machine type';
  else if (!sevFeature?.supported) sevReason = 'No AMD SEV support detected for the q35 machine type';
  const sevAvailable = sevReason === undefined;

  // The misc cgroup lists only resources with a capacity: with the file there and no `sev` line,
  // the BIOS left no plain-SEV ASIDs (every one given to SEV-ES/SNP).
  const miscKnown = files.readText(MISC_CAPACITY_FILE) !== null;
  let sevDetected = sevFeature?.maxGuests ?? misc.get('sev') ?? (miscKnown && sevAvailable ? 0 : undefined);
  if (sevAvailable && sevDetected === undefined) {
    // Neither libvirt nor the kernel says; the CPU generation bounds it (asid-ceiling.ts).
    const ceiling = asidCeiling(files.readText(CPUINFO_FILE));
    if (ceiling) {
      sevDetected = ceiling.asids;
      if (config.num_memory_encrypted_guests === undefined) warnings.push(warningText.generationCeiling(ceiling.generation, ceiling.asids));
    }
  }
  // Plain SEV needs ASIDs of its own: with none, the host offers SEV-ES/SNP at most (not the SEV trait).
  const plainSevReason = sevAvailable && sevDetected === 0 ? NO_PLAIN_SEV_ASIDS : sevReason;
  const plainSevAvailable = plainSevReason === undefined;
  const sevSlots = slotsFor({ model: 'SEV', available: plainSevAvailable, detected: sevDetected, configured: config.num_memory_encrypted_guests, warnings });

  const snpKernel = param('sev_snp');
  let snpReason: string | undefined;
  if (!sevAvailable) snpReason = sevReason;
  else if (!snpKernel) snpReason = "kernel doesn't support AMD SEV-SNP";
  else if (!q35?.sectypes?.includes('sev-snp')) snpReason = "Libvirt or QEMU doesn't support AMD SEV-SNP";
  const snpAvailable = snpReason === undefined;
  const esPool = sevFeature?.maxESGuests ?? misc.get('sev_es');

  let esReason: string | undefined;
  if (!sevAvailable) esReason = sevReason;
  else if (!param('sev_es')) esReason = "kernel doesn't support AMD SEV-ES";
  // No QEMU version floor: QEMU has launched SEV-ES guests since 6.0 and libvirt only reports
  // maxESGuests where it can start them; nova 32's 8.0 floor is a support policy (README).
  else if (snpKernel) {
    // Firmware with the CVE-2025-48514 fix disables SEV-ES when SNP is on (nova bug #2157891).
    esReason = warningText.esIgnoredForSnp;
    warnings.push(warningText.esIgnoredForSnp);
  } else if (esPool === 0) esReason = 'the BIOS assigns no ASIDs to SEV-ES';
  const esAvailable = esReason === undefined;
  const esSlots = slotsFor({ model: 'SEV-ES', available: esAvailable, detected: esPool, configured: config.num_memory_encrypted_es_guests, warnings });
  const snpSlots = snpAvailable ? (esPool ?? 0) : 0;

  const sev: SevReport = {
    available: plainSevAvailable,
    slots: sevSlots,
    ...(plainSevReason !== undefined && { reason: plainSevReason }),
    ...(sevFeature?.cbitpos !== undefined && { cbitpos: sevFeature.cbitpos }),
    ...(sevFeature?.reducedPhysBits !== undefined && { reducedPhysBits: sevFeature.reducedPhysBits }),
  };
  const sevEs: ModelReport = { available: esAvailable, slots: esSlots, ...(esReason !== undefined && { reason: esReason }) };
  const snp: ModelReport = { available: snpAvailable, slots: snpSlots, ...(snpReason !== undefined && { reason: snpReason }) };
  const facts: HostFacts = {
    arch: caps.hostArch,
    ...(guest?.emulator && { emulator: guest.emulator }),
    qemuVersion,
    libVersion,
    machines: (guest?.machines ?? []).map((m) => m.name),
    defaultMachine,
    sevMachines: byMachine,
    canonical,
    loaders: q35?.loaders ?? [],
  };
  return { sev, sevEs, snp, traits: hostTraits(sev, sevEs, snp), inventories: hostInventory(sev, sevEs, snp), warnings, facts };
}

export { canonicalMachine };
