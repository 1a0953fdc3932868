/**
 * One fake SEV host: a hardware profile brought to life, and the public face of the host model.
 * It is libvirt's API with the QEMU driver's semantics (the LibvirtBackend the wire daemon serves,
 * so in-process callers and socket clients get the same host) composed of parts with one job each:
 *
 *   host-views        the connection and the node (versions, capabilities, node info, CPU models)
 *   domain-queries    lookups, listings, state and information
 *   domain-lifecycle  define, undefine, start, stop, pause (the state machine and its events)
 *   domain-resources  memory and vCPUs
 *   device-hotplug    attach and detach
 *   launch-security   SEV launch information, secret injection, the SNP guest's report
 *   save-restore      managed save, save, restore
 *   domain-migration  migration version 3
 *
 * over one HostContext (the components named after the real ones: AMD-SP firmware, KVM's ASID
 * pool and misc cgroup, QEMU's processes, libvirt's domain list and capability cache).
 *
 * Test control is `host.control` (fakelibvirt/control/): faults as data applied and reset the msw
 * way, and the look inside (guests' runtime records, firmware log, events, ASIDs). The host lends it
 * a seam and keeps nothing of its own mutable in public.
 */
import type { TypedParam } from '../../src/libvirt/typed-params.ts';
import type { DomainDef } from '../libvirt/domain-def.ts';
import type { SecretStore } from '../libvirt/secret-store.ts';
import type { CpuidSev, KernelSevState } from '../profile/derive.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import type { DomainCapsQuery } from '../views/domain-capabilities.ts';
import type { LibvirtSevView } from '../views/libvirt-sev.ts';
import type { NodeInfo } from '../views/node-info.ts';
import { HostControl } from '../control/host-control.ts';
import { DeviceHotplug } from './device-hotplug.ts';
import { DomainLifecycle } from './domain-lifecycle.ts';
import { DomainMigration } from './domain-migration.ts';
import { DomainQueries } from './domain-queries.ts';
import type { DomainRef } from './domain-registry.ts';
import { DomainResources } from './domain-resources.ts';
import { HostContext, type HostOptions } from './host-context.ts';
import { hostSnapshot } from './host-snapshot.ts';
import { HostViews } from './host-views.ts';
import { LaunchSecurity } from './launch-security.ts';
import type { DomainHandle, DomainInfo, DomainJobInfo, LibvirtBackend, LifecycleListener, PreparedMigration } from './libvirt-backend.ts';
import type { NodeStatsAnswer } from './node-views.ts';
import { SaveRestore } from './save-restore.ts';

export type { DomainRef } from './domain-registry.ts';
export type { HostSnapshot } from './host-snapshot.ts';
export type { HostOptions } from './host-context.ts';
export type { DomainHandle, DomainInfo, DomainJobInfo, LibvirtBackend, LifecycleEventRecord, LifecycleListener } from './libvirt-backend.ts';

export class FakeHost implements LibvirtBackend {
  /** Test control: `host.control.use(fault.devSev('missing'))`, `resetHandlers()`, `inspect()`, `reset()`. */
  readonly control: HostControl;
  readonly hypervisorType = 'QEMU';
  private readonly ctx: HostContext;
  private readonly views: HostViews;
  private readonly queries: DomainQueries;
  private readonly lifecycle: DomainLifecycle;
  private readonly resources: DomainResources;
  private readonly devices: DeviceHotplug;
  private readonly launch: LaunchSecurity;
  private readonly saves: SaveRestore;
  private readonly migration: DomainMigration;

  constructor(profile: HardwareProfile, opts: HostOptions = {}) {
    const ctx = (this.ctx = new HostContext(profile, opts));
    this.views = new HostViews(ctx);
    this.queries = new DomainQueries(ctx);
    this.lifecycle = new DomainLifecycle(ctx);
    this.resources = new DomainResources(ctx);
    this.devices = new DeviceHotplug(ctx);
    this.launch = new LaunchSecurity(ctx);
    this.saves = new SaveRestore(ctx, this.lifecycle);
    this.migration = new DomainMigration(ctx, this.lifecycle);
    this.control = new HostControl({
      base: profile,
      kernelOverrides: ctx.baseKernelOverrides,
      firmwareRules: ctx.firmwareRules,
      domcapsRules: ctx.domcapsRules,
      hasFirmware: ctx.firmware !== null,
      runtime: () => ctx.runtime,
      setRuntime: (next) => ctx.setRuntime(next),
      resetToProfile: () => {
        this.lifecycle.dropAll();
        ctx.rebuild();
      },
      inspect: () => hostSnapshot(ctx),
      firmware: () => ctx.firmware,
      events: () => ctx.events.all(),
      record: (message) => ctx.events.record('harness', message),
      guest: (name) => ctx.domains.findByName(name)?.runtime ?? null,
      asidRange: (kind) => ctx.asids?.range(kind) ?? null,
      miscCgroupUsage: (resource, path) => ctx.cgroup.current(path, resource),
      launchSecrets: (name) => this.launch.launchSecrets(name),
      snpGuestReport: (name, data, req) => this.launch.snpGuestReport(name, data, req),
    });
  }

