/**
 * The seam between the wire daemon and the host model, as mongo-java-server's `MongoBackend`: libvirt's
 * API with libvirt's semantics, named as libvirt names it. The daemon (fakelibvirt/daemon/) only
 * turns decoded arguments into these calls and their results into replies; every rule, text and
 * figure lives behind this interface, so in-process callers and socket clients get the same host.
 * FakeHost is the implementation; a domain is named by its UUID (and its name, for errors).
 */
import type { TypedParam } from '../../src/libvirt/typed-params.ts';
import type { DomainDef } from '../libvirt/domain-def.ts';
import type { SecretStore } from '../libvirt/secret-store.ts';
import type { LifecycleEvent } from '../libvirt/states.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import type { DomainCapsQuery } from '../views/domain-capabilities.ts';
import type { NodeInfo } from '../views/node-info.ts';
import type { DomainRef } from './domain-registry.ts';
import type { NodeStatsAnswer } from './node-views.ts';
import type { PreparedMigration } from './migration-params.ts';

export type { DomainRef } from './domain-registry.ts';
export type { NodeStat, NodeStatsAnswer } from './node-views.ts';
export type { PreparedMigration } from './migration-params.ts';

/** What operations need to find a domain: libvirt resolves by UUID and names it in errors. */
export type DomainHandle = Pick<DomainRef, 'name' | 'uuid'>;

/** virDomainInfo, in the units its names say. */
export interface DomainInfo {
  readonly state: number;
  readonly maxMemKiB: bigint;
  readonly memoryKiB: bigint;
  readonly nrVirtCpu: number;
  readonly cpuTimeNs: bigint;
}

/** virDomainJobInfo. */
export interface DomainJobInfo {
  readonly type: number;
  readonly timeElapsed: bigint;
  readonly timeRemaining: bigint;
  readonly dataTotal: bigint;
  readonly dataProcessed: bigint;
  readonly dataRemaining: bigint;
  readonly memTotal: bigint;
  readonly memProcessed: bigint;
  readonly memRemaining: bigint;
  readonly fileTotal: bigint;
  readonly fileProcessed: bigint;
  readonly fileRemaining: bigint;
}

export interface LifecycleEventRecord {
  readonly domain: DomainRef;
  readonly event: LifecycleEvent;
  readonly detail: number;
}
export type LifecycleListener = (e: LifecycleEventRecord) => void;

/** virConnect*, virNode*: the hypervisor connection and the node. */
export interface ConnectBackend {
  readonly hypervisorType: string;
  hypervisorVersion(): number;
  libVersion(): number;
  hostname(): string;
  capabilities(): string;
  domainCapabilities(query?: DomainCapsQuery): string;
  supportsFeature(feature: number): boolean;
  connectGetMaxVcpus(type?: string | null): number;
  getCPUModelNames(arch: string): readonly string[];
  baselineCPU(xmlCPUs: readonly string[], flags?: number): string;
  nodeInfo(): NodeInfo;
  nodeSevInfo(): TypedParam[];
  freeMemoryBytes(): bigint;
  nodeGetCellsFreeMemory(startCell: number, maxCells: number): bigint[];
  nodeGetCPUMap(): { readonly map: Buffer; readonly online: number };
  nodeGetCPUStats(cpuNum: number, nparams: number): NodeStatsAnswer;
  nodeGetMemoryStats(nparams: number): NodeStatsAnswer;
  nodeGetSecurityModel(): { readonly model: string; readonly doi: string };
  listAllNodeDevices(): readonly string[];
  /** libvirt's secret driver. */
  readonly secrets: SecretStore;
}

