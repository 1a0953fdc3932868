/** Handshake, connection identity and host (node) information procedures. */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import { AuthType, DrvFeature } from '../../../src/rpc/constants.ts';
import { notOpenError } from '../access.ts';
import type { HandlerTable } from '../context.ts';

/**
 * VIR_DRV_FEATURE_* the daemon answers itself, as remoteDispatchConnectSupportsFeature does: its
 * transport's features; every other feature is the driver's (the host's) to answer.
 */
const DAEMON_FEATURES: ReadonlySet<number> = new Set([
  DrvFeature.FD_PASSING,
  DrvFeature.PROGRAM_KEEPALIVE,
  DrvFeature.REMOTE_EVENT_CALLBACK,
  DrvFeature.REMOTE_CLOSE_CALLBACK,
]);

/** URIs the QEMU driver accepts in CONNECT_OPEN (null: the daemon picks its default driver). */
const ACCEPTED_URIS = new Set(['qemu:///system', 'qemu:///session']);

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

  CONNECT_SUPPORTS_FEATURE: ({ conn, host }, { feature }) => {
    // Keepalive is answered by the daemon itself, before any hypervisor connection exists.
    if (feature !== DrvFeature.PROGRAM_KEEPALIVE && !conn.opened) throw notOpenError();
    return { supported: DAEMON_FEATURES.has(feature) || host.supportsFeature(feature) ? 1 : 0 };
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
  CONNECT_GET_MAX_VCPUS: ({ host }, { type }) => ({ max_vcpus: host.connectGetMaxVcpus(type) }),
  CONNECT_BASELINE_CPU: ({ host }, { xmlCPUs, flags }) => ({ cpu: host.baselineCPU(xmlCPUs, flags) }),
  CONNECT_GET_CPU_MODEL_NAMES: ({ host }, { arch, need_results }) => {
    const models = host.getCPUModelNames(arch);
    return { models: need_results ? [...models] : [], ret: models.length };
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
  NODE_GET_CELLS_FREE_MEMORY: ({ host }, { startCell, maxcells }) => ({ cells: host.nodeGetCellsFreeMemory(startCell, maxcells) }),
  NODE_GET_CPU_MAP: ({ host }, { need_map }) => {
    const { map, online } = host.nodeGetCPUMap();
    return { cpumap: need_map ? map : Buffer.alloc(0), online, ret: online };
  },
  NODE_GET_CPU_STATS: ({ host }, { nparams, cpuNum }) => host.nodeGetCPUStats(cpuNum, nparams),
  NODE_GET_MEMORY_STATS: ({ host }, { nparams }) => host.nodeGetMemoryStats(nparams),
  NODE_GET_SECURITY_MODEL: ({ host }) => host.nodeGetSecurityModel(),
  CONNECT_LIST_ALL_NODE_DEVICES: ({ host }, { need_results }) => {
    const names = host.listAllNodeDevices();
    return { devices: need_results ? names.map((name) => ({ name })) : [], ret: names.length };
  },
  NODE_NUM_OF_DEVICES: ({ host }) => ({ num: host.listAllNodeDevices().length }),
  NODE_LIST_DEVICES: ({ host }) => ({ names: [...host.listAllNodeDevices()] }),
};
