/**
 * The raw facts of a real host that live in files: /proc/cpuinfo, the kvm_amd module parameters,
 * /dev/sev, the misc cgroup, /proc/meminfo, the kernel release and command line. Everything is read
 * under a sysroot through a small reader, so tests feed recorded files and the real host is `/`.
 * A file that cannot be read is `null` here, never a guessed value.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface FileStat {
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Read access to a host tree; paths are relative to the sysroot (`proc/cpuinfo`). */
export interface HostTree {
  readonly root: string;
  readText(rel: string): string | null;
  exists(rel: string): boolean;
  stat(rel: string): FileStat | null;
  list(rel: string): readonly string[];
}

export function sysrootTree(root: string): HostTree {
  const at = (rel: string) => join(root, rel);
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
      try {
        const s = statSync(at(rel));
        return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
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
  };
}

/** The files a tree holds, given as a record (tests): directories are implied by the paths. */
export function recordedTree(files: Readonly<Record<string, string>>, stats: Readonly<Record<string, FileStat>> = {}): HostTree {
  const has = (rel: string) => rel in files || rel in stats || Object.keys(files).some((p) => p.startsWith(`${rel}/`));
  return {
    root: '(recorded)',
    readText: (rel) => files[rel] ?? null,
    exists: has,
    stat: (rel) => stats[rel] ?? (rel in files ? { mode: 0o644, uid: 0, gid: 0 } : null),
    list: (rel) => [...new Set(Object.keys(files).filter((p) => p.startsWith(`${rel}/`)).map((p) => p.slice(rel.length + 1).split('/')[0]!))],
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
  };
}
