/**
 * `sevharness doctor`: can this host run SEV guests, and if not, why and how to fix it. The checks
 * follow the admin guides' order (libvirt kbase launch_security_sev "Enabling SEV on the host" and
 * "Checking SEV support in the virt stack", virt-host-validate's secure-guest checks, nova's host
 * detection): the CPU, the kernel command line, the kvm_amd parameters, /dev/sev, libvirt's domain
 * capabilities (and a stale capability cache), the ASID split, then what guests need — memlock,
 * OVMF — and SNP readiness. Host files are read under a sysroot (`/` on a real host, a fake host's
 * materialised tree otherwise); libvirt through its URI. A check that fails is a reason the host
 * cannot run SEV guests; a warning is advice that does not stop them.
 */
import { versionAtLeast } from '../../fakelibvirt/profile/version.ts';
import { connect } from '../../src/libvirt/client.ts';
import { parseCpuinfo, parseMemlockKiB, type HostTree } from './host-files.ts';
import { readLibvirtFacts, usableDomainType, type DomcapsFacts } from './libvirt-facts.ts';
import { paramOn, parseMiscCapacity } from './synthesize.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface DoctorFinding {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found, in one line. */
  readonly found: string;
  /** How to fix it (fail and warn only). */
  readonly fix?: string;
}

/** What libvirt said; null fields when the daemon could not be asked. */
export interface DoctorLibvirt {
  readonly uri: string;
  /** Why libvirt could not be asked (connection refused, …); null when it answered. */
  readonly error: string | null;
  readonly libvirtVersion: string | null;
  readonly qemuVersion: string | null;
  readonly q35: DomcapsFacts | null;
}

export interface DoctorInput {
  readonly tree: HostTree;
  readonly libvirt: DoctorLibvirt;
}

export interface DoctorReport {
  readonly findings: readonly DoctorFinding[];
  /** The host can run SEV guests: no check failed. */
  readonly ready: boolean;
  /** The failed checks' titles, in order. */
  readonly reasons: readonly string[];
}

/** The facts every check may look at, read once and tolerantly (a missing file is a finding). */
interface HostView {
  readonly tree: HostTree;
  readonly lv: DoctorLibvirt;
  readonly cpu: ReturnType<typeof parseCpuinfo> | null;
  readonly cpuError: string | null;
  readonly cmdline: string;
  readonly kernel: string | null;
  readonly params: Readonly<Record<'sev' | 'sev_es' | 'sev_snp', string | undefined>>;
  readonly kvmAmdLoaded: boolean;
}

const KVM_AMD = 'sys/module/kvm_amd/parameters';
/** libvirt from which the QEMU probe opens /dev/sev itself (kbase: "libvirt <=5.1.0 … Permission denied"). */
const LIBVIRT_DEV_SEV_FIX = [5, 1, 1] as const;
/** libvirt from which a kvm_amd or /dev/sev change makes it re-probe QEMU (kbase: "libvirt (<6.5.0)"). */
const LIBVIRT_REPROBES = [6, 5] as const;
/** Kernel from which kvm_amd.sev defaults on (sev-hardware.md §2.1). */
const KERNEL_SEV_DEFAULT_ON = [5, 13] as const;
/** SNP host support: kernel 6.11, libvirt 10.5.0 (nova's SNP spec). */
const SNP_KERNEL = [6, 11] as const;
const SNP_LIBVIRT = [10, 5, 0] as const;
/** A 4 GiB guest with the kbase's 256 MiB allowance; below this a guest needs <locked/> or a hard limit. */
const MEMLOCK_HINT_KIB = 4 * 1024 * 1024 + 256 * 1024;

const kernelNumber = (release: string | null) => /^(\d+\.\d+(?:\.\d+)?)/.exec(release ?? '')?.[1] ?? null;
const wordOn = (cmdline: string, word: RegExp) => cmdline.split(/\s+/).some((w) => word.test(w));

