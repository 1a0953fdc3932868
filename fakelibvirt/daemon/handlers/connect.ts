/** Handshake, connection identity and host (node) information procedures. */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import { AuthType, DrvFeature } from '../../../src/rpc/constants.ts';
import { notOpenError } from '../access.ts';
import type { HandlerTable } from '../context.ts';
import { baselineCpu } from '../../libvirt/cpu-baseline.ts';

/** VIR_DRV_FEATURE_* the daemon answers 1 to: the daemon's own (8, 10, 14, 15), the global ones (9, 16) and the QEMU driver's migration set. */
export const SUPPORTED_FEATURES: ReadonlySet<number> = new Set([
  DrvFeature.MIGRATION_P2P,
  DrvFeature.MIGRATION_V3,
  DrvFeature.FD_PASSING,
  DrvFeature.TYPED_PARAM_STRING,
  DrvFeature.PROGRAM_KEEPALIVE,
  DrvFeature.XML_MIGRATABLE,
  DrvFeature.MIGRATION_OFFLINE,
  DrvFeature.MIGRATION_PARAMS,
  DrvFeature.REMOTE_EVENT_CALLBACK,
  DrvFeature.REMOTE_CLOSE_CALLBACK,
  DrvFeature.NETWORK_UPDATE_HAS_CORRECT_ORDER,
]);

/** URIs the QEMU driver accepts in CONNECT_OPEN (null: the daemon picks its default driver). */
const ACCEPTED_URIS = new Set(['qemu:///system', 'qemu:///session']);

/** x86 CPU models of libvirt's cpu_map that an EPYC host lists (virConnectGetCPUModelNames). */
const X86_CPU_MODELS = [
  'qemu64', 'qemu32', 'kvm64', 'kvm32', 'pentium', 'pentium2', 'pentium3', 'pentiumpro', 'coreduo', 'n270', 'core2duo',
  'Conroe', 'Penryn', 'Nehalem', 'Westmere', 'SandyBridge', 'IvyBridge', 'Haswell', 'Broadwell', 'Skylake-Client',
  'Skylake-Server', 'Cascadelake-Server', 'Icelake-Server', 'athlon', 'phenom', 'Opteron_G1', 'Opteron_G2',
  'Opteron_G3', 'Opteron_G4', 'Opteron_G5', 'EPYC', 'EPYC-IBPB', 'EPYC-Rome', 'EPYC-Milan', 'EPYC-Genoa', 'Dhyana',
];

/** Seconds since the daemon module loaded: the base of plausible, monotonically growing CPU counters. */
const START = process.hrtime.bigint();
const uptimeNs = () => process.hrtime.bigint() - START + 3_600_000_000_000n;

/** CONNECT_OPEN's refusals: they read only whether this connection is open (so a worker can run them). */
export function checkOpen(opened: boolean, name: string | null): void {
  if (opened) throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'connection already open');
  if (name !== null && name !== '' && !ACCEPTED_URIS.has(name)) {
    throw new LibvirtError({ code: VirErrorNumber.NO_CONNECT, domain: VirErrorDomain.NONE, message: `no connection driver available for ${name}` });
  }
}

