/**
 * The raw facts of a real host that live in files: /proc/cpuinfo, the kvm_amd module parameters,
 * /dev/sev, the misc cgroup, /proc/meminfo, the kernel release and command line. Everything is read
 * under a sysroot through a small reader, so tests feed recorded files and the real host is `/`.
 * A file that cannot be read is `null` here, never a guessed value.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface FileStat {
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** What the path is; a fake host's device placeholder is a `chardev` by its manifest. */
  readonly kind?: 'file' | 'dir' | 'chardev' | 'other';
}

/** A fake host's sysroot.json names its device nodes (fakelibvirt/views/sysroot.ts). */
interface ManifestDevice {
  readonly path: string;
  readonly kind: string;
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
  readonly registers?: Readonly<Record<string, CpuidRegs>>;
}

const leafKey = (leaf: number) => `0x${(leaf >>> 0).toString(16).padStart(8, '0')}`;

/** The cpuid driver answers a 16-byte read at offset `leaf` (subleaf 0) with the four registers. */
function readCpuidDevice(path: string, leaf: number): CpuidRegs | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(16);
    if (readSync(fd, buf, 0, 16, leaf >>> 0) !== 16) return null;
    return [buf.readUInt32LE(0), buf.readUInt32LE(4), buf.readUInt32LE(8), buf.readUInt32LE(12)];
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Device nodes a sysroot's manifest declares; empty on a real host, which has no manifest. */
function manifestDevices(root: string): Map<string, ManifestDevice> {
  const out = new Map<string, ManifestDevice>();
  try {
    const m = JSON.parse(readFileSync(join(root, 'sysroot.json'), 'utf8')) as { entries?: unknown };
    if (!Array.isArray(m.entries)) return out;
    for (const e of m.entries as ManifestDevice[]) {
      if (e && e.kind === 'chardev' && typeof e.path === 'string' && /^0?[0-7]{3,4}$/.test(String(e.mode))) out.set(e.path, e);
    }
  } catch {
    // no manifest: every path is what stat says
  }
  return out;
}

/** A user or group name as the tree's own passwd/group file numbers it (root is 0 everywhere). */
function idOf(root: string, file: 'etc/passwd' | 'etc/group', name: string): number {
  if (name === 'root') return 0;
  if (/^\d+$/.test(name)) return Number(name);
  try {
    const line = readFileSync(join(root, file), 'utf8').split('\n').find((l) => l.split(':')[0] === name);
    const id = Number(line?.split(':')[2]);
    return Number.isInteger(id) ? id : -1;
  } catch {
    return -1;
  }
}

/** EAX, EBX, ECX, EDX of one CPUID leaf. */
export type CpuidRegs = readonly [number, number, number, number];

/** Read access to a host tree; paths are relative to the sysroot (`proc/cpuinfo`). */
export interface HostTree {
  readonly root: string;
  readText(rel: string): string | null;
  exists(rel: string): boolean;
  stat(rel: string): FileStat | null;
  list(rel: string): readonly string[];
  /** A CPUID leaf of CPU 0 through the cpuid device; null when it is absent or unreadable. */
  cpuid(leaf: number): CpuidRegs | null;
}

const CPUID_DEVICE = 'dev/cpu/0/cpuid';

export function sysrootTree(root: string): HostTree {
  const at = (rel: string) => join(root, rel);
  let devices: Map<string, ManifestDevice> | null = null;
  return {
    root,
    readText(rel) {
      try {
        return readFileSync(at(rel), 'utf8');
      } catch {
        return null;
      }
    },
    exists: (rel) => existsSync(at(rel)),
    stat(rel) {
      devices ??= manifestDevices(root);
      const dev = devices.get(rel);
      if (dev && existsSync(at(rel))) {
        return { mode: Number.parseInt(dev.mode, 8), uid: idOf(root, 'etc/passwd', dev.owner), gid: idOf(root, 'etc/group', dev.group), kind: 'chardev' };
      }
      try {
        const s = statSync(at(rel));
        const kind = s.isCharacterDevice() ? 'chardev' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
        return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, kind };
      } catch {
        return null;
      }
    },
    list(rel) {
      try {
        return readdirSync(at(rel));
      } catch {
        return [];
      }
    },
    cpuid(leaf) {
      devices ??= manifestDevices(root);
      const dev = devices.get(CPUID_DEVICE);
      if (dev) return dev.registers?.[leafKey(leaf)] ?? null;
      const s = this.stat(CPUID_DEVICE);
      return s?.kind === 'chardev' ? readCpuidDevice(at(CPUID_DEVICE), leaf) : null;
    },
  };
}

