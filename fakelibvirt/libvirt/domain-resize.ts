/**
 * Memory and vCPU counts of a definition and the QEMU driver's rules for changing them
 * (qemuDomainSetMemoryFlags, qemuDomainSetVcpusFlags in libvirt 9.0's qemu_driver.c /
 * qemu_hotplug.c). Pure functions over DomainDef: each returns the new definition or throws
 * libvirt's error; FakeHost decides which definitions (live, persistent) a call touches.
 * Texts measured on real libvirt 9.0 (oracle/records/libvirt-9.0.0-lifecycle.json) unless marked.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { DomainDef } from './domain-def.ts';
import type { XmlNode } from './xml-tree.ts';

const qemuErr = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.QEMU, detail);

export const resizeText = {
  maxMemoryLive: 'cannot resize the maximum memory on an active domain',
  /** [inference] qemu_driver.c */
  maxMemoryNuma: 'initial memory size of a domain with NUMA nodes cannot be modified with this API',
  /** [inference] qemu_driver.c */
  aboveMaxMemory: 'cannot set initial memory size greater than the maximum memory size',
  aboveMax: 'cannot set memory higher than max memory',
  /** [inference] qemu_driver.c: a running guest with `<memballoon model='none'/>` */
  noBalloon: 'Unable to change memory of active domain without the balloon device and guest OS balloon driver',
  vcpusAboveMax: (which: 'live' | 'persistent', n: number, max: number) =>
    `requested vcpus is greater than max allowable vcpus for the ${which} domain: ${n} > ${max}`,
  /** [inference] qemu_driver.c */
  maxVcpusLive: "maximum vcpu count of a live domain can't be modified",
  /** [inference] qemu_driver.c */
  numaCpus: 'Number of CPUs in <numa> exceeds the desired maximum vcpu count',
  /** [inference] qemu_driver.c */
  topology: "CPU topology doesn't match the desired vcpu count",
  /** [inference] qemu_hotplug.c */
  noHotplugVcpus: 'failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count',
  /** QEMU's device_del refusal when libvirt started it with -no-acpi (no `<acpi/>` feature) */
  unplugNoAcpi: "unable to execute QEMU command 'device_del': CPU hot unplug not supported without ACPI",
} as const;

const child = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);

// ---- reading --------------------------------------------------------------------------------

/** virDomainDefGetMemoryTotal and mem.cur_balloon, KiB. */
export function memoryOf(def: DomainDef): { totalKiB: number; currentKiB: number } {
  const cur = child(def.tree, 'currentMemory');
  const n = cur && /^\d+$/.test(cur.text) && (cur.attrs.unit ?? 'KiB') === 'KiB' ? Number(cur.text) : def.memoryKiB;
  return { totalKiB: def.memoryKiB, currentKiB: Math.min(n, def.memoryKiB) };
}

/** virDomainDefGetVcpusMax and virDomainDefGetVcpus. */
export function vcpusOf(def: DomainDef): { max: number; current: number } {
  const cur = child(def.tree, 'vcpu')?.attrs.current;
  return { max: def.vcpus, current: cur !== undefined && /^\d+$/.test(cur) ? Number(cur) : def.vcpus };
}

// ---- writing --------------------------------------------------------------------------------

function withChild(tree: XmlNode, node: XmlNode, after: string): XmlNode {
  const children = [...tree.children];
  const at = children.findIndex((c) => c.name === node.name);
  if (at >= 0) children[at] = node;
  else children.splice(children.findIndex((c) => c.name === after) + 1, 0, node);
  return { ...tree, children };
}

const kibNode = (name: string, kib: number): XmlNode => ({ name, attrs: { unit: 'KiB' }, children: [], text: String(kib) });

/** The definition with new sizes; libvirt always formats both elements in KiB. */
export function withMemory(def: DomainDef, m: { totalKiB: number; currentKiB: number }): DomainDef {
  let tree = withChild(def.tree, kibNode('memory', m.totalKiB), 'uuid');
  tree = withChild(tree, kibNode('currentMemory', m.currentKiB), 'memory');
  return { ...def, memoryKiB: m.totalKiB, tree };
}

