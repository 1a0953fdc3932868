/**
 * A real host as a hardware profile: the raw facts read from its files and its libvirtd are turned
 * into the profile schema so `profileTruth()` judges it with the same formulas as every fake host.
 * The mapping inverts what the fake derives (libvirt's maxGuests formula, the kernel's parameter
 * state), and where a fact cannot be read it is left at "none" (no ASIDs, no firmware facts) rather
 * than invented. The synthesized truth is then checked against everything the host itself reports;
 * any disagreement is a mismatch, and a host with mismatches cannot be judged honestly.
 *
 * Derivations (each also recorded in `Synthesis.derivations` for the report):
 * - cpu: vendor/family/model/stepping/flags from /proc/cpuinfo; `svm` is kept only when kvm_amd is
 *   loaded, because the fake reads "svm present" as "kvm_amd loaded". libvirtModel from capabilities.
 * - CPUID 0x8000001F: EAX from the cpuinfo flags (sme, sev, sev_es, sev_snp); EBX[5:0] = cbitpos
 *   from domcaps; ECX/EDX inverted from libvirt's maxGuests = ECX − EDX + 1 and maxESGuests =
 *   EDX − 1, else from the misc cgroup's capacities (same formulas in KVM); none known → 0/0.
 *   EBX[11:6] (host address reduction) is not exposed anywhere and stays 0; no truth uses it.
 * - firmware: only on AMD hosts with /dev/sev; the API version is not readable without SEV ioctls and
 *   is recorded as 0.0 build 0; SNP-in-BIOS = the kernel's sev_snp parameter reads on.
 * - kernel: release's numeric part; the command line with `kvm_amd.*=` replaced by what the module
 *   parameters actually read, so the fake's "requested" equals the real state.
 * - devSev: presence, mode and owner from stat(/dev/sev).
 * - libvirt/QEMU: versions, hostname, host UUID, emulator and machine types (aliases folded into
 *   their canonical machine, default from the machine-less domcaps) from the daemon; OVMF pairs
 *   from the QEMU firmware descriptors (only loaders with a descriptor naming their vars template).
 * - memory: MemTotal; reserved = MemTotal − MemAvailable (what the host uses now); hugepages from
 *   meminfo/sysfs; default memlock = this process's RLIMIT_MEMLOCK (unlimited → all RAM).
 */
import { createHash } from 'node:crypto';
import { HardwareProfileSchema, DERIVED_CPU_FLAGS, type Generation, type HardwareProfile, type HardwareProfileInput } from '../../fakelibvirt/profile/schema.ts';
import { libvirtReprobesOnSevChange } from '../../fakelibvirt/profile/derive.ts';
import { profileTruth, type ProfileTruth } from '../truth.ts';
import { HostFactsError, type HostFileFacts, type HostTree, type KvmAmdParamName } from './host-files.ts';
import type { DomcapsFacts, LibvirtFacts } from './libvirt-facts.ts';

export interface Synthesis {
  readonly profile: HardwareProfile;
  readonly truth: ProfileTruth;
  /** How the SEV-relevant facts were obtained, one line each, for the report. */
  readonly derivations: readonly string[];
  /** Facts the host reports that the synthesized truth contradicts; non-empty = not judgeable. */
  readonly mismatches: readonly string[];
}

/** The kernel's truthy spellings of a module parameter (int 1 before 5.13, bool Y after). */
export const paramOn = (raw: string | undefined): boolean => raw !== undefined && ['1', 'y', 'Y'].includes(raw.trim());

/** Generation by CPU family/model, as virtee and sevctl classify EPYC parts. */
export function generationOf(vendor: string, family: number, model: number): Generation {
  if (vendor !== 'AuthenticAMD') return 'intel';
  if (family === 0x17) return model <= 0x30 ? 'naples' : model <= 0x3f ? 'rome' : 'client';
  if (family === 0x19) {
    if (model <= 0x0f) return 'milan';
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return 'genoa';
    return 'client';
  }
  if (family === 0x1a) return model <= 0x11 ? 'turin' : 'client';
  return 'client';
}

