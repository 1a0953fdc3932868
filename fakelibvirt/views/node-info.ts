/** virNodeGetInfo and virNodeGetFreeMemory for a profile. */
import type { NodeInfo } from '../../src/libvirt/structs.ts';
import type { HardwareProfile } from '../profile/schema.ts';

/** virNodeInfo as it travels on the wire; memory in KiB, sockets per NUMA node, cores per socket. */
export type { NodeInfo };

export function nodeInfo(profile: HardwareProfile): NodeInfo {
  const c = profile.cpu;
  const cpus = c.sockets * c.coresPerSocket * c.threadsPerCore;
  const base = { model: profile.arch, memory: profile.memory.totalKiB, cpus, mhz: c.mhz };
  const sockets = c.numaNodes <= c.sockets ? c.sockets / c.numaNodes : 1;
  const cores = c.numaNodes <= c.sockets ? c.coresPerSocket : c.coresPerSocket / (c.numaNodes / c.sockets);
  const topo = { nodes: c.numaNodes, sockets, cores, threads: c.threadsPerCore };
  // libvirt reports a flat fake topology when the real one does not multiply out (virhostcpu.c).
  const consistent = Number.isInteger(sockets) && Number.isInteger(cores) && topo.nodes * sockets * cores * topo.threads === cpus;
  return { ...base, ...(consistent ? topo : { nodes: 1, sockets: 1, cores: cpus, threads: 1 }) };
}

/** Free host memory in bytes: total minus the host's own reservation, hugepages and `usedKiB`. */
export function freeMemoryBytes(profile: HardwareProfile, usedKiB = 0): bigint {
  const m = profile.memory;
  const kib = m.totalKiB - m.reservedKiB - m.hugepages2M * 2048 - m.hugepages1G * 1048576 - usedKiB;
  return BigInt(Math.max(0, kib)) * 1024n;
}
