/**
 * `virsh capabilities` (virConnectGetCapabilities) for a profile, printed the way libvirt 9.x
 * formats it (src/conf/capabilities.c): host CPU, power management, migration, NUMA topology,
 * security models, then one `<guest>` per architecture.
 */
import type { HardwareProfile } from '../profile/schema.ts';
import type { KernelSevState } from '../profile/derive.ts';
import { versionAtLeast } from '../profile/version.ts';
import { cpuLocation } from './cpuinfo.ts';
import { guestArches, type GuestArch } from './machines.ts';
import { el, formatXml, textEl, type XmlWriterNode } from './xml.ts';

/** /proc/cpuinfo flag → libvirt feature name, for features libvirt lists beyond the CPU model. */
const HOST_EXTRA_FEATURES: readonly (readonly [string, string])[] = [
  ['ht', 'ht'],
  ['cmp_legacy', 'cmp_legacy'],
  ['extapic', 'extapic'],
  ['ibs', 'ibs'],
  ['skinit', 'skinit'],
  ['wdt', 'wdt'],
  ['tce', 'tce'],
  ['topoext', 'topoext'],
  ['perfctr_core', 'perfctr_core'],
  ['perfctr_nb', 'perfctr_nb'],
  ['invpcid', 'invpcid'],
  ['cqm', 'cmt'],
  ['ssbd', 'amd-ssbd'],
  ['vmx', 'vmx'],
  ['pdcm', 'pdcm'],
  ['tsc_adjust', 'tsc_adjust'],
  ['md_clear', 'md-clear'],
  ['arch_capabilities', 'arch-capabilities'],
  ['lbrv', 'lbrv'],
  ['svm_lock', 'svm-lock'],
  ['tsc_scale', 'tsc-scale'],
  ['vmcb_clean', 'vmcb-clean'],
  ['flushbyasid', 'flushbyasid'],
  ['decodeassists', 'decodeassists'],
  ['pausefilter', 'pause-filter'],
  ['pfthreshold', 'pfthreshold'],
  ['v_vmsave_vmload', 'v-vmsave-vmload'],
  ['vgif', 'vgif'],
];