export const connectHandlers: HandlerTable = {
  AUTH_LIST: () => ({ types: [AuthType.NONE] }),
  AUTH_POLKIT: () => ({ complete: 1 }),

  CONNECT_SUPPORTS_FEATURE: ({ conn }, { feature }) => {
    // Keepalive is answered by the daemon itself, before any hypervisor connection exists.
    if (feature !== DrvFeature.PROGRAM_KEEPALIVE && !conn.opened) throw notOpenError();
    return { supported: SUPPORTED_FEATURES.has(feature) ? 1 : 0 };
  },

  CONNECT_OPEN: ({ conn }, { name, flags }) => {
    checkOpen(conn.opened, name);
    conn.opened = true;
    conn.uri = name || 'qemu:///system';
    if (flags & 1) conn.readOnly = true;
  },
  CONNECT_CLOSE: () => undefined,
  CONNECT_REGISTER_CLOSE_CALLBACK: ({ conn }) => {
    conn.closeCallbackRegistered = true;
  },
  CONNECT_UNREGISTER_CLOSE_CALLBACK: ({ conn }) => {
    conn.closeCallbackRegistered = false;
  },
  CONNECT_GET_URI: ({ conn }) => ({ uri: conn.uri }),
  CONNECT_IS_SECURE: () => ({ secure: 1 }),

  CONNECT_GET_TYPE: ({ host }) => ({ type: host.hypervisorType }),
  CONNECT_GET_VERSION: ({ host }) => ({ hv_ver: BigInt(host.hypervisorVersion()) }),
  CONNECT_GET_LIB_VERSION: ({ host }) => ({ lib_ver: BigInt(host.libVersion()) }),
  CONNECT_GET_HOSTNAME: ({ host }) => ({ hostname: host.hostname() }),
  CONNECT_GET_CAPABILITIES: ({ host }) => ({ capabilities: host.capabilities() }),
  CONNECT_GET_DOMAIN_CAPABILITIES: ({ host }, a) => ({
    capabilities: host.domainCapabilities({ emulatorbin: a.emulatorbin, arch: a.arch, machine: a.machine, virttype: a.virttype }),
  }),
  CONNECT_GET_MAX_VCPUS: () => ({ max_vcpus: 255 }),
  CONNECT_BASELINE_CPU: (_ctx, { xmlCPUs, flags }) => ({ cpu: baselineCpu(xmlCPUs, flags) }),
  CONNECT_GET_CPU_MODEL_NAMES: (_ctx, { arch, need_results }) => {
    const models = arch === 'x86_64' || arch === 'i686' ? X86_CPU_MODELS : [];
    return { models: need_results ? models : [], ret: models.length };
  },

  NODE_GET_INFO: ({ host }) => {
    const n = host.nodeInfo();
    return { ...n, memory: BigInt(n.memory) };
  },
  NODE_GET_SEV_INFO: ({ host }) => {
    const params = host.nodeSevInfo();
    return { params, nparams: params.length };
  },
  NODE_GET_FREE_MEMORY: ({ host }) => ({ freeMem: host.freeMemoryBytes() }),
  NODE_GET_CELLS_FREE_MEMORY: ({ host }, { startCell, maxcells }) => {
    const nodes = host.nodeInfo().nodes;
    const perCell = host.freeMemoryBytes() / BigInt(nodes);
    const cells: bigint[] = [];
    for (let c = startCell; c < nodes && cells.length < maxcells; c++) cells.push(perCell);
    return { cells };
  },
  NODE_GET_CPU_MAP: ({ host }, { need_map }) => {
    const cpus = host.nodeInfo().cpus;
    const map = Buffer.alloc(Math.ceil(cpus / 8));
    for (let i = 0; i < cpus; i++) map[i >> 3]! |= 1 << (i & 7);
    return { cpumap: need_map ? map : Buffer.alloc(0), online: cpus, ret: cpus };
  },
  NODE_GET_CPU_STATS: ({ host }, { nparams, cpuNum }) => {
    // libvirt reports nanoseconds of kernel/user/idle/iowait time; a zero nparams asks for the count.
    const fields = ['kernel', 'user', 'idle', 'iowait'] as const;
    if (nparams === 0) return { params: [], nparams: fields.length };
    const share = cpuNum === -1 ? BigInt(host.nodeInfo().cpus) : 1n;
    const t = uptimeNs() * share;
    const values = { kernel: t / 50n, user: t / 10n, idle: (t * 84n) / 100n, iowait: t / 100n };
    return { params: fields.slice(0, nparams).map((f) => ({ field: f, value: values[f] })), nparams: Math.min(nparams, fields.length) };
  },
  NODE_GET_MEMORY_STATS: ({ host }, { nparams }) => {
    const fields = ['total', 'free', 'buffers', 'cached'] as const;
    if (nparams === 0) return { params: [], nparams: fields.length };
    const total = BigInt(host.nodeInfo().memory);
    const free = host.freeMemoryBytes() / 1024n;
    const values = { total, free, buffers: total / 200n, cached: total / 20n };
    return { params: fields.slice(0, nparams).map((f) => ({ field: f, value: values[f] })), nparams: Math.min(nparams, fields.length) };
  },
  NODE_GET_SECURITY_MODEL: () => ({ model: 'none\0', doi: '0\0' }),
  // The fake host exposes no node devices (PCI passthrough, mdevs): empty lists.
  CONNECT_LIST_ALL_NODE_DEVICES: () => ({ devices: [], ret: 0 }),
  NODE_NUM_OF_DEVICES: () => ({ num: 0 }),
  NODE_LIST_DEVICES: () => ({ names: [] }),
};
