/**
 * Generated hosts: fast-check arbitraries over the ranges real AMD hosts take (sev-hardware.md §1),
 * so the conformance suite also judges drivers on hosts nobody wrote down — a C-bit the driver's
 * CPU table does not expect, an odd ES split, a BIOS with few ASIDs. Every host is built to be
 * self-consistent and is validated by the profile schema; the same seed gives the same hosts.
 *
 * References: `generated:N[:SEED]` expands to the names `gen-SEED-0 … gen-SEED-(N−1)`, and each
 * name rebuilds its host anywhere (a worker thread, another process) from the seed and index.
 * `shrinkFailingHost` replays one host through fast-check's shrinker to the smallest host on which
 * a check still fails.
 *
 * What varies, and within what:
 * - generation (Naples … Turin): family/model/flags from the bundled profile of that generation;
 *   the physical address width is 48 bits up to Rome and 52 from Milan (views/cpuinfo.ts);
 * - CPUID 0x8000001F: ECX (max SEV ASID) 1 … the generation's ASID count (15, 509, 1006);
 *   EDX (min SEV ASID, the BIOS ES limit) 1 … ECX + 1 (all-ES allowed, §1.4); EBX[11:6] the host
 *   address reduction 1 … 6, and the C-bit EBX[5:0] among the address bits it removes (the top
 *   one on every part seen so far, §1.3; CPUID allows any of them); EAX the generation's bits;
 * - firmware API version within the generation's releases; SNP in the BIOS only where SNP exists;
 * - kernel, libvirt and QEMU as one of the distribution stacks in SUPPORTED_STACKS, the kvm_amd
 *   parameters on the command line (on, off or left to the kernel's default), /dev/sev present
 *   or not and its mode, a stale capability cache only where libvirt < 6.5 can keep one;
 * - host memory 64 GiB (eight channels of 8 GiB DIMMs) … 2 TiB, its reservation, the default RLIMIT_MEMLOCK.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { allProfiles } from './load.ts';
import { HardwareProfileSchema, type Generation, type HardwareProfile, type HardwareProfileInput } from './schema.ts';
import { versionAtLeast } from './version.ts';

/** A kernel, libvirt and QEMU that a distribution shipped together (the bundled profiles' stacks). */
export interface SupportedStack {
  readonly distro: string;
  readonly kernel: string;
  readonly libvirt: string;
  readonly qemu: string;
  /** Where the distribution installs OVMF. */
  readonly ovmfDir: string;
  readonly ovmfSuffix: '' | '_4M';
}

/** Distribution releases with SEV-capable packages, from Debian 10 (libvirt 5.0) to Fedora 41 (libvirt 10.6). */
export const SUPPORTED_STACKS: readonly SupportedStack[] = [
  { distro: 'debian-10', kernel: '4.19.0', libvirt: '5.0.0', qemu: '3.1.0', ovmfDir: '/usr/share/OVMF', ovmfSuffix: '' },
  { distro: 'ubuntu-20.04', kernel: '5.4.0', libvirt: '6.0.0', qemu: '4.2.1', ovmfDir: '/usr/share/OVMF', ovmfSuffix: '' },
  { distro: 'anolis-8', kernel: '5.10.134', libvirt: '8.0.0', qemu: '6.2.0', ovmfDir: '/usr/share/edk2/ovmf', ovmfSuffix: '' },
  { distro: 'ubuntu-22.04', kernel: '5.15.0', libvirt: '8.0.0', qemu: '6.2.0', ovmfDir: '/usr/share/OVMF', ovmfSuffix: '_4M' },
  { distro: 'debian-12', kernel: '6.1.0', libvirt: '9.0.0', qemu: '7.2.0', ovmfDir: '/usr/share/OVMF', ovmfSuffix: '_4M' },
  { distro: 'fedora-38', kernel: '6.2.9', libvirt: '9.0.0', qemu: '7.2.0', ovmfDir: '/usr/share/edk2/ovmf', ovmfSuffix: '' },
  { distro: 'ubuntu-24.04', kernel: '6.8.0', libvirt: '10.0.0', qemu: '8.2.2', ovmfDir: '/usr/share/OVMF', ovmfSuffix: '_4M' },
  { distro: 'fedora-41', kernel: '6.11.4', libvirt: '10.6.0', qemu: '9.1.0', ovmfDir: '/usr/share/edk2/ovmf', ovmfSuffix: '' },
];

type ServerGeneration = Extract<Generation, 'naples' | 'rome' | 'milan' | 'genoa' | 'turin'>;