/** `sev N` / `sev_es N` lines of misc.capacity. */
export function parseMiscCapacity(text: string | null): { sev?: number; sev_es?: number } | null {
  if (text === null) return null;
  const out: { sev?: number; sev_es?: number } = {};
  for (const line of text.split('\n')) {
    const m = /^(sev|sev_es)\s+(\d+)$/.exec(line.trim());
    if (m) out[m[1] as 'sev' | 'sev_es'] = Number(m[2]);
  }
  return out;
}

interface AsidCounts {
  readonly ecx: number;
  readonly edx: number;
  readonly source: string;
}

function asidCounts(files: HostFileFacts, sev: DomcapsFacts['sev']): AsidCounts {
  if (sev && sev.maxGuests !== null && sev.maxESGuests !== null) {
    const edx = sev.maxESGuests + 1;
    return { ecx: sev.maxGuests + edx - 1, edx, source: `domcaps maxGuests ${sev.maxGuests} / maxESGuests ${sev.maxESGuests}` };
  }
  const misc = parseMiscCapacity(files.miscCapacity);
  if (misc?.sev !== undefined || misc?.sev_es !== undefined) {
    const edx = (misc.sev_es ?? 0) + 1;
    return { ecx: (misc.sev ?? 0) + edx - 1, edx, source: `misc.capacity sev ${misc.sev ?? 0} / sev_es ${misc.sev_es ?? 0}` };
  }
  const raw = files.cpuid8000001f;
  if (raw) return { ecx: raw[2], edx: raw[3], source: `CPUID 0x8000001F through the cpuid device: ECX ${raw[2]} / EDX ${raw[3]}` };
  return { ecx: 0, edx: 0, source: 'not readable (no domcaps maxGuests, no misc cgroup, no cpuid device): recorded as 0' };
}

/** The numeric part of a kernel release (`6.18.44-fc-v769` → `6.18.44`). */
export function kernelVersion(release: string): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) throw new HostFactsError(`kernel release '${release}' has no version number`);
  return m[3] === undefined ? `${m[1]}.${m[2]}` : `${m[1]}.${m[2]}.${m[3]}`;
}