  // ---- what the host is now (read-only views) ----

  /** The profile as the host shows it now: the hardware profile with any host-state faults applied. */
  get profile(): HardwareProfile {
    return this.ctx.profile;
  }

  /** The kernel's SEV state (kvm_amd parameters, what KVM set up at module load). */
  get kernel(): KernelSevState {
    return this.ctx.kernel;
  }

  /** What libvirt's capability cache currently says about SEV (null: no SEV). */
  get sevView(): LibvirtSevView | null {
    return this.ctx.sevCache;
  }

  /** The SEV CPUID leaf as the profile's CPU reports it (null: no SEV in the CPU). */
  get cpuid(): CpuidSev | null {
    return this.ctx.cpuid;
  }

  /** libvirt's secret driver. */
  get secrets(): SecretStore {
    return this.ctx.secrets;
  }

  sectypes(): readonly string[] {
    return this.ctx.sectypes();
  }

  onLifecycle(listener: LifecycleListener): () => void {
    this.ctx.lifecycleListeners.add(listener);
    return () => this.ctx.lifecycleListeners.delete(listener);
  }

  /** Called after a device or resize changed a persistent definition without a define (for on-disk state). */
  onConfigChange(listener: (domain: DomainRef) => void): () => void {
    this.ctx.configListeners.add(listener);
    return () => this.ctx.configListeners.delete(listener);
  }

  // ---- the connection and the node (host-views.ts) ----

  hypervisorVersion(): number { return this.views.hypervisorVersion(); }
  libVersion(): number { return this.views.libVersion(); }
  hostname(): string { return this.views.hostname(); }
  capabilities(): string { return this.views.capabilities(); }
  domainCapabilities(query: DomainCapsQuery = {}): string { return this.views.domainCapabilities(query); }
  supportsFeature(feature: number): boolean { return this.views.supportsFeature(feature); }
  connectGetMaxVcpus(type: string | null = null): number { return this.views.connectGetMaxVcpus(type); }
  getCPUModelNames(arch: string): readonly string[] { return this.views.getCPUModelNames(arch); }
  baselineCPU(xmlCPUs: readonly string[], flags = 0): string { return this.views.baselineCPU(xmlCPUs, flags); }
  nodeInfo(): NodeInfo { return this.views.nodeInfo(); }
  nodeSevInfo(): TypedParam[] { return this.views.nodeSevInfo(); }
  freeMemoryBytes(): bigint { return this.views.freeMemoryBytes(); }
  nodeGetCellsFreeMemory(startCell: number, maxCells: number): bigint[] { return this.views.nodeGetCellsFreeMemory(startCell, maxCells); }
  nodeGetCPUMap(): { readonly map: Buffer; readonly online: number } { return this.views.nodeGetCPUMap(); }
  nodeGetCPUStats(cpuNum: number, nparams: number): NodeStatsAnswer { return this.views.nodeGetCPUStats(cpuNum, nparams); }
  nodeGetMemoryStats(nparams: number): NodeStatsAnswer { return this.views.nodeGetMemoryStats(nparams); }
  nodeGetSecurityModel(): { readonly model: string; readonly doi: string } { return this.views.nodeGetSecurityModel(); }
  listAllNodeDevices(): readonly string[] { return this.views.listAllNodeDevices(); }

  // ---- finding and describing domains (domain-queries.ts) ----

  lookupByName(name: string): DomainRef { return this.queries.lookupByName(name); }
  lookupByUUID(uuid: string): DomainRef { return this.queries.lookupByUUID(uuid); }
  lookupById(id: number): DomainRef { return this.queries.lookupById(id); }
  listAllDomains(flags = 0): DomainRef[] { return this.queries.listAllDomains(flags); }
  numOfDomains(): number { return this.queries.numOfDomains(); }
  listDomains(): number[] { return this.queries.listDomains(); }
  numOfDefinedDomains(): number { return this.queries.numOfDefinedDomains(); }
  listDefinedDomains(): string[] { return this.queries.listDefinedDomains(); }
  getState(ref: DomainHandle, flags = 0): { state: number; reason: number } { return this.queries.getState(ref, flags); }
  getInfo(ref: DomainHandle): DomainInfo { return this.queries.getInfo(ref); }
  getXMLDesc(ref: DomainHandle, flags = 0): string { return this.queries.getXMLDesc(ref, flags); }
  isActive(ref: DomainHandle): boolean { return this.queries.isActive(ref); }
  isPersistent(ref: DomainHandle): boolean { return this.queries.isPersistent(ref); }
  isUpdated(ref: DomainHandle): boolean { return this.queries.isUpdated(ref); }
  getAutostart(ref: DomainHandle): boolean { return this.queries.getAutostart(ref); }
  getOSType(ref: DomainHandle): string { return this.queries.getOSType(ref); }
  hasManagedSaveImage(ref: DomainHandle): boolean { return this.queries.hasManagedSaveImage(ref); }
  getSecurityLabel(ref: DomainHandle): { readonly label: string; readonly enforcing: number } { return this.queries.getSecurityLabel(ref); }
  getMessages(ref: DomainHandle): string[] { return this.queries.getMessages(ref); }
  snapshotNum(ref: DomainHandle): number { return this.queries.snapshotNum(ref); }
  getJobInfo(ref: DomainHandle): DomainJobInfo { return this.queries.getJobInfo(ref); }
  getJobStats(ref: DomainHandle): { readonly type: number; readonly params: TypedParam[] } { return this.queries.getJobStats(ref); }