/** Per generation: the bundled profile whose CPU identity it borrows, and the ranges of its facts (sev-hardware.md §1.3, §8). */
interface GenerationFacts {
  readonly template: string;
  readonly physBits: 48 | 52;
  /** CPUID ECX on the largest BIOS setting. */
  readonly maxAsids: number;
  /** CPUID EAX as the generation reports it (SME, SEV, page flush, ES; SNP and VMPL from Milan). */
  readonly eax: number;
  /** EBX[15:12]: number of VMPLs. */
  readonly vmpls: number;
  readonly firmware: { readonly major: number; readonly minors: readonly [number, number] };
  readonly snp: boolean;
}

export const GENERATION_FACTS: Readonly<Record<ServerGeneration, GenerationFacts>> = {
  naples: { template: 'naples-7001', physBits: 48, maxAsids: 15, eax: 0x0000000f, vmpls: 0, firmware: { major: 0, minors: [14, 17] }, snp: false },
  rome: { template: 'rome-7002', physBits: 48, maxAsids: 509, eax: 0x0001000f, vmpls: 0, firmware: { major: 0, minors: [22, 24] }, snp: false },
  milan: { template: 'milan-7003-es8', physBits: 52, maxAsids: 509, eax: 0x0101fd3f, vmpls: 4, firmware: { major: 1, minors: [49, 55] }, snp: true },
  genoa: { template: 'genoa-9004', physBits: 52, maxAsids: 1006, eax: 0x0101fd3f, vmpls: 4, firmware: { major: 1, minors: [55, 55] }, snp: true },
  turin: { template: 'turin-9005', physBits: 52, maxAsids: 1006, eax: 0x0101fd3f, vmpls: 4, firmware: { major: 1, minors: [55, 55] }, snp: true },
};

export const SERVER_GENERATIONS = Object.keys(GENERATION_FACTS) as ServerGeneration[];

/** How the kernel command line sets one kvm_amd parameter: on, off, or not at all (the kernel's default). */
type ParamChoice = 'on' | 'off' | 'default';

/** The raw draws a host is built from; fast-check shrinks these, the builder keeps them consistent. */
export interface HostDraw {
  readonly generation: ServerGeneration;
  readonly stack: number;
  /** CPUID ECX: 1 … the generation's ASIDs. */
  readonly asids: number;
  /** ES ASIDs as a share of ECX: EDX − 1 = ⌊esAsids × ECX / maxAsids⌋, so 0 … ECX (all-ES). */
  readonly esAsids: number;
  /** Host address reduction, 1 … 6; the C-bit is `physBits − 1 − cbitBelowTop`, within the reduced bits. */
  readonly reduction: number;
  readonly cbitBelowTop: number;
  readonly firmwareMinor: number;
  readonly firmwareBuild: number;
  readonly snpInBios: boolean;
  readonly sev: ParamChoice;
  readonly sevEs: ParamChoice;
  readonly sevSnp: ParamChoice;
  readonly devSev: 'present-0600' | 'present-0666' | 'missing';
  readonly staleCache: boolean;
  readonly sockets: number;
  readonly ramGiB: number;
  readonly reservedGiB: number;
  readonly memlockKiB: number;
}

/** Weighted towards hosts that have SEV, so most generated hosts exercise the SEV cases; shrinks towards 'on'. */
const weighted = <T,>(...choices: ReadonlyArray<readonly [T, number]>): fc.Arbitrary<T> =>
  fc.oneof(...choices.map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })));
const paramChoice = weighted<ParamChoice>(['on', 3], ['default', 2], ['off', 1]);

/** The draws; integer ranges that depend on an earlier draw are fractions scaled in `buildHost`. */
export const hostDrawArbitrary: fc.Arbitrary<HostDraw> = fc
  .constantFrom(...SERVER_GENERATIONS)
  .chain((generation) => {
    const g = GENERATION_FACTS[generation];
    return fc.record({
      generation: fc.constant(generation),
      stack: fc.integer({ min: 0, max: SUPPORTED_STACKS.length - 1 }).map((i) => SUPPORTED_STACKS.length - 1 - i),
      asids: fc.integer({ min: 1, max: g.maxAsids }),
      // A share of ECX for ES (0 … maxAsids scaled down); now and then every ASID (all-ES, §1.4).
      esAsids: fc.oneof({ arbitrary: fc.nat({ max: g.maxAsids }), weight: 9 }, { arbitrary: fc.constant(g.maxAsids), weight: 1 }),
      reduction: fc.integer({ min: 1, max: 6 }),
      cbitBelowTop: fc.nat({ max: 5 }),
      firmwareMinor: fc.integer({ min: g.firmware.minors[0], max: g.firmware.minors[1] }),
      firmwareBuild: fc.integer({ min: 1, max: 64 }),
      snpInBios: fc.boolean(),
      sev: paramChoice,
      sevEs: paramChoice,
      sevSnp: paramChoice,
      devSev: weighted<HostDraw['devSev']>(['present-0600', 4], ['present-0666', 2], ['missing', 1]),
      staleCache: weighted([false, 3], [true, 1]),
      sockets: fc.integer({ min: 1, max: 2 }),
      ramGiB: fc.integer({ min: 64, max: 2048 }),
      reservedGiB: fc.integer({ min: 2, max: 8 }),
      memlockKiB: fc.constantFrom(8192, 64, 65536),
    });
  });

