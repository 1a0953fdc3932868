/**
 * libvirt's info structs as the remote protocol carries them, field for field with the C API:
 * the client returns them, the fake daemon answers with them.
 */

/** virDomainInfo: maxMem and memory in KiB, cpuTime in nanoseconds. */
export interface VirDomainInfo {
  readonly state: number;
  readonly maxMem: number;
  readonly memory: number;
  readonly nrVirtCpu: number;
  readonly cpuTime: bigint;
}

/** virNodeInfo: memory in KiB, sockets per NUMA node, cores per socket. */
export interface NodeInfo {
  readonly model: string;
  readonly memory: number;
  readonly cpus: number;
  readonly mhz: number;
  readonly nodes: number;
  readonly sockets: number;
  readonly cores: number;
  readonly threads: number;
}