/** `<vcpu>` keeps its other attributes; `current` is written only below the maximum. */
export function withVcpus(def: DomainDef, v: { max: number; current: number }): DomainDef {
  const old = child(def.tree, 'vcpu');
  const attrs: Record<string, string> = { placement: 'static' };
  for (const [k, val] of Object.entries(old?.attrs ?? {})) if (k !== 'current') attrs[k] = val;
  if (v.current < v.max) attrs.current = String(v.current);
  const node: XmlNode = { name: 'vcpu', attrs, children: [], text: String(v.max) };
  return { ...def, vcpus: v.max, tree: withChild(def.tree, node, 'currentMemory') };
}

// ---- the QEMU driver's rules ------------------------------------------------------------------

function hasNuma(def: DomainDef): boolean {
  const cpu = child(def.tree, 'cpu');
  return cpu !== undefined && child(cpu, 'numa') !== undefined;
}

/** VIR_DOMAIN_MEM_MAXIMUM on the persistent definition: the current size follows a lower maximum. */
export function setMaxMemoryConfig(def: DomainDef, kib: number): DomainDef {
  if (hasNuma(def)) throw qemuErr(VirErrorNumber.OPERATION_INVALID, resizeText.maxMemoryNuma);
  const maxMemory = child(def.tree, 'maxMemory');
  if (maxMemory && /^\d+$/.test(maxMemory.text) && Number(maxMemory.text) < kib) {
    throw qemuErr(VirErrorNumber.OPERATION_INVALID, resizeText.aboveMaxMemory);
  }
  const { currentKiB } = memoryOf(def);
  return withMemory(def, { totalKiB: kib, currentKiB: Math.min(currentKiB, kib) });
}

/** The ceiling for a balloon change: the live total, or the persistent one when lower or alone. */
export function checkBalloonTarget(kib: number, live: DomainDef | null, persistent: DomainDef | null): void {
  let oldmax = live ? live.memoryKiB : 0;
  if (persistent && (!live || oldmax > persistent.memoryKiB)) oldmax = persistent.memoryKiB;
  if (kib > oldmax) throw qemuErr(VirErrorNumber.INVALID_ARG, resizeText.aboveMax);
}

/** A running guest can be ballooned only through a balloon device (the default is virtio). */
export function checkBalloonDevice(live: DomainDef): void {
  if (live.devices.some((d) => d.kind === 'memballoon' && d.model === 'none')) {
    throw qemuErr(VirErrorNumber.OPERATION_INVALID, resizeText.noBalloon);
  }
}

/** qemuDomainSetVcpusMax on the persistent definition. */
export function setMaxVcpusConfig(def: DomainDef, n: number): DomainDef {
  const cpu = child(def.tree, 'cpu');
  const cells = cpu ? (child(cpu, 'numa')?.children ?? []) : [];
  const numaCpus = cells.reduce((sum, c) => sum + cpusetSize(c.attrs.cpus ?? ''), 0);
  if (numaCpus > n) throw qemuErr(VirErrorNumber.INVALID_ARG, resizeText.numaCpus);
  const topo = cpu && child(cpu, 'topology');
  if (topo) {
    const total = ['sockets', 'dies', 'cores', 'threads'].reduce((p, k) => p * Number(topo.attrs[k] ?? 1), 1);
    if (total !== n) throw qemuErr(VirErrorNumber.INVALID_ARG, resizeText.topology);
  }
  const { current } = vcpusOf(def);
  return withVcpus(def, { max: n, current: Math.min(current, n) });
}

/** Online vCPUs of a definition (live or persistent), checked against that definition's maximum. */
export function setVcpuCount(def: DomainDef, n: number, which: 'live' | 'persistent'): DomainDef {
  const { max } = vcpusOf(def);
  if (n > max) throw qemuErr(VirErrorNumber.INVALID_ARG, resizeText.vcpusAboveMax(which, n, max));
  return withVcpus(def, { max, current: n });
}

/** Number of CPUs in a cpuset list such as "0-3,6" (virBitmapParse's syntax, without exclusions). */
function cpusetSize(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    n += b === undefined || Number.isNaN(b) ? 1 : Math.max(0, b - a + 1);
  }
  return n;
}