/** The command line with the kvm_amd SEV parameters stated as the module reports them. */
export function effectiveCmdline(cmdline: string, params: HostFileFacts['kvmAmdParams']): string {
  const kept = cmdline.split(/\s+/).filter((w) => w !== '' && !/^kvm_amd\.(sev|sev_es|sev_snp)=/.test(w));
  for (const p of ['sev', 'sev_es', 'sev_snp'] as const) {
    if (params[p] !== undefined) kept.push(`kvm_amd.${p}=${paramOn(params[p]) ? 1 : 0}`);
  }
  return kept.join(' ');
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** SMBIOS UUIDs are not always RFC 4122; such a host gets a stable v4-shaped UUID from its name. */
function hostUuid(raw: string | null, hostname: string): string {
  if (raw && UUID_RE.test(raw)) return raw.toLowerCase();
  const h = createHash('sha256').update(`sevharness-real:${hostname}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** OVMF code → vars template, from QEMU's firmware descriptors (docs/interop/firmware.json). */
export function ovmfPairs(tree: HostTree, loaders: readonly string[]): Array<{ code: string; vars: string }> {
  const varsOf = new Map<string, string>();
  for (const dir of ['usr/share/qemu/firmware', 'etc/qemu/firmware']) {
    for (const f of tree.list(dir).filter((n) => n.endsWith('.json'))) {
      try {
        const d = JSON.parse(tree.readText(`${dir}/${f}`) ?? 'null') as { mapping?: { executable?: { filename?: unknown }; 'nvram-template'?: { filename?: unknown } } } | null;
        const code = d?.mapping?.executable?.filename;
        const vars = d?.mapping?.['nvram-template']?.filename;
        if (typeof code === 'string' && typeof vars === 'string' && !varsOf.has(code)) varsOf.set(code, vars);
      } catch {
        // a malformed descriptor describes nothing
      }
    }
  }
  return loaders.flatMap((code) => {
    const vars = varsOf.get(code);
    return vars && code.startsWith('/') && vars.startsWith('/') ? [{ code, vars }] : [];
  });
}

function machineTypes(lv: LibvirtFacts): HardwareProfileInput['qemu']['machineTypes'] {
  const byName = new Map<string, { name: string; alias?: string; maxCpus: number; default: boolean }>();
  for (const m of lv.capabilities.machines) if (!m.canonical) byName.set(m.name, { name: m.name, maxCpus: m.maxCpus, default: false });
  for (const m of lv.capabilities.machines) {
    if (!m.canonical) continue;
    const target = byName.get(m.canonical) ?? { name: m.canonical, maxCpus: m.maxCpus, default: false };
    target.alias ??= m.name;
    byName.set(m.canonical, target);
  }
  const def = lv.defaultDomcaps.machine;
  const hit = def ? (byName.get(def) ?? [...byName.values()].find((m) => m.alias === def)) : undefined;
  if (hit) hit.default = true;
  return [...byName.values()];
}

function profileName(hostname: string): string {
  const slug = hostname.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `real-${slug || 'host'}`;
}

/** Builds the profile; throws HostFactsError with the schema's complaints when facts do not fit. */
export function synthesizeProfile(files: HostFileFacts, lv: LibvirtFacts, tree: HostTree): { profile: HardwareProfile; derivations: string[] } {
  const derivations: string[] = [];
  const c = files.cpu;
  if (c.vendor !== 'AuthenticAMD' && c.vendor !== 'GenuineIntel') {
    throw new HostFactsError(`CPU vendor '${c.vendor}' cannot be modelled (only AuthenticAMD and GenuineIntel)`);
  }
  const amd = c.vendor === 'AuthenticAMD';
  const derived = DERIVED_CPU_FLAGS as readonly string[];
  const flags = c.flags.filter((f) => /^[a-z0-9_]+$/.test(f) && !derived.includes(f) && (f !== 'svm' || files.kvmAmdLoaded));
  if (amd && c.flags.includes('svm') && !files.kvmAmdLoaded) derivations.push('svm: left out because kvm_amd is not loaded');

  const sevFacts = lv.q35Domcaps?.sev ?? null;
  let cpuid: HardwareProfileInput['cpuid8000001f'] = null;
  if (amd) {
    const counted = asidCounts(files, sevFacts);
    // CPUID counts ASIDs the PSP firmware hands out; without /dev/sev there is no firmware to use them.
    const asids = !files.devSev && counted.source.startsWith('CPUID') ? { ecx: 0, edx: 0, source: `${counted.source}, recorded as 0: no /dev/sev (no SEV firmware)` } : counted;
    const has = (f: string) => c.flags.includes(f);
    const raw = files.cpuid8000001f;
    // The device gives the hardware's EAX/EBX; without it they are rebuilt from what the kernel shows.
    const eax = raw ? raw[0] : (has('sme') ? 1 : 0) | (has('sev') || asids.ecx > 0 ? 2 : 0) | (has('sev_es') ? 8 : 0) | (has('sev_snp') ? 16 : 0);
    const cbitpos = sevFacts?.cbitpos ?? (raw ? raw[1] & 0x3f : 0);
    cpuid = { eax, ebx: raw ? raw[1] : cbitpos & 0x3f, ecx: asids.ecx, edx: asids.edx };
    derivations.push(`CPUID 0x8000001F ECX/EDX (ASIDs): ${asids.source}`);
    derivations.push(`cbitpos: ${sevFacts?.cbitpos !== null && sevFacts?.cbitpos !== undefined ? 'domcaps <sev>' : raw ? 'CPUID 0x8000001F EBX[5:0]' : 'not reported by libvirt, no cpuid device: recorded as 0'}`);
  } else {
    derivations.push('CPUID 0x8000001F: none (not an AMD CPU)');
  }

  const devSev = files.devSev;
  const firmware = amd && devSev ? { apiMajor: 0, apiMinor: 0, build: 0, snpEnabledInBios: paramOn(files.kvmAmdParams.sev_snp) } : null;
  derivations.push(devSev ? `/dev/sev: present, mode 0${(devSev.mode & 0o777).toString(8)}` : '/dev/sev: absent');
  derivations.push(
    files.kvmAmdLoaded
      ? `kvm_amd: ${(['sev', 'sev_es', 'sev_snp'] as KvmAmdParamName[]).map((p) => `${p}=${files.kvmAmdParams[p]?.trim() ?? '(no file)'}`).join(' ')}`
      : 'kvm_amd: not loaded',
  );
  derivations.push(`misc.capacity: ${files.miscCapacity === null ? 'absent' : JSON.stringify(files.miscCapacity.trim())}`);

  const emulator = lv.capabilities.emulator;
  if (!emulator) throw new HostFactsError(`libvirt at ${lv.uri} lists no x86_64 hvm guest (no QEMU emulator)`);
  const machines = machineTypes(lv);
  if (machines.length === 0) throw new HostFactsError(`libvirt at ${lv.uri} lists no x86_64 machine types`);

  const memAvailable = files.memAvailableKiB ?? files.memTotalKiB;
  const input: HardwareProfileInput = {
    name: profileName(lv.hostname),
    description: `Real host ${lv.hostname}: facts read from ${tree.root} and ${lv.uri}.`,
    generation: generationOf(c.vendor, c.family, c.model),
    cpu: {
      vendor: c.vendor,
      family: c.family,
      model: c.model,
      stepping: c.stepping,
      modelName: c.modelName,
      libvirtModel: lv.capabilities.cpuModel ?? c.modelName,
      sockets: c.sockets,
      coresPerSocket: c.coresPerSocket,
      threadsPerCore: c.threadsPerCore,
      mhz: c.mhz,
      numaNodes: files.numaNodes,
      flags: flags.length > 0 ? flags : ['fpu'],
    },
    cpuid8000001f: cpuid,
    firmware,
    kernel: { version: kernelVersion(files.kernelRelease), cmdline: effectiveCmdline(files.cmdline, files.kvmAmdParams) },
    devSev: devSev
      ? { present: true, mode: `0${(devSev.mode & 0o777).toString(8).padStart(3, '0')}`, owner: devSev.uid === 0 ? 'root' : String(devSev.uid), group: devSev.gid === 0 ? 'root' : String(devSev.gid) }
      : { present: false },
    libvirt: { version: lv.libvirtVersion, capabilityCacheStale: false, hostname: lv.hostname || 'localhost', hostUuid: hostUuid(lv.capabilities.hostUuid, lv.hostname) },
    qemu: { version: lv.qemuVersion, emulator, machineTypes: machines, ovmf: ovmfPairs(tree, lv.q35Domcaps?.loaders ?? []) },
    memory: {
      totalKiB: files.memTotalKiB,
      reservedKiB: Math.max(0, files.memTotalKiB - memAvailable),
      hugepages2M: files.hugepages2M,
      hugepages1G: files.hugepages1G,
      defaultMemlockKiB: files.memlockKiB ?? files.memTotalKiB,
    },
  };
  const parsed = HardwareProfileSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new HostFactsError(`the host's facts do not form a valid hardware profile: ${issues}`);
  }
  // A libvirt that does not re-probe QEMU when SEV is switched on keeps the capabilities it cached
  // before: the model would let it see SEV, yet it shows none. That is the stale cache, not a mismatch.
  const stale = (lv.q35Domcaps?.sev ?? null) === null && lv.q35Domcaps !== null && !libvirtReprobesOnSevChange(parsed.data) && profileTruth(parsed.data).sev !== null;
  if (stale) {
    derivations.push(`capability cache: stale (libvirt ${lv.libvirtVersion} shows no <sev> though the kernel, /dev/sev and QEMU offer it; it does not re-probe before 6.5)`);
    return { profile: { ...parsed.data, libvirt: { ...parsed.data.libvirt, capabilityCacheStale: true } }, derivations };
  }
  return { profile: parsed.data, derivations };
}

/** Everything the host reports that the truth of its synthesized profile contradicts. */
export function mismatches(truth: ProfileTruth, files: HostFileFacts, lv: LibvirtFacts): string[] {
  const out: string[] = [];
  if (truth.kernel.kvmAmdLoaded !== files.kvmAmdLoaded) {
    out.push(`kvm_amd is ${files.kvmAmdLoaded ? '' : 'not '}loaded, the model says it is ${truth.kernel.kvmAmdLoaded ? '' : 'not '}`);
  }
  for (const p of ['sev', 'sev_es', 'sev_snp'] as const) {
    const seen = files.kvmAmdParams[p];
    const model = truth.kernel.sysfs[p];
    if ((seen === undefined) !== (model === undefined)) {
      out.push(`kvm_amd parameter ${p}: ${seen === undefined ? 'no file' : `reads ${seen.trim()}`}, the model has ${model === undefined ? 'no file' : model.trim()}`);
    } else if (seen !== undefined && model !== undefined && paramOn(seen) !== paramOn(model)) {
      out.push(`kvm_amd parameter ${p} reads ${seen.trim()}, the model derives ${model.trim()} (hardware, /dev/sev or firmware disagree)`);
    }
  }
  const misc = parseMiscCapacity(files.miscCapacity);
  if (misc !== null) {
    for (const r of ['sev', 'sev_es'] as const) {
      const model = truth.kernel.miscCapacity?.[r];
      if (misc[r] !== model) out.push(`misc.capacity ${r}: host ${misc[r] ?? 'none'}, model ${model ?? 'none'}`);
    }
  }
  const seen = lv.q35Domcaps?.sev ?? null;
  const model = truth.sevAtStart;
  if ((seen === null) !== (model === null)) {
    out.push(`libvirt domcaps <sev> is ${seen ? 'supported' : 'unsupported'}, the model says ${model ? 'supported' : 'unsupported'}`);
  } else if (seen && model) {
    const pairs: Array<[string, number | null, number]> = [
      ['cbitpos', seen.cbitpos, model.cbitpos],
      ['reducedPhysBits', seen.reducedPhysBits, model.reducedPhysBits],
      ['maxGuests', seen.maxGuests, model.maxGuests],
      ['maxESGuests', seen.maxESGuests, model.maxESGuests],
    ];
    for (const [k, s, m] of pairs) if (s !== null && s !== m) out.push(`domcaps ${k}: host ${s}, model ${m}`);
    const sectypes = lv.q35Domcaps?.sectypes ?? [];
    if (sectypes.length > 0 && [...sectypes].sort().join(',') !== [...model.sectypes].sort().join(',')) {
      out.push(`launchSecurity sectypes: host ${sectypes.join(',')}, model ${model.sectypes.join(',')}`);
    }
  }
  return out;
}

export function synthesize(files: HostFileFacts, lv: LibvirtFacts, tree: HostTree): Synthesis {
  const { profile, derivations } = synthesizeProfile(files, lv, tree);
  const truth = profileTruth(profile);
  const found = mismatches(truth, files, lv);
  if (found.length > 0 && paramOn(files.kvmAmdParams.sev) && derivations.some((d) => d.includes('ASIDs): not readable'))) {
    found.unshift('SEV is on but its ASID counts are not readable here (domcaps lacks maxGuests before libvirt 8.0, the misc cgroup needs kernel 5.13)');
  }
  return { profile, truth, derivations, mismatches: found };
}