function view(input: DoctorInput): HostView {
  const { tree } = input;
  let cpu: HostView['cpu'] = null;
  let cpuError: string | null = null;
  const text = tree.readText('proc/cpuinfo');
  if (text === null) cpuError = `cannot read ${tree.root.replace(/\/$/, '')}/proc/cpuinfo`;
  else {
    try {
      cpu = parseCpuinfo(text);
    } catch (e) {
      cpuError = (e as Error).message;
    }
  }
  const p = (n: string) => tree.readText(`${KVM_AMD}/${n}`) ?? undefined;
  return {
    tree,
    lv: input.libvirt,
    cpu,
    cpuError,
    cmdline: (tree.readText('proc/cmdline') ?? '').trim(),
    kernel: kernelNumber(tree.readText('proc/sys/kernel/osrelease')?.trim() ?? null),
    params: { sev: p('sev'), sev_es: p('sev_es'), sev_snp: p('sev_snp') },
    kvmAmdLoaded: tree.exists('sys/module/kvm_amd'),
  };
}

type Check = (v: HostView) => Omit<DoctorFinding, 'id' | 'title'>;

interface DoctorCheck {
  readonly id: string;
  readonly title: string;
  readonly run: Check;
}

const ok = (found: string) => ({ status: 'ok' as const, found });
const fail = (found: string, fix: string) => ({ status: 'fail' as const, found, fix });
const warn = (found: string, fix: string) => ({ status: 'warn' as const, found, fix });
const info = (found: string) => ({ status: 'info' as const, found });

const isAmd = (v: HostView) => v.cpu?.vendor === 'AuthenticAMD';

/** The ASID split as libvirt (8.0+), the misc cgroup (5.13+) or CPUID tell it; null when none can. */
function asidSplit(v: HostView): { sev: number; es: number; source: string } | null {
  const sev = v.lv.q35?.sev;
  if (sev && sev.maxGuests !== null) return { sev: sev.maxGuests, es: sev.maxESGuests ?? 0, source: 'libvirt domcaps' };
  const misc = parseMiscCapacity(v.tree.readText('sys/fs/cgroup/misc.capacity'));
  if (misc && paramOn(v.params.sev)) return { sev: misc.sev ?? 0, es: misc.sev_es ?? 0, source: 'misc.capacity' };
  const raw = v.tree.cpuid(0x8000001f);
  if (raw && raw[2] > 0 && raw[3] > 0) return { sev: Math.max(0, raw[2] - raw[3] + 1), es: raw[3] - 1, source: 'CPUID 0x8000001F' };
  return null;
}