/** A deterministic UUID for a generated host (libvirt's host UUID), from its name. */
function hostUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** QEMU's machine types for its version: the current i440fx and q35 under their aliases, and one older q35. */
function machineTypes(qemu: string): NonNullable<HardwareProfileInput['qemu']['machineTypes']> {
  const [major, minor] = qemu.split('.').map(Number) as [number, number];
  const v = `${major}.${minor}`;
  const older = minor > 0 ? `${major}.${minor - 1}` : `${major - 1}.2`;
  return [
    { name: `pc-i440fx-${v}`, alias: 'pc', maxCpus: 255, default: true },
    { name: `pc-q35-${v}`, alias: 'q35', maxCpus: 288 },
    { name: `pc-i440fx-${older}`, maxCpus: 255 },
    { name: `pc-q35-${older}`, maxCpus: 288 },
  ];
}

const cmdlineParam = (param: string, choice: ParamChoice): string => (choice === 'default' ? '' : ` kvm_amd.${param}=${choice === 'on' ? 1 : 0}`);

/** One host from its draws; the result is a valid profile whatever the draws (the schema checks it). */
export function buildHost(name: string, d: HostDraw): HardwareProfile {
  const g = GENERATION_FACTS[d.generation];
  const template = allProfiles().get(g.template);
  if (!template) throw new Error(`generated hosts borrow the CPU of ${g.template}, which is not bundled`);
  const stack = SUPPORTED_STACKS[d.stack]!;
  const ecx = Math.min(d.asids, g.maxAsids);
  const edx = Math.floor((Math.min(d.esAsids, g.maxAsids) * ecx) / g.maxAsids) + 1;
  const cbitpos = g.physBits - 1 - Math.min(d.cbitBelowTop, d.reduction - 1);
  const ebx = (g.vmpls << 12) | (d.reduction << 6) | cbitpos;
  const snpInBios = g.snp && d.snpInBios;
  const staleCache = d.staleCache && !versionAtLeast(stack.libvirt, 6, 5);
  const input: HardwareProfileInput = {
    name,
    description: `Generated ${d.generation} host: ${ecx} ASIDs (ES limit ${edx}), C-bit ${cbitpos}, reduction ${d.reduction}; ${stack.distro} (kernel ${stack.kernel}, libvirt ${stack.libvirt}, QEMU ${stack.qemu}).`,
    generation: d.generation,
    arch: 'x86_64',
    cpu: { ...template.cpu, sockets: d.sockets, numaNodes: d.sockets },
    cpuid8000001f: { eax: g.eax, ebx, ecx, edx },
    firmware: { apiMajor: g.firmware.major, apiMinor: d.firmwareMinor, build: d.firmwareBuild, snpEnabledInBios: snpInBios },
    kernel: {
      version: stack.kernel,
      cmdline: `BOOT_IMAGE=/vmlinuz-${stack.kernel} root=/dev/sda1 ro mem_encrypt=on${cmdlineParam('sev', d.sev)}${cmdlineParam('sev_es', d.sevEs)}${cmdlineParam('sev_snp', d.sevSnp)}`,
    },
    devSev: { present: d.devSev !== 'missing', mode: d.devSev === 'present-0666' ? '0666' : '0600', owner: 'root', group: 'root' },
    libvirt: { version: stack.libvirt, capabilityCacheStale: staleCache, hostname: `${name}.lab`, hostUuid: hostUuid(name) },
    qemu: {
      version: stack.qemu,
      emulator: '/usr/bin/qemu-system-x86_64',
      machineTypes: machineTypes(stack.qemu),
      ovmf: [
        { code: `${stack.ovmfDir}/OVMF_CODE${stack.ovmfSuffix}.fd`, vars: `${stack.ovmfDir}/OVMF_VARS${stack.ovmfSuffix}.fd` },
        { code: `${stack.ovmfDir}/OVMF_CODE${stack.ovmfSuffix}.secboot.fd`, vars: `${stack.ovmfDir}/OVMF_VARS${stack.ovmfSuffix}.ms.fd` },
      ],
    },
    memory: {
      totalKiB: d.ramGiB * 1024 * 1024,
      reservedKiB: d.reservedGiB * 1024 * 1024,
      hugepages2M: 0,
      hugepages1G: 0,
      defaultMemlockKiB: d.memlockKiB,
    },
  };
  return HardwareProfileSchema.parse(input);
}