/** The files a tree holds, given as a record (tests): directories are implied by the paths. */
export function recordedTree(files: Readonly<Record<string, string>>, stats: Readonly<Record<string, FileStat>> = {}, leaves: Readonly<Record<number, CpuidRegs>> = {}): HostTree {
  const has = (rel: string) => rel in files || rel in stats || Object.keys(files).some((p) => p.startsWith(`${rel}/`));
  return {
    root: '(recorded)',
    readText: (rel) => files[rel] ?? null,
    exists: has,
    stat: (rel) => stats[rel] ?? (rel in files ? { mode: 0o644, uid: 0, gid: 0 } : null),
    list: (rel) => [...new Set(Object.keys(files).filter((p) => p.startsWith(`${rel}/`)).map((p) => p.slice(rel.length + 1).split('/')[0]!))],
    cpuid: (leaf) => leaves[leaf] ?? null,
  };
}

export interface CpuInfo {
  readonly vendor: string;
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
  readonly modelName: string;
  readonly flags: readonly string[];
  readonly mhz: number;
  readonly logicalCpus: number;
  readonly sockets: number;
  readonly coresPerSocket: number;
  readonly threadsPerCore: number;
}

export type KvmAmdParamName = 'sev' | 'sev_es' | 'sev_snp';

export interface HostFileFacts {
  readonly cpu: CpuInfo;
  /** /sys/module/kvm_amd exists (the module is loaded). */
  readonly kvmAmdLoaded: boolean;
  /** /sys/module/kvm_intel exists. */
  readonly kvmIntelLoaded: boolean;
  /** /dev/kvm exists. */
  readonly devKvm: boolean;
  /** The parameter files that exist, with their text as read. */
  readonly kvmAmdParams: Readonly<Partial<Record<KvmAmdParamName, string>>>;
  readonly devSev: FileStat | null;
  /** Content of the root cgroup's misc.capacity; null when the file does not exist. */
  readonly miscCapacity: string | null;
  readonly memTotalKiB: number;
  readonly memAvailableKiB: number | null;
  readonly hugepages2M: number;
  readonly hugepages1G: number;
  /** RLIMIT_MEMLOCK soft limit of this process, KiB; null when unlimited or unreadable. */
  readonly memlockKiB: number | null;
  /** Kernel release as printed (`6.18.44-fc-v769`). */
  readonly kernelRelease: string;
  readonly cmdline: string;
  readonly numaNodes: number;
  /** CPUID Fn8000_001F through the cpuid device (root and the cpuid module on a real host); null when unreadable. */
  readonly cpuid8000001f: CpuidRegs | null;
}

export class HostFactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostFactsError';
  }
}

const KVM_AMD_PARAMS: readonly KvmAmdParamName[] = ['sev', 'sev_es', 'sev_snp'];

/** `key : value` lines of /proc/cpuinfo, one record per processor. */
function cpuinfoBlocks(text: string): Array<Map<string, string>> {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const m = new Map<string, string>();
      for (const line of block.split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      return m;
    })
    .filter((m) => m.has('processor'));
}

