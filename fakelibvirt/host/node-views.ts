/**
 * What the QEMU driver answers about the node and itself beyond the profile's own views: CPU and
 * memory counters, the CPU map, per-cell free memory, the CPU model list, driver features, the
 * vCPU ceiling and the security model. Pure functions of the node's figures, so the daemon and
 * in-process callers get the same answers.
 */
import { DrvFeature } from '../../src/rpc/constants.ts';
import { versionAtLeast } from '../profile/version.ts';
import type { NodeInfo } from '../views/node-info.ts';

/**
 * VIR_DRV_FEATURE_* the QEMU driver (and libvirt's global layer) answers 1 to; the remote daemon
 * answers its own (FD passing, keepalive, event and close callbacks) before asking the driver.
 */
export const DRIVER_FEATURES: ReadonlySet<number> = new Set([
  DrvFeature.MIGRATION_P2P,
  DrvFeature.MIGRATION_V3,
  DrvFeature.TYPED_PARAM_STRING,
  DrvFeature.XML_MIGRATABLE,
  DrvFeature.MIGRATION_OFFLINE,
  DrvFeature.MIGRATION_PARAMS,
  DrvFeature.NETWORK_UPDATE_HAS_CORRECT_ORDER,
]);

/** x86 CPU models of libvirt's cpu_map that an EPYC host lists (virConnectGetCPUModelNames). */
const X86_CPU_MODELS: readonly string[] = [
  'qemu64', 'qemu32', 'kvm64', 'kvm32', 'pentium', 'pentium2', 'pentium3', 'pentiumpro', 'coreduo', 'n270', 'core2duo',
  'Conroe', 'Penryn', 'Nehalem', 'Westmere', 'SandyBridge', 'IvyBridge', 'Haswell', 'Broadwell', 'Skylake-Client',
  'Skylake-Server', 'Cascadelake-Server', 'Icelake-Server', 'athlon', 'phenom', 'Opteron_G1', 'Opteron_G2',
  'Opteron_G3', 'Opteron_G4', 'Opteron_G5', 'EPYC', 'EPYC-IBPB', 'EPYC-Rome', 'EPYC-Milan', 'EPYC-Genoa', 'Dhyana',
];

export function cpuModelNames(arch: string): readonly string[] {
  return arch === 'x86_64' || arch === 'i686' ? X86_CPU_MODELS : [];
}

/**
 * qemuConnectGetMaxVcpus: no type or "qemu" answers 16; "kvm" asks /dev/kvm for KVM_CAP_MAX_VCPUS,
 * which is x86's KVM_MAX_VCPUS of the running kernel (255 until 4.8, 288 from 4.8, 1024 from 5.15).
 */
export const QEMU_DEFAULT_MAX_VCPUS = 16;
const KVM_MAX_VCPUS_SINCE: readonly (readonly [major: number, minor: number, vcpus: number])[] = [
  [5, 15, 1024],
  [4, 8, 288],
];
export function kvmMaxVcpus(kernelVersion: string): number {
  return KVM_MAX_VCPUS_SINCE.find(([major, minor]) => versionAtLeast(kernelVersion, major, minor))?.[2] ?? 255;
}

/** Security driver "none": model and DOI as NUL-terminated strings, as libvirtd sends them. */
export const SECURITY_MODEL = { model: 'none\0', doi: '0\0' } as const;
/** A domain's label under the "none" driver: empty, not enforcing. */
export const SECURITY_LABEL = { label: '\0', enforcing: 0 } as const;

/** Since the module loaded: the base of plausible, monotonically growing CPU counters. */
const START = process.hrtime.bigint();
const uptimeNs = () => process.hrtime.bigint() - START + 3_600_000_000_000n;

/** One node counter (virNodeCPUStats / virNodeMemoryStats). */
export interface NodeStat {
  readonly field: string;
  readonly value: bigint;
}

/** A counters answer: zero `nparams` asks for the count only. */
export interface NodeStatsAnswer {
  readonly params: NodeStat[];
  readonly nparams: number;
}

function someOf<F extends string>(fields: readonly F[], values: Record<F, bigint>, nparams: number): NodeStatsAnswer {
  if (nparams === 0) return { params: [], nparams: fields.length };
  return { params: fields.slice(0, nparams).map((f) => ({ field: f, value: values[f] })), nparams: Math.min(nparams, fields.length) };
}

/** virNodeGetCPUStats: nanoseconds of kernel/user/idle/iowait time, for one CPU or all (-1). */
export function nodeCpuStats(node: NodeInfo, cpuNum: number, nparams: number): NodeStatsAnswer {
  const share = cpuNum === -1 ? BigInt(node.cpus) : 1n;
  const t = uptimeNs() * share;
  return someOf(['kernel', 'user', 'idle', 'iowait'], { kernel: t / 50n, user: t / 10n, idle: (t * 84n) / 100n, iowait: t / 100n }, nparams);
}

/** virNodeGetMemoryStats in KiB. */
export function nodeMemoryStats(node: NodeInfo, freeBytes: bigint, nparams: number): NodeStatsAnswer {
  const total = BigInt(node.memory);
  return someOf(['total', 'free', 'buffers', 'cached'], { total, free: freeBytes / 1024n, buffers: total / 200n, cached: total / 20n }, nparams);
}

/** virNodeGetCellsFreeMemory: the free memory shared evenly over the NUMA cells asked for. */
export function cellsFreeMemory(node: NodeInfo, freeBytes: bigint, startCell: number, maxCells: number): bigint[] {
  const perCell = freeBytes / BigInt(node.nodes);
  const cells: bigint[] = [];
  for (let c = startCell; c < node.nodes && cells.length < maxCells; c++) cells.push(perCell);
  return cells;
}

/** virNodeGetCPUMap: every CPU online. */
export function cpuMap(node: NodeInfo): { readonly map: Buffer; readonly online: number } {
  const map = Buffer.alloc(Math.ceil(node.cpus / 8));
  for (let i = 0; i < node.cpus; i++) map[i >> 3]! |= 1 << (i & 7);
  return { map, online: node.cpus };
}
