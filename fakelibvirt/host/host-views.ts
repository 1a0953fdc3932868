/**
 * The connection's and the node's answers (virConnectGet*, virNode*): versions, hostname,
 * capabilities and domain capabilities, node information, free memory and counters, SEV
 * parameters, CPU models and baselines, driver features. All are views of the host as it is now.
 */
import { VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { TypedParam } from '../../src/libvirt/typed-params.ts';
import { baselineCpu } from '../libvirt/cpu-baseline.ts';
import { versionNumber } from '../profile/version.ts';
import { sharedCapabilitiesXml, sharedDomainCapabilitiesXml } from '../fleet/shared-views.ts';
import { missingBinaryError, resolveDomainCapsQuery, type DomainCapsQuery } from '../views/domain-capabilities.ts';
import { freeMemoryBytes, nodeInfo, type NodeInfo } from '../views/node-info.ts';
import { nodeSevInfo } from '../views/sev-info.ts';
import { qemuErr, type HostContext } from './host-context.ts';
import type { ConnectBackend } from './libvirt-backend.ts';
import { cellsFreeMemory, cpuMap, cpuModelNames, DRIVER_FEATURES, kvmMaxVcpus, nodeCpuStats, QEMU_DEFAULT_MAX_VCPUS, nodeMemoryStats, SECURITY_MODEL, type NodeStatsAnswer } from './node-views.ts';

export class HostViews implements Omit<ConnectBackend, 'secrets'> {
  readonly hypervisorType = 'QEMU';

  constructor(private readonly ctx: HostContext) {}

  hypervisorVersion(): number {
    return versionNumber(this.ctx.profile.qemu.version);
  }

  libVersion(): number {
    return versionNumber(this.ctx.profile.libvirt.version);
  }

  hostname(): string {
    return this.ctx.profile.libvirt.hostname;
  }

  capabilities(): string {
    return sharedCapabilitiesXml(this.ctx.profile);
  }

  domainCapabilities(query: DomainCapsQuery = {}): string {
    // Bad queries keep their own errors; a faulted arch fails as if its binary were gone.
    const r = resolveDomainCapsQuery(this.ctx.profile, query);
    this.ctx.domcapsRules.check(r.arch, () => missingBinaryError(r.emulator));
    return sharedDomainCapabilitiesXml(this.ctx.profile, this.ctx.sevCache, query);
  }

  /** virConnectSupportsFeature for the driver's own features (the daemon answers its transport ones). */
  supportsFeature(feature: number): boolean {
    return DRIVER_FEATURES.has(feature);
  }

  connectGetMaxVcpus(type: string | null = null): number {
    if (type === null || type.toLowerCase() === 'qemu') return QEMU_DEFAULT_MAX_VCPUS;
    if (type.toLowerCase() === 'kvm') return kvmMaxVcpus(this.ctx.profile.kernel.version);
    throw qemuErr(VirErrorNumber.INVALID_ARG, `unknown type '${type}'`);
  }

  getCPUModelNames(arch: string): readonly string[] {
    return cpuModelNames(arch);
  }

  baselineCPU(xmlCPUs: readonly string[], flags = 0): string {
    return baselineCpu(xmlCPUs, flags);
  }

  nodeInfo(): NodeInfo {
    return nodeInfo(this.ctx.profile);
  }

  freeMemoryBytes(): bigint {
    const { qemu } = this.ctx;
    return freeMemoryBytes(this.ctx.profile, qemu.totalPinnedKiB() + qemu.totalUnpinnedKiB());
  }

  nodeSevInfo(): TypedParam[] {
    return nodeSevInfo(this.ctx.profile, this.ctx.sevCache);
  }

  nodeGetCellsFreeMemory(startCell: number, maxCells: number): bigint[] {
    return cellsFreeMemory(this.nodeInfo(), this.freeMemoryBytes(), startCell, maxCells);
  }

  nodeGetCPUMap(): { readonly map: Buffer; readonly online: number } {
    return cpuMap(this.nodeInfo());
  }

  nodeGetCPUStats(cpuNum: number, nparams: number): NodeStatsAnswer {
    return nodeCpuStats(this.nodeInfo(), cpuNum, nparams);
  }

  nodeGetMemoryStats(nparams: number): NodeStatsAnswer {
    return nodeMemoryStats(this.nodeInfo(), this.freeMemoryBytes(), nparams);
  }

  nodeGetSecurityModel(): { readonly model: string; readonly doi: string } {
    return SECURITY_MODEL;
  }

  /** The fake host exposes no node devices (PCI passthrough, mdevs). */
  listAllNodeDevices(): readonly string[] {
    return [];
  }
}