export function parseCpuinfo(text: string): CpuInfo {
  const blocks = cpuinfoBlocks(text);
  const first = blocks[0];
  if (!first) throw new HostFactsError('/proc/cpuinfo lists no processor');
  const num = (key: string, fallback?: number): number => {
    const raw = first.get(key);
    const v = raw === undefined ? Number.NaN : Number(raw);
    if (Number.isFinite(v)) return v;
    if (fallback !== undefined) return fallback;
    throw new HostFactsError(`/proc/cpuinfo has no numeric '${key}' (found ${raw === undefined ? 'nothing' : `'${raw}'`})`);
  };
  const vendor = first.get('vendor_id');
  if (!vendor && first.has('CPU implementer')) {
    throw new HostFactsError(`/proc/cpuinfo describes an arm64 CPU (implementer ${first.get('CPU implementer')}): SEV guests need an x86_64 host, and real mode judges x86_64 hosts only`);
  }
  if (!vendor) throw new HostFactsError("/proc/cpuinfo has no 'vendor_id'");
  const sockets = new Set(blocks.map((b) => b.get('physical id') ?? '0')).size;
  const cores = num('cpu cores', 1);
  const siblings = num('siblings', cores);
  return {
    vendor,
    family: num('cpu family'),
    model: num('model'),
    stepping: num('stepping', 0),
    modelName: first.get('model name') || vendor,
    flags: (first.get('flags') ?? '').split(/\s+/).filter((f) => f !== ''),
    mhz: Math.max(1, Math.round(num('cpu MHz', 1))),
    logicalCpus: blocks.length,
    sockets,
    coresPerSocket: Math.max(1, cores),
    threadsPerCore: Math.max(1, Math.round(siblings / Math.max(1, cores))),
  };
}

/** `Key:   N kB` lines of /proc/meminfo. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The soft "Max locked memory" of /proc/<pid>/limits in KiB; null for unlimited or absent. */
export function parseMemlockKiB(limits: string | null): number | null {
  const m = /^Max locked memory\s+(\S+)/m.exec(limits ?? '');
  if (!m || m[1] === 'unlimited') return null;
  const bytes = Number(m[1]);
  return Number.isFinite(bytes) ? Math.floor(bytes / 1024) : null;
}

export function readHostFileFacts(tree: HostTree): HostFileFacts {
  const cpuinfo = tree.readText('proc/cpuinfo');
  if (cpuinfo === null) throw new HostFactsError(`cannot read ${join(tree.root, 'proc/cpuinfo')}`);
  const meminfoText = tree.readText('proc/meminfo');
  if (meminfoText === null) throw new HostFactsError(`cannot read ${join(tree.root, 'proc/meminfo')}`);
  const meminfo = parseMeminfo(meminfoText);
  const memTotalKiB = meminfo.get('MemTotal');
  if (!memTotalKiB) throw new HostFactsError(`${join(tree.root, 'proc/meminfo')} has no MemTotal`);
  const release = tree.readText('proc/sys/kernel/osrelease')?.trim();
  if (!release) throw new HostFactsError(`cannot read ${join(tree.root, 'proc/sys/kernel/osrelease')}`);

  const kvmAmdParams: Partial<Record<KvmAmdParamName, string>> = {};
  for (const p of KVM_AMD_PARAMS) {
    const text = tree.readText(`sys/module/kvm_amd/parameters/${p}`);
    if (text !== null) kvmAmdParams[p] = text;
  }
  const hugeSize = meminfo.get('Hugepagesize');
  const gig = tree.readText('sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages');
  return {
    cpu: parseCpuinfo(cpuinfo),
    kvmAmdLoaded: tree.exists('sys/module/kvm_amd'),
    kvmIntelLoaded: tree.exists('sys/module/kvm_intel'),
    devKvm: tree.exists('dev/kvm'),
    kvmAmdParams,
    devSev: tree.stat('dev/sev'),
    miscCapacity: tree.readText('sys/fs/cgroup/misc.capacity'),
    memTotalKiB,
    memAvailableKiB: meminfo.get('MemAvailable') ?? null,
    hugepages2M: hugeSize === 2048 ? (meminfo.get('HugePages_Total') ?? 0) : 0,
    hugepages1G: gig === null ? 0 : Number(gig.trim()) || 0,
    memlockKiB: parseMemlockKiB(tree.readText('proc/self/limits')),
    kernelRelease: release,
    cmdline: (tree.readText('proc/cmdline') ?? '').trim(),
    numaNodes: Math.max(1, tree.list('sys/devices/system/node').filter((n) => /^node\d+$/.test(n)).length),
    cpuid8000001f: tree.cpuid(0x8000001f),
  };
}