/** virDomain* lookups, listing and information. */
export interface DomainQueryBackend {
  lookupByName(name: string): DomainRef;
  lookupByUUID(uuid: string): DomainRef;
  lookupById(id: number): DomainRef;
  listAllDomains(flags?: number): DomainRef[];
  numOfDomains(): number;
  listDomains(): number[];
  numOfDefinedDomains(): number;
  listDefinedDomains(): string[];
  getState(ref: DomainHandle, flags?: number): { state: number; reason: number };
  getInfo(ref: DomainHandle): DomainInfo;
  getXMLDesc(ref: DomainHandle, flags?: number): string;
  isActive(ref: DomainHandle): boolean;
  isPersistent(ref: DomainHandle): boolean;
  isUpdated(ref: DomainHandle): boolean;
  getAutostart(ref: DomainHandle): boolean;
  getOSType(ref: DomainHandle): string;
  hasManagedSaveImage(ref: DomainHandle): boolean;
  getSecurityLabel(ref: DomainHandle): { readonly label: string; readonly enforcing: number };
  getMessages(ref: DomainHandle): string[];
  snapshotNum(ref: DomainHandle): number;
  getJobInfo(ref: DomainHandle): DomainJobInfo;
  getJobStats(ref: DomainHandle): { readonly type: number; readonly params: TypedParam[] };
  getMaxMemory(ref: DomainHandle): bigint;
  getVcpusFlags(ref: DomainHandle, flags?: number): number;
  getMaxVcpus(ref: DomainHandle): number;
  launchSecurityInfo(ref: DomainHandle): TypedParam[];
}

/** virDomain* calls that change domains. */
export interface DomainChangeBackend {
  defineXML(xml: string): DomainRef;
  /** defineXML after its pure parse (the daemon may parse on a worker with `profile` and `sectypes()`). */
  defineParsed(def: DomainDef): DomainRef;
  undefine(ref: DomainHandle, flags?: number): void;
  create(ref: DomainHandle, flags?: number): DomainRef;
  createXML(xml: string, flags?: number): DomainRef;
  createParsed(def: DomainDef, flags?: number): DomainRef;
  destroy(ref: DomainHandle, flags?: number): void;
  shutdown(ref: DomainHandle, flags?: number): void;
  reboot(ref: DomainHandle, flags?: number): void;
  reset(ref: DomainHandle, flags?: number): void;
  suspend(ref: DomainHandle): void;
  resume(ref: DomainHandle): void;
  managedSave(ref: DomainHandle): void;
  managedSaveRemove(ref: DomainHandle): void;
  save(ref: DomainHandle, path: string): void;
  restore(path: string): DomainRef;
  setMemory(ref: DomainHandle, kib: number | bigint): void;
  setMaxMemory(ref: DomainHandle, kib: number | bigint): void;
  setMemoryFlags(ref: DomainHandle, kib: number | bigint, flags: number): void;
  setVcpus(ref: DomainHandle, nvcpus: number): void;
  setVcpusFlags(ref: DomainHandle, nvcpus: number, flags: number): void;
  attachDevice(ref: DomainHandle, xml: string, flags: number): void;
  detachDevice(ref: DomainHandle, xml: string, flags: number): void;
  setLaunchSecurityState(ref: DomainHandle, params: readonly TypedParam[]): void;
}

/** Migration version 3 with parameters: Begin/Perform/Confirm on the source, Prepare/Finish on the destination. */
export interface MigrationBackend {
  migrateBegin(ref: DomainHandle, params?: readonly TypedParam[]): string;
  migratePrepare(params: readonly TypedParam[]): PreparedMigration;
  migratePerform(ref: DomainHandle): void;
  migrateFinish(prepared: string | null, params: readonly TypedParam[], cancelled: boolean): DomainRef;
  migrateConfirm(ref: DomainHandle, cancelled?: boolean): void;
}

/** Everything the daemon serves, plus what it needs around the calls. */
export interface LibvirtBackend extends ConnectBackend, DomainQueryBackend, DomainChangeBackend, MigrationBackend {
  /** The profile as the host shows it now (for a worker's pure parse). */
  readonly profile: HardwareProfile;
  /** Launch-security types the QEMU driver accepts now (for a worker's pure parse). */
  sectypes(): readonly string[];
  /** Lifecycle events, for event callbacks and on-disk state. */
  onLifecycle(listener: LifecycleListener): () => void;
  /** A device change to a persistent definition (on-disk state follows it). */
  onConfigChange(listener: (domain: DomainRef) => void): () => void;
}