  // ---- define, start, stop (domain-lifecycle.ts) ----

  defineXML(xml: string): DomainRef { return this.lifecycle.defineXML(xml); }
  defineParsed(def: DomainDef): DomainRef { return this.lifecycle.defineParsed(def); }
  undefine(ref: DomainHandle, flags = 0): void { this.lifecycle.undefine(ref, flags); }
  create(ref: DomainHandle, flags = 0): DomainRef { return this.lifecycle.create(ref, flags); }
  createXML(xml: string, flags = 0): DomainRef { return this.lifecycle.createXML(xml, flags); }
  createParsed(def: DomainDef, flags = 0): DomainRef { return this.lifecycle.createParsed(def, flags); }
  destroy(ref: DomainHandle, flags = 0): void { this.lifecycle.destroy(ref, flags); }
  shutdown(ref: DomainHandle, flags = 0): void { this.lifecycle.shutdown(ref, flags); }
  reboot(ref: DomainHandle, flags = 0): void { this.lifecycle.reboot(ref, flags); }
  reset(ref: DomainHandle, flags = 0): void { this.lifecycle.reset(ref, flags); }
  suspend(ref: DomainHandle): void { this.lifecycle.suspend(ref); }
  resume(ref: DomainHandle): void { this.lifecycle.resume(ref); }

  // ---- save and restore (save-restore.ts) ----

  managedSave(ref: DomainHandle): void { this.saves.managedSave(ref); }
  managedSaveRemove(ref: DomainHandle): void { this.saves.managedSaveRemove(ref); }
  save(ref: DomainHandle, path: string): void { this.saves.save(ref, path); }
  restore(path: string): DomainRef { return this.saves.restore(path); }

  // ---- memory and vCPUs (domain-resources.ts) ----

  getMaxMemory(ref: DomainHandle): bigint { return this.resources.getMaxMemory(ref); }
  setMemory(ref: DomainHandle, kib: number | bigint): void { this.resources.setMemory(ref, kib); }
  setMaxMemory(ref: DomainHandle, kib: number | bigint): void { this.resources.setMaxMemory(ref, kib); }
  setMemoryFlags(ref: DomainHandle, kib: number | bigint, flags: number): void { this.resources.setMemoryFlags(ref, kib, flags); }
  getVcpusFlags(ref: DomainHandle, flags = 0): number { return this.resources.getVcpusFlags(ref, flags); }
  getMaxVcpus(ref: DomainHandle): number { return this.resources.getMaxVcpus(ref); }
  setVcpus(ref: DomainHandle, nvcpus: number): void { this.resources.setVcpus(ref, nvcpus); }
  setVcpusFlags(ref: DomainHandle, nvcpus: number, flags: number): void { this.resources.setVcpusFlags(ref, nvcpus, flags); }

  // ---- devices (device-hotplug.ts) ----

  attachDevice(ref: DomainHandle, xml: string, flags: number): void { this.devices.attachDevice(ref, xml, flags); }
  detachDevice(ref: DomainHandle, xml: string, flags: number): void { this.devices.detachDevice(ref, xml, flags); }

  // ---- launch security (launch-security.ts) ----

  launchSecurityInfo(ref: DomainHandle): TypedParam[] { return this.launch.launchSecurityInfo(ref); }
  setLaunchSecurityState(ref: DomainHandle, params: readonly TypedParam[]): void { this.launch.setLaunchSecurityState(ref, params); }

  // ---- migration (domain-migration.ts) ----

  migrateBegin(ref: DomainHandle, params: readonly TypedParam[] = []): string { return this.migration.migrateBegin(ref, params); }
  migratePrepare(params: readonly TypedParam[]): PreparedMigration { return this.migration.migratePrepare(params); }
  migratePerform(ref: DomainHandle): void { this.migration.migratePerform(ref); }
  migrateFinish(prepared: string | null, params: readonly TypedParam[], cancelled: boolean): DomainRef { return this.migration.migrateFinish(prepared, params, cancelled); }
  /** Prepare and Finish in one, for in-process callers: the incoming guest runs here. */
  migrateIncoming(xml: string): DomainRef { return this.migration.migrateIncoming(xml); }
  migrateConfirm(ref: DomainHandle, cancelled = false): void { this.migration.migrateConfirm(ref, cancelled); }
}
