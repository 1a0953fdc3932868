/**
 * The rest of a host's files that SEV tools and real mode read, beyond the kvm_amd parameters and
 * /proc/cpuinfo: memory (/proc/meminfo, hugepage pools), the memlock limit, CPU and NUMA topology
 * under /sys/devices/system, the KVM vendor module and /dev/kvm, the users QEMU runs as, and QEMU's
 * firmware descriptors naming the profile's OVMF builds. Each is a pure function of the profile.
 */
import type { HardwareProfile } from '../profile/schema.ts';
import type { KernelSevState } from '../profile/derive.ts';

/** Adds one file of the tree (content as read; mode as octal text). */
export type PutFile = (path: string, content: string, mode?: string) => void;

const KIB_PER_2M = 2048;
const KIB_PER_1G = 1048576;

/** /proc/meminfo: what is free is what the host does not reserve, hugepage pools excluded. */
export function formatMeminfo(profile: HardwareProfile): string {
  const m = profile.memory;
  const huge = m.hugepages2M * KIB_PER_2M + m.hugepages1G * KIB_PER_1G;
  const available = Math.max(0, m.totalKiB - m.reservedKiB - huge);
  const rows: Array<[string, number | string]> = [
    ['MemTotal', m.totalKiB],
    ['MemFree', available],
    ['MemAvailable', available],
    ['Buffers', 0],
    ['Cached', 0],
    ['SwapTotal', 0],
    ['SwapFree', 0],
    ['Unevictable', 0],
    ['Mlocked', 0],
    ['HugePages_Total', m.hugepages2M],
    ['HugePages_Free', m.hugepages2M],
    ['HugePages_Rsvd', 0],
    ['HugePages_Surp', 0],
    ['Hugepagesize', KIB_PER_2M],
    ['Hugetlb', huge],
  ];
  // The kernel right-aligns values in a 16-wide column after "Key:" padded to 16 characters.
  return rows
    .map(([k, v]) => {
      const unit = k.startsWith('HugePages_') ? '' : ' kB';
      return `${`${k}:`.padEnd(16)}${String(v).padStart(8)}${unit}`;
    })
    .join('\n') + '\n';
}

/** /proc/<pid>/limits with the profile's default RLIMIT_MEMLOCK (what a process QEMU starts as gets). */
export function formatLimits(profile: HardwareProfile): string {
  const memlock = String(profile.memory.defaultMemlockKiB * 1024);
  const row = (name: string, soft: string, hard: string, unit: string) => `${name.padEnd(26)}${soft.padEnd(21)}${hard.padEnd(21)}${unit}`.trimEnd();
  return [
    row('Limit', 'Soft Limit', 'Hard Limit', 'Units'),
    row('Max cpu time', 'unlimited', 'unlimited', 'seconds'),
    row('Max open files', '1024', '524288', 'files'),
    row('Max locked memory', memlock, memlock, 'bytes'),
    row('Max address space', 'unlimited', 'unlimited', 'bytes'),
  ].join('\n') + '\n';
}

/** `0-N` as the kernel prints a CPU list. */
const cpuList = (first: number, count: number) => (count <= 1 ? `${first}` : `${first}-${first + count - 1}`);

/** The firmware descriptor of one OVMF pair (QEMU docs/interop/firmware.json), as distributions ship it. */
function firmwareDescriptor(code: string, vars: string, arch: string): string {
  const secure = /secboot|\.ms\./i.test(code);
  const features = arch === 'x86_64' ? ['acpi-s3', 'amd-sev', ...(secure ? ['requires-smm', 'secure-boot'] : [])] : [];
  return `${JSON.stringify(
    {
      description: `UEFI firmware for ${arch}${secure ? ', with Secure Boot' : ''}`,
      'interface-types': ['uefi'],
      mapping: { device: 'flash', executable: { filename: code, format: 'raw' }, 'nvram-template': { filename: vars, format: 'raw' } },
      targets: [{ architecture: arch, machines: arch === 'x86_64' ? (secure ? ['pc-q35-*'] : ['pc-i440fx-*', 'pc-q35-*']) : ['virt-*'] }],
      features,
      tags: [],
    },
    null,
    4,
  )}\n`;
}

/** CPUID Fn0000_0001 EAX: the CPU signature (family, model, stepping with their extended fields). */
export function cpuSignature(family: number, model: number, stepping: number): number {
  const baseFamily = Math.min(family, 0xf);
  const extFamily = family >= 0xf ? family - 0xf : 0;
  return ((extFamily & 0xff) << 20) | (((model >> 4) & 0xf) << 16) | ((baseFamily & 0xf) << 8) | ((model & 0xf) << 4) | (stepping & 0xf);
}

const hex8 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * The leaves an x86 host's cpuid device answers that SEV tools read; null on other hosts. Of leaf 1
 * only EAX (the signature) is modelled; its feature words are /proc/cpuinfo's flags and read 0 here.
 */
export function cpuidRegisters(profile: HardwareProfile): Record<string, [number, number, number, number]> | null {
  if (profile.arch !== 'x86_64') return null;
  const c = profile.cpu;
  const out: Record<string, [number, number, number, number]> = { [hex8(1)]: [cpuSignature(c.family, c.model, c.stepping), 0, 0, 0] };
  const r = profile.cpuid8000001f;
  if (r) out[hex8(0x8000001f)] = [r.eax >>> 0, r.ebx >>> 0, r.ecx >>> 0, r.edx >>> 0];
  return out;
}

export function hostFiles(profile: HardwareProfile, kernel: KernelSevState, put: PutFile): void {
  const c = profile.cpu;
  const cpus = c.sockets * c.coresPerSocket * c.threadsPerCore;
  put('proc/meminfo', formatMeminfo(profile));
  put('proc/self/limits', formatLimits(profile));
  if (profile.memory.hugepages1G > 0 || profile.arch === 'x86_64') {
    put('sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', `${profile.memory.hugepages2M}\n`, '0644');
    put('sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages', `${profile.memory.hugepages1G}\n`, '0644');
  }
  for (const f of ['online', 'possible', 'present']) put(`sys/devices/system/cpu/${f}`, `${cpuList(0, cpus)}\n`);
  // Linux numbers the first thread of every core first: node n holds an equal share of each range.
  const nodes = Math.max(1, c.numaNodes);
  const perNode = Math.max(1, Math.floor(cpus / nodes));
  for (let n = 0; n < nodes; n++) put(`sys/devices/system/node/node${n}/cpulist`, `${cpuList(n * perNode, perNode)}\n`);
  put('sys/devices/system/node/online', `${cpuList(0, nodes)}\n`);

  // The vendor KVM module loads when the CPU offers its virtualisation extension.
  if (kernel.kvmAmdLoaded || (c.vendor === 'GenuineIntel' && c.flags.includes('vmx'))) {
    const mod = kernel.kvmAmdLoaded ? 'kvm_amd' : 'kvm_intel';
    put(`sys/module/${mod}/parameters/nested`, kernel.kvmAmdLoaded ? '1\n' : 'Y\n');
    put('dev/kvm', 'placeholder for /dev/kvm: character device 10:232\n', '0666');
  } else if (profile.arch === 'aarch64') {
    put('dev/kvm', 'placeholder for /dev/kvm: character device 10:232\n', '0666');
  }

  for (const [i, o] of profile.qemu.ovmf.entries()) {
    put(`usr/share/qemu/firmware/${String(60 + i)}-sevharness-${profile.arch}.json`, firmwareDescriptor(o.code, o.vars, profile.arch), '0644');
  }
}