/** Element version gates in the host CPU block (approximate releases for non-SEV details). */
const SINCE = {
  signature: [7, 3, 0],
  maxphysaddr: [8, 7, 0],
  dies: [6, 0, 0],
  counter: [5, 0, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

/** libvirt's bitmap format: "0,32" or "0-3". */
export function formatCpuSet(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** libvirt's vendor names (x86 CPU map, ARM vendor table: implementer 0x41 is 'ARM'). */
const VENDOR_NAMES = { AuthenticAMD: 'AMD', GenuineIntel: 'Intel', ARM: 'ARM' } as const;

export function vendorName(profile: HardwareProfile): 'AMD' | 'Intel' | 'ARM' {
  return VENDOR_NAMES[profile.cpu.vendor];
}

/**
 * Huge page sizes in KiB the kernel offers (/sys/kernel/mm/hugepages): 2 MiB, and 1 GiB with
 * pdpe1gb on x86; arm64 with 4 KiB granules has contiguous-bit sizes 64 KiB and 32 MiB as well.
 */
function hugePageSizes(profile: HardwareProfile): number[] {
  if (profile.arch === 'aarch64') return [64, 2048, 32768, 1048576];
  return profile.cpu.flags.includes('pdpe1gb') ? [2048, 1048576] : [2048];
}

/** An arm64 host CPU: libvirt 9.0 reads the MIDR and prints model, vendor and topology only. */
function armHostCpu(profile: HardwareProfile): XmlWriterNode {
  const c = profile.cpu;
  return el('cpu', {}, [
    textEl('arch', profile.arch),
    textEl('model', c.libvirtModel),
    textEl('vendor', vendorName(profile)),
    el('topology', { sockets: c.sockets, dies: 1, cores: c.coresPerSocket, threads: c.threadsPerCore }),
    ...[4, ...hugePageSizes(profile)].map((size) => el('pages', { unit: 'KiB', size })),
  ]);
}

/** Logical CPU ids per NUMA node: cores are split evenly across nodes within and across sockets. */
export function numaLayout(profile: HardwareProfile): number[][] {
  const c = profile.cpu;
  const total = c.sockets * c.coresPerSocket * c.threadsPerCore;
  const coresPerNode = Math.max(1, Math.floor((c.sockets * c.coresPerSocket) / c.numaNodes));
  const nodes: number[][] = Array.from({ length: c.numaNodes }, () => []);
  for (let id = 0; id < total; id++) {
    const loc = cpuLocation(profile, id);
    const node = Math.min(c.numaNodes - 1, Math.floor((loc.socket * c.coresPerSocket + loc.core) / coresPerNode));
    nodes[node]?.push(id);
  }
  return nodes;
}

function hostCpu(profile: HardwareProfile): XmlWriterNode {
  if (profile.arch !== 'x86_64') return armHostCpu(profile);
  const c = profile.cpu;
  const lv = profile.libvirt.version;
  const physBits = c.vendor === 'GenuineIntel' ? 46 : ['milan', 'genoa', 'turin'].includes(profile.generation) ? 52 : 48;
  const features = HOST_EXTRA_FEATURES.filter(([flag]) => c.flags.includes(flag)).map(([, name]) => el('feature', { name }));
  const pages = [4, ...hugePageSizes(profile)];
  return el('cpu', {}, [
    textEl('arch', 'x86_64'),
    textEl('model', c.libvirtModel),
    textEl('vendor', vendorName(profile)),
    el('microcode', { version: c.vendor === 'GenuineIntel' ? 218104741 : 167776721 }),
    versionAtLeast(lv, ...SINCE.signature) && el('signature', { family: c.family, model: c.model, stepping: c.stepping }),
    versionAtLeast(lv, ...SINCE.counter) &&
      c.flags.includes('constant_tsc') &&
      el('counter', { name: 'tsc', frequency: c.mhz * 1_000_000, scaling: 'no' }),
    el('topology', {
      sockets: c.sockets,
      ...(versionAtLeast(lv, ...SINCE.dies) ? { dies: 1 } : {}),
      cores: c.coresPerSocket,
      threads: c.threadsPerCore,
    }),
    versionAtLeast(lv, ...SINCE.maxphysaddr) && el('maxphysaddr', { mode: 'emulate', bits: physBits }),
    ...features,
    ...pages.map((size) => el('pages', { unit: 'KiB', size })),
  ]);
}

function topology(profile: HardwareProfile): XmlWriterNode {
  const c = profile.cpu;
  const m = profile.memory;
  const layout = numaLayout(profile);
  const perNodeKiB = Math.floor(m.totalKiB / c.numaNodes);
  const huge2 = Math.floor(m.hugepages2M / c.numaNodes);
  const huge1 = Math.floor(m.hugepages1G / c.numaNodes);
  const nodesPerSocket = Math.max(1, c.numaNodes / c.sockets);
  const socketOf = (node: number) => Math.floor(node / nodesPerSocket);
  const cells = layout.map((ids, node) => {
    const small = Math.floor((perNodeKiB - huge2 * 2048 - huge1 * 1048576) / 4);
    return el('cell', { id: node }, [
      textEl('memory', perNodeKiB, { unit: 'KiB' }),
      textEl('pages', small, { unit: 'KiB', size: 4 }),
      ...hugePageSizes(profile).map((size) =>
        textEl('pages', size === 2048 ? huge2 : size === 1048576 ? huge1 : 0, { unit: 'KiB', size }),
      ),
      el(
        'distances',
        {},
        layout.map((_, other) =>
          el('sibling', { id: other, value: other === node ? 10 : socketOf(other) === socketOf(node) ? 12 : 32 }),
        ),
      ),
      el(
        'cpus',
        { num: ids.length },
        ids.map((id) => {
          const loc = cpuLocation(profile, id);
          const siblings = ids.filter((o) => {
            const l = cpuLocation(profile, o);
            return l.socket === loc.socket && l.core === loc.core;
          });
          return el('cpu', { id, socket_id: loc.socket, die_id: 0, core_id: loc.core, siblings: formatCpuSet(siblings) });
        }),
      ),
    ]);
  });
  return el('topology', {}, [el('cells', { num: layout.length }, cells)]);
}

function host(profile: HardwareProfile): XmlWriterNode {
  return el('host', {}, [
    textEl('uuid', profile.libvirt.hostUuid),
    hostCpu(profile),
    el('power_management', {}, [el('suspend_mem'), el('suspend_disk'), el('suspend_hybrid')]),
    el('iommu', { support: 'yes' }),
    el('migration_features', {}, [
      el('live'),
      el('uri_transports', {}, [textEl('uri_transport', 'tcp'), textEl('uri_transport', 'rdma')]),
    ]),
    topology(profile),
    el('secmodel', {}, [textEl('model', 'none'), textEl('doi', 0)]),
  ]);
}

function guest(profile: HardwareProfile, g: GuestArch): XmlWriterNode {
  const machines = profile.qemu.machineTypes.flatMap((m) => [
    textEl('machine', m.name, { maxCpus: m.maxCpus }),
    ...(m.alias ? [textEl('machine', m.alias, { canonical: m.name, maxCpus: m.maxCpus })] : []),
  ]);
  const x86 = g.arch === 'i686' || g.arch === 'x86_64';
  return el('guest', {}, [
    textEl('os_type', 'hvm'),
    el('arch', { name: g.arch }, [
      textEl('wordsize', g.wordsize),
      textEl('emulator', g.emulator),
      ...machines,
      el('domain', { type: 'qemu' }),
      g.kvm && el('domain', { type: 'kvm' }),
    ]),
    // ACPI exists on x86 and aarch64 guests, APIC and PAE on x86 only.
    el('features', {}, [
      g.arch === 'i686' && el('pae'),
      g.arch === 'i686' && el('nonpae'),
      g.arch !== 'armv7l' && el('acpi', { default: 'on', toggle: 'yes' }),
      x86 && el('apic', { default: 'on', toggle: 'no' }),
      el('cpuselection'),
      el('deviceboot'),
      el('disksnapshot', { default: 'on', toggle: 'no' }),
    ]),
  ]);
}

/**
 * The capabilities document. `kernel` is accepted for symmetry with the other views; libvirt's
 * host capabilities do not mention SEV.
 */
export function capabilitiesXml(profile: HardwareProfile, _kernel?: KernelSevState): string {
  const indent = (n: XmlWriterNode) => formatXml(n, 1);
  const guests = guestArches(profile).map((g) => `${indent(guest(profile, g))}\n`).join('');
  return `<capabilities>\n\n${indent(host(profile))}\n${guests}</capabilities>\n`;
}