/** A host arbitrary naming its hosts `name`; fast-check shrinks the draws, never the consistency. */
export const hostArbitrary = (name: string): fc.Arbitrary<HardwareProfile> => hostDrawArbitrary.map((d) => buildHost(name, d));

// ---- references -------------------------------------------------------------------------------

/** The seed of `generated:N` without one: fixed, so the default run judges the same hosts every time. */
export const DEFAULT_GENERATED_SEED = 20261207;
/** How many generated hosts the default `sevharness conformance` run adds to the bundled ones. */
export const DEFAULT_GENERATED_COUNT = 3;
/** Enough hosts for a long look; more is a mistake in the argument. */
export const MAX_GENERATED = 1000;

const GENERATED_NAME = /^gen-(\d{1,10})-(\d{1,4})$/;
const GENERATED_SPEC = /^generated:(\d+)(?::(\d{1,10}))?$/;

export class GeneratedSpecError extends Error {
  override readonly name = 'GeneratedSpecError';
}

export const generatedName = (seed: number, index: number): string => `gen-${seed}-${index}`;

/** `generated:N[:SEED]` → the N host names; null when `text` is not such a spec. */
export function expandGeneratedSpec(text: string): string[] | null {
  if (!text.startsWith('generated:')) return null;
  const m = GENERATED_SPEC.exec(text);
  if (!m) throw new GeneratedSpecError(`'${text}' is not generated:N or generated:N:SEED (N and SEED unsigned integers)`);
  const n = Number(m[1]);
  const seed = m[2] === undefined ? DEFAULT_GENERATED_SEED : Number(m[2]);
  if (n < 1 || n > MAX_GENERATED) throw new GeneratedSpecError(`generated:N needs 1 ≤ N ≤ ${MAX_GENERATED}, got ${n}`);
  if (seed > 0x7fffffff) throw new GeneratedSpecError(`the seed of '${text}' must be below 2^31`);
  return Array.from({ length: n }, (_, i) => generatedName(seed, i));
}

export function isGeneratedName(name: string): boolean {
  return GENERATED_NAME.test(name);
}

const drawCache = new Map<number, HostDraw[]>();

/** The first `count` draws of a seed, as fast-check's runner produces them (so `path` replays them). */
function drawsOf(seed: number, count: number): HostDraw[] {
  const have = drawCache.get(seed) ?? [];
  if (have.length < count) {
    const more = fc.sample(hostDrawArbitrary, { seed, numRuns: count });
    drawCache.set(seed, more);
    return more;
  }
  return have;
}

/** The host a `gen-SEED-I` name stands for; null for any other name. */
export function generatedProfile(name: string): HardwareProfile | null {
  const m = GENERATED_NAME.exec(name);
  if (!m) return null;
  const seed = Number(m[1]);
  const index = Number(m[2]);
  return buildHost(name, drawsOf(seed, index + 1)[index]!);
}

// ---- shrinking --------------------------------------------------------------------------------

export interface ShrunkHost {
  /** The smallest host found on which `fails` still holds. */
  readonly profile: HardwareProfile;
  /** How many hosts the shrinker tried. */
  readonly tried: number;
  /** False when the shrinker ran out of time before it finished. */
  readonly complete: boolean;
}

/**
 * Replays the host `gen-SEED-I` through fast-check's shrinker: `fails(host)` is asked of ever
 * smaller hosts and the smallest one that still fails is returned (named `gen-SEED-I-min`). Null
 * when the original host does not fail (the failure did not reproduce).
 */
export async function shrinkFailingHost(name: string, fails: (p: HardwareProfile) => Promise<boolean>, budgetMs = 60_000): Promise<ShrunkHost | null> {
  const m = GENERATED_NAME.exec(name);
  if (!m) throw new GeneratedSpecError(`${name} is not a generated host`);
  const seed = Number(m[1]);
  const index = Number(m[2]);
  let tried = 0;
  const result = await fc.check(
    fc.asyncProperty(hostArbitrary(`${name}-min`), async (p) => {
      tried++;
      return !(await fails(p));
    }),
    { seed, path: String(index), numRuns: index + 1, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false },
  );
  if (!result.failed || result.counterexample === null) return null;
  return { profile: result.counterexample[0], tried, complete: !result.interrupted };
}