export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  {
    id: 'cpu',
    title: 'AMD x86_64 CPU',
    run(v) {
      if (!v.cpu) return fail(v.cpuError ?? 'no CPU facts', 'SEV needs an AMD EPYC host (x86_64); run the doctor on one');
      const what = `${v.cpu.vendor} family ${v.cpu.family} model ${v.cpu.model} (${v.cpu.modelName})`;
      if (!isAmd(v)) return fail(`${what}: not an AMD CPU`, 'SEV is an AMD EPYC feature: schedule SEV guests on AMD EPYC hosts only');
      return ok(what);
    },
  },
  {
    id: 'cpu-sev',
    title: 'CPU offers SEV and the BIOS enabled it',
    run(v) {
      if (!isAmd(v)) return info('skipped: not an AMD CPU');
      const flags = v.cpu!.flags;
      const raw = v.tree.cpuid(0x8000001f);
      const shown = ['sme', 'sev', 'sev_es', 'sev_snp'].filter((f) => flags.includes(f));
      if (flags.includes('sev')) return ok(`/proc/cpuinfo flags: ${shown.join(' ')}`);
      if (raw && raw[2] === 0) return fail('CPUID 0x8000001F reports 0 SEV ASIDs (a client part, or SEV off in the BIOS)', 'SEV needs an EPYC server CPU with SEV enabled in the BIOS');
      if (raw && (raw[0] & 2) !== 0) {
        return fail(`CPUID 0x8000001F reports SEV but the kernel shows no 'sev' flag`, 'enable SME and SEV in the BIOS (Memory encryption / SEV-ES ASID space limit), then reboot');
      }
      return fail("/proc/cpuinfo has no 'sev' flag", 'enable SME/SEV in the BIOS; client Ryzen parts do not offer SEV');
    },
  },
  {
    id: 'cmdline',
    title: 'Kernel command line: mem_encrypt=on kvm_amd.sev=1',
    run(v) {
      if (!isAmd(v)) return info('skipped: not an AMD CPU');
      const sev = v.cmdline.split(/\s+/).find((w) => /^kvm_amd\.sev=/.test(w));
      const memEncrypt = wordOn(v.cmdline, /^mem_encrypt=on$/);
      const defaultOn = v.kernel !== null && versionAtLeast(v.kernel, ...KERNEL_SEV_DEFAULT_ON);
      const seen = `${sev ?? 'no kvm_amd.sev='}, ${memEncrypt ? 'mem_encrypt=on' : 'no mem_encrypt=on'} (kernel ${v.kernel ?? 'unknown'})`;
      const addFix = 'add "mem_encrypt=on kvm_amd.sev=1" to GRUB_CMDLINE_LINUX in /etc/default/grub (or "options kvm_amd sev=1" in /etc/modprobe.d/sev.conf), regenerate grub.cfg and reboot';
      if (sev && !paramOn(sev.split('=')[1])) return fail(`${seen}: SEV is switched off`, addFix);
      if (!sev && !defaultOn) return fail(`${seen}: before 5.13 kvm_amd leaves SEV off unless asked`, addFix);
      if (!memEncrypt) return warn(seen, 'mem_encrypt=on (SME for the host) is what the libvirt guide sets; SEV works without it');
      return ok(seen);
    },
  },
  {
    id: 'kvm-amd',
    title: 'kvm_amd loaded with sev enabled',
    run(v) {
      if (!isAmd(v)) return info('skipped: not an AMD CPU');
      if (!v.kvmAmdLoaded) return fail('kvm_amd is not loaded', "load it (modprobe kvm_amd) and check 'svm' is enabled in the BIOS");
      if (v.params.sev === undefined) return fail(`${KVM_AMD}/sev does not exist`, 'the running kernel has no SEV support: use a kernel >= 4.16 built with CONFIG_KVM_AMD_SEV');
      const all = (['sev', 'sev_es', 'sev_snp'] as const).map((p) => `${p}=${v.params[p]?.trim() ?? '-'}`).join(' ');
      if (!paramOn(v.params.sev)) return fail(`${KVM_AMD}: ${all}`, 'add kvm_amd.sev=1 to the kernel command line and reboot (virt-host-validate: "disabled in kernel")');
      return ok(`${KVM_AMD}: ${all}`);
    },
  },
  {
    id: 'dev-sev',
    title: '/dev/sev present and usable by QEMU',
    run(v) {
      if (!isAmd(v)) return info('skipped: not an AMD CPU');
      const st = v.tree.stat('dev/sev');
      if (!st) return fail('/dev/sev does not exist', 'AMD SEV appears to be disabled in firmware: enable SEV in the BIOS and check the ccp driver loaded (dmesg | grep -i sev)');
      if (st.kind !== undefined && st.kind !== 'chardev') return fail(`/dev/sev is a ${st.kind}, not a character device`, 'remove it and reboot so the ccp driver registers the real device');
      const mode = `0${(st.mode & 0o777).toString(8).padStart(3, '0')}`;
      const owner = `${st.uid === 0 ? 'root' : st.uid}:${st.gid === 0 ? 'root' : st.gid}`;
      const othersRw = (st.mode & 0o006) === 0o006;
      const lvOld = v.lv.libvirtVersion !== null && !versionAtLeast(v.lv.libvirtVersion, ...LIBVIRT_DEV_SEV_FIX);
      if (lvOld && !othersRw) {
        return fail(`mode ${mode} ${owner}; libvirt ${v.lv.libvirtVersion} probes QEMU as the QEMU user, which cannot open it`, 'upgrade libvirt to 5.1.1 or later, or let the QEMU user open it (chmod 0666 /dev/sev or a udev rule), then clear the capability cache');
      }
      return ok(`character device, mode ${mode} ${owner}${othersRw ? '' : '; libvirt passes it to each SEV guest\'s QEMU'}`);
    },
  },
  {
    id: 'libvirt-sev',
    title: "libvirt domain capabilities: <sev supported='yes'>",
    run(v) {
      if (v.lv.error !== null) return fail(`cannot ask libvirt at ${v.lv.uri}: ${v.lv.error}`, 'start libvirtd (or virtqemud) and run the doctor as a user allowed to connect');
      if (!v.lv.q35) return fail(`libvirt ${v.lv.libvirtVersion} at ${v.lv.uri} offers no x86_64 q35 machine`, 'install QEMU >= 2.12 with q35 (qemu-system-x86)');
      const sev = v.lv.q35.sev;
      if (sev) return ok(`q35 domcaps: cbitpos ${sev.cbitpos ?? '?'}, reducedPhysBits ${sev.reducedPhysBits ?? '?'} (libvirt ${v.lv.libvirtVersion}, QEMU ${v.lv.qemuVersion})`);
      const hostReady = isAmd(v) && paramOn(v.params.sev) && v.tree.stat('dev/sev') !== null;
      const lv = v.lv.libvirtVersion ?? '0';
      if (hostReady && v.lv.qemuVersion !== null && !versionAtLeast(v.lv.qemuVersion, 2, 12)) {
        return fail(`<sev supported='no'>: QEMU ${v.lv.qemuVersion} has no sev-guest`, 'install QEMU >= 2.12');
      }
      const devSev = v.tree.stat('dev/sev');
      if (hostReady && devSev && (devSev.mode & 0o006) !== 0o006 && !versionAtLeast(lv, ...LIBVIRT_DEV_SEV_FIX)) {
        return fail(`<sev supported='no'>: libvirt ${lv} probed QEMU as the QEMU user, which could not open /dev/sev`, 'fix /dev/sev above (or upgrade libvirt), then clear the capability cache: rm -f /var/cache/libvirt/qemu/capabilities/* and restart libvirtd');
      }
      if (hostReady && !versionAtLeast(lv, ...LIBVIRT_REPROBES)) {
        return fail(
          `<sev supported='no'> although the kernel and /dev/sev offer SEV: libvirt ${lv} kept a stale capability cache from before SEV was enabled`,
          'stop libvirtd, rm -f /var/cache/libvirt/qemu/capabilities/*, start libvirtd (libvirt >= 6.5 re-probes by itself)',
        );
      }
      return fail(`<sev supported='no'> (libvirt ${lv}, QEMU ${v.lv.qemuVersion ?? '?'})`, hostReady ? 'check the QEMU log of the capability probe; install QEMU >= 2.12 and libvirt >= 5.1.1' : 'fix the host checks above first; libvirt reports SEV once the kernel does');
    },
  },
  {
    id: 'asids',
    title: 'ASIDs for SEV guests (maxGuests / SEV-ES split)',
    run(v) {
      if (!isAmd(v)) return info('skipped: not an AMD CPU');
      if (!paramOn(v.params.sev)) return info('skipped: SEV is not enabled in kvm_amd');
      const split = asidSplit(v);
      if (!split) return warn('the ASID count is not readable (libvirt < 8.0, kernel < 5.13, no cpuid device)', 'load the cpuid module (modprobe cpuid) or set [libvirt]num_memory_encrypted_guests in nova.conf to the BIOS setting');
      const found = `${split.sev} SEV and ${split.es} SEV-ES guests (${split.source})`;
      if (split.sev === 0) {
        return fail(`${found}: every ASID is given to SEV-ES/SNP`, "lower the BIOS 'SEV-ES ASID Space Limit' (minimum SEV ASID) so plain SEV guests get ASIDs");
      }
      if (split.es === 0) return ok(`${found}; SEV-ES needs the BIOS 'SEV-ES ASID Space Limit' above 1`);
      return ok(found);
    },
  },
  {
    id: 'memlock',
    title: 'Memory pinning (RLIMIT_MEMLOCK)',
    run(v) {
      const limits = v.tree.readText('proc/self/limits');
      if (limits === null) return info('cannot read /proc/self/limits');
      const kib = parseMemlockKiB(limits);
      if (kib === null) return ok('unlimited');
      const found = `default memlock ${kib} KiB`;
      if (kib < MEMLOCK_HINT_KIB) {
        return warn(`${found}: SEV pins all guest RAM`, "give SEV guests <memoryBacking><locked/></memoryBacking> (libvirt lifts the limit) or <memtune><hard_limit> of RAM + 256 MiB; nova does this itself");
      }
      return ok(found);
    },
  },
  {
    id: 'ovmf',
    title: 'OVMF (UEFI) firmware for SEV guests',
    run(v) {
      const loaders = v.lv.q35?.loaders ?? [];
      const sevFirmware: string[] = [];
      for (const dir of ['usr/share/qemu/firmware', 'etc/qemu/firmware']) {
        for (const f of v.tree.list(dir).filter((n) => n.endsWith('.json'))) {
          try {
            const d = JSON.parse(v.tree.readText(`${dir}/${f}`) ?? 'null') as { features?: unknown; mapping?: { executable?: { filename?: unknown } } } | null;
            const code = d?.mapping?.executable?.filename;
            if (typeof code === 'string' && Array.isArray(d?.features) && d.features.includes('amd-sev')) sevFirmware.push(code);
          } catch {
            // a malformed descriptor names nothing
          }
        }
      }
      if (sevFirmware.length === 0 && loaders.length === 0) return fail('no OVMF: no QEMU firmware descriptor and no loader in domcaps', 'install OVMF (Debian/Ubuntu: ovmf; Fedora/RHEL: edk2-ovmf)');
      if (sevFirmware.length === 0) return warn(`domcaps loaders ${loaders.join(', ')}, but no firmware descriptor marks one amd-sev`, 'install a distribution OVMF whose descriptor lists the amd-sev feature');
      const missing = sevFirmware.filter((c) => !v.tree.exists(c.replace(/^\//, '')));
      const shown = `amd-sev firmware: ${[...new Set(sevFirmware)].join(', ')}`;
      if (missing.length === sevFirmware.length) return warn(`${shown}; none of these files exists`, 'reinstall the OVMF package');
      return ok(shown);
    },
  },
  {
    id: 'snp',
    title: 'SEV-SNP readiness (optional)',
    run(v) {
      if (!isAmd(v)) return info('skipped: not an AMD CPU');
      const missing: string[] = [];
      if (!v.cpu!.flags.includes('sev_snp')) missing.push("no 'sev_snp' CPU flag (Genoa or later, SNP enabled in the BIOS)");
      if (v.kernel === null || !versionAtLeast(v.kernel, ...SNP_KERNEL)) missing.push(`kernel ${v.kernel ?? '?'} < 6.11`);
      else if (!v.kvmAmdLoaded) missing.push('kvm_amd is not loaded');
      else if (!paramOn(v.params.sev_snp)) missing.push('kvm_amd sev_snp is off');
      if (v.lv.libvirtVersion !== null && !versionAtLeast(v.lv.libvirtVersion, ...SNP_LIBVIRT)) missing.push(`libvirt ${v.lv.libvirtVersion} < 10.5.0`);
      else if (v.lv.q35 && !v.lv.q35.sectypes.includes('sev-snp')) missing.push("domcaps lacks sectype 'sev-snp'");
      return missing.length === 0 ? ok('kernel, firmware and libvirt offer SNP') : info(`not ready: ${missing.join('; ')}`);
    },
  },
];

export function runDoctor(input: DoctorInput): DoctorReport {
  const v = view(input);
  const findings = DOCTOR_CHECKS.map((c) => ({ id: c.id, title: c.title, ...c.run(v) }));
  const failed = findings.filter((f) => f.status === 'fail');
  return { findings, ready: failed.length === 0, reasons: failed.map((f) => `${f.title}: ${f.found}`) };
}

const LABEL: Record<CheckStatus, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]', info: '[info]' };

export function formatDoctor(r: DoctorReport, header: string): string {
  const lines = [header];
  for (const f of r.findings) {
    lines.push(`${LABEL[f.status]} ${f.title}: ${f.found}`);
    if (f.fix) lines.push(`       fix: ${f.fix}`);
  }
  lines.push(r.ready ? 'result: this host can run SEV guests' : `result: this host cannot run SEV guests (${r.reasons.length} reason${r.reasons.length === 1 ? '' : 's'})`);
  return `${lines.join('\n')}\n`;
}

/** Asks libvirt at `uri` what the doctor needs; a daemon that cannot be asked is a finding, not a crash. */
export async function doctorLibvirt(uri: string, tree: HostTree): Promise<DoctorLibvirt> {
  const kvm = tree.exists('dev/kvm') && (tree.exists('sys/module/kvm_amd') || tree.exists('sys/module/kvm_intel'));
  let client: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    client = await connect(uri);
    const lv = await readLibvirtFacts(client, uri, (caps) => usableDomainType(caps, kvm));
    return { uri, error: null, libvirtVersion: lv.libvirtVersion, qemuVersion: lv.qemuVersion, q35: lv.q35Domcaps };
  } catch (e) {
    return { uri, error: e instanceof Error ? e.message : String(e), libvirtVersion: null, qemuVersion: null, q35: null };
  } finally {
    await client?.close().catch(() => undefined);
  }
}
