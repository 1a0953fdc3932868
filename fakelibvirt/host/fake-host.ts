/**
 * One fake SEV host: a hardware profile brought to life. It composes the components named after
 * the real ones — the AMD-SP firmware, KVM's ASID pool and misc cgroup, host memory, QEMU's
 * sev-guest start, libvirt's QEMU driver — and exposes libvirt's API semantics in-process. The
 * wire daemon serves exactly this object; it adds bytes, never behaviour.
 *
 * Test control is `host.control` (fakelibvirt/control/): faults as data, applied and reset the
 * msw way; the host lends it a seam (its runtime state, rule lists, reset) and nothing more.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { param, type TypedParam } from '../../src/libvirt/typed-params.ts';
import { SevFirmware } from '../firmware/sev-firmware.ts';
import { AsidPool } from '../kvm/asid-pool.ts';
import { MiscCgroup } from '../kvm/misc-cgroup.ts';
import { DeviceModifyFlags, DomainFlags } from '../../src/libvirt/flags.ts';
import { attachToConfig, attachToLive, detachFromConfig, detachFromLive, modificationImpact } from '../libvirt/device-modify.ts';
import { exclusiveFlags, memoryArg, nonZeroArg, requireFlag } from '../libvirt/api-args.ts';
import { checkFlags } from '../libvirt/check-flags.ts';
import {
  checkBalloonDevice,
  checkBalloonTarget,
  memoryOf,
  resizeText,
  setMaxMemoryConfig,
  setMaxVcpusConfig,
  setVcpuCount,
  vcpusOf,
  withMemory,
} from '../libvirt/domain-resize.ts';
import { defineDomainXml, parseDeviceXml, type DomainDef } from '../libvirt/domain-def.ts';
import { checkDefineName, checkNameStorable } from '../libvirt/domain/general.ts';
import { domainContext } from '../libvirt/domain/context.ts';
import { formatDomainXml } from '../libvirt/domain-format.ts';
import { isQ35, validateAtStart } from '../libvirt/qemu-validate.ts';
import {
  DomainState,
  EventDetail,
  LifecycleEvent,
  PausedReason,
  RunningReason,
  ShutoffReason,
} from '../libvirt/states.ts';
import { decodeCpuid, type CpuidSev, type KernelParamOverrides, type KernelSevState, type KvmAmdParam } from '../profile/derive.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { versionAtLeast, versionNumber } from '../profile/version.ts';
import { QemuProcessManager, type GuestRuntime } from '../qemu/process.ts';
import { firmwareImageOf } from '../qemu/sev-launch.ts';
import { snpGuestReport, type SnpReportRequest } from '../firmware/snp/guest-request.ts';
import { kernelHashesTable } from '../firmware/guid-tables.ts';
import { directKernelBoot } from '../qemu/guest-boot.ts';
import { missingBinaryError, resolveDomainCapsQuery, type DomainCapsQuery } from '../views/domain-capabilities.ts';
import { sharedCapabilitiesXml, sharedDomainCapabilitiesXml } from '../fleet/shared-views.ts';
import type { LibvirtSevView } from '../views/libvirt-sev.ts';
import { freeMemoryBytes, nodeInfo, type NodeInfo } from '../views/node-info.ts';
import { nodeSevInfo } from '../views/sev-info.ts';
import { platformKeys } from '../views/platform-identity.ts';
import { validateLaunchSecretParams, type InjectedSecret } from '../qemu/sev-secret.ts';
import { baselineCpu } from '../libvirt/cpu-baseline.ts';
import { SecretStore } from '../libvirt/secret-store.ts';
import { cellsFreeMemory, cpuMap, cpuModelNames, DRIVER_FEATURES, MAX_VCPUS, nodeCpuStats, nodeMemoryStats, SECURITY_LABEL, SECURITY_MODEL, type NodeStatsAnswer } from './node-views.ts';
import { migrationPrepare, migrationXml, type PreparedMigration } from './migration-params.ts';
import type { DomainHandle, DomainInfo, DomainJobInfo, LibvirtBackend, LifecycleEventRecord, LifecycleListener } from './libvirt-backend.ts';
import { fault, FaultError } from '../control/fault.ts';
import { HostControl } from '../control/host-control.ts';
import { kernelChanged, type HostRuntimeState } from '../control/host-state.ts';
import { sharedPristineState } from '../fleet/shared-state.ts';
import { OverrideList } from '../firmware/overrides.ts';
import { DomcapsFaults } from './domcaps-faults.ts';
import { DomainRegistry, isActive, refOf, type DomainObj, type DomainRef } from './domain-registry.ts';
import { HostEventLog } from './host-events.ts';

export type { DomainRef } from './domain-registry.ts';
export type { DomainHandle, DomainInfo, DomainJobInfo, LibvirtBackend, LifecycleEventRecord, LifecycleListener } from './libvirt-backend.ts';
type Obj = DomainObj<GuestRuntime>;

const opInvalid = (domain: VirErrorDomain, detail: string) => LibvirtError.of(VirErrorNumber.OPERATION_INVALID, domain, detail);
const notRunning = () => opInvalid(VirErrorDomain.DOMAIN, 'domain is not running');
const qemuErr = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.QEMU, detail);
const { AFFECT_LIVE: LIVE, AFFECT_CONFIG: CONFIG } = DeviceModifyFlags;
/** VIR_ERR_AGENT_UNRESPONSIVE (virerror.h); the shared table does not carry it. */
const VIR_ERR_AGENT_UNRESPONSIVE = 86;

/** VIR_DOMAIN_JOB_NONE with every counter zero. */
const NO_JOB: DomainJobInfo = {
  type: 0,
  timeElapsed: 0n,
  timeRemaining: 0n,
  dataTotal: 0n,
  dataProcessed: 0n,
  dataRemaining: 0n,
  memTotal: 0n,
  memProcessed: 0n,
  memRemaining: 0n,
  fileTotal: 0n,
  fileProcessed: 0n,
  fileRemaining: 0n,
};

export interface HostSnapshot {
  readonly profile: string;
  readonly kernel: KernelSevState;
  readonly sevVisibleToLibvirt: boolean;
  readonly asids: { readonly inUse: ReadonlyArray<{ asid: number; kind: string; domain: string }>; readonly flushes: number };
  readonly pinnedKiB: number;
  readonly guests: ReadonlyArray<{
    name: string;
    state: string;
    asid?: number;
    firmwareState?: string;
    policy?: string;
    pinnedKiB: number;
    faults: readonly string[];
  }>;
}

export class FakeHost implements LibvirtBackend {
  readonly cpuid: CpuidSev | null;
  /** Replaced by `control.reset()`: read it through the host each time. */
  events = new HostEventLog();
  /**
   * Rules for domain-capabilities queries, consulted by `domainCapabilities()`.
   * @deprecated as an entry point: `host.control.use(fault.domcaps('i686'))`.
   */
  readonly domcaps = new DomcapsFaults();
  /** libvirt's secret driver: secrets defined on this host, kept in memory for its lifetime. */
  readonly secrets = new SecretStore();
  /** Test control: `host.control.use(fault.devSev('missing'))`, `resetHandlers()`, `inspect()`. */
  readonly control: HostControl;
  cgroup: MiscCgroup;
  asids: AsidPool | null;
  private readonly baseProfile: HardwareProfile;
  private readonly baseKernelOverrides: KernelParamOverrides;
  private readonly transportKeySeed: Buffer | undefined;
  /** The profile as the host shows it now, its kernel state and libvirt's cache (control/host-state.ts). */
  private runtime: HostRuntimeState;
  private fw: SevFirmware | null;
  private readonly firmwareRules = new OverrideList();
  private domains = new DomainRegistry<GuestRuntime>();
  private readonly listeners = new Set<LifecycleListener>();
  private readonly configListeners = new Set<(domain: DomainRef) => void>();
  private qemu: QemuProcessManager;
  /** vCPUs hot-plugged into each running guest since its start: the ones it can unplug. */
  private readonly hotplugged = new WeakMap<GuestRuntime, number>();
  /** Save images by path, as `virsh save` would leave them on the host's disk. */
  private readonly saveImages = new Map<string, DomainDef>();

  /**
   * `transportKeySeed` makes each guest's TEK/TIK derivable (`seededTransportKeys(seed, handle)`),
   * standing in for the session a guest owner would negotiate, so tests can verify measurements.
   */
  constructor(profile: HardwareProfile, opts: { kernelOverrides?: KernelParamOverrides; transportKeySeed?: Buffer } = {}) {
    this.baseProfile = profile;
    this.baseKernelOverrides = { ...opts.kernelOverrides };
    this.transportKeySeed = opts.transportKeySeed;
    this.cpuid = decodeCpuid(profile);
    this.runtime = sharedPristineState(profile, this.baseKernelOverrides);
    this.fw = this.newFirmware();
    this.cgroup = new MiscCgroup(this.kernelState.miscCapacity);
    this.asids = this.newAsidPool();
    this.qemu = new QemuProcessManager(this);
    this.control = new HostControl({
      base: profile,
      kernelOverrides: this.baseKernelOverrides,
      firmwareRules: this.firmwareRules,
      domcapsRules: this.domcaps,
      hasFirmware: this.fw !== null,
      runtime: () => this.runtime,
      setRuntime: (next) => this.setRuntime(next),
      resetToProfile: () => this.resetToProfile(),
      inspect: () => this.inspect(),
      firmware: () => this.fw?.inspect() ?? null,
      events: () => this.events.all(),
      record: (message) => this.events.record('harness', message),
    });
  }

  /** The profile as the host shows it now: the hardware profile with any host-state faults applied. */
  get profile(): HardwareProfile {
    return this.runtime.profile;
  }

  get firmware(): SevFirmware | null {
    return this.fw;
  }

  private get kernelState(): KernelSevState {
    return this.runtime.kernel;
  }

  private get sevCache(): LibvirtSevView | null {
    return this.runtime.sevCache;
  }

  private newFirmware(): SevFirmware | null {
    const fw = this.baseProfile.firmware;
    if (!fw) return null;
    return new SevFirmware({
      apiMajor: fw.apiMajor,
      apiMinor: fw.apiMinor,
      build: fw.build,
      esInitialised: this.kernelState.sevEsEnabled,
      snpInitialised: this.kernelState.snpEnabled,
      overrides: this.firmwareRules,
      ...(this.transportKeySeed && { tikSeed: this.transportKeySeed }),
      pdhKey: () => platformKeys(this.profile).pdh,
    });
  }

  /** The control plane's seam: a new runtime state; kvm_amd reloads when the kernel state changes. */
  private setRuntime(next: HostRuntimeState): void {
    const reload = kernelChanged(this.runtime.kernel, next.kernel);
    if (reload && this.qemu.all().some((g) => g.sev)) {
      throw new FaultError('kvm_amd is in use by running SEV guests; stop them before reloading the module', true);
    }
    this.runtime = next;
    if (!reload) return;
    this.cgroup = new MiscCgroup(next.kernel.miscCapacity);
    this.asids = this.newAsidPool();
    const params = Object.entries(next.kernel.sysfs).map(([p, v]) => `${p}=${v.trim()}`).join(' ');
    this.events.record('harness', `kvm_amd reloaded: ${params}`);
  }

  /** The control plane's full reset: the host exactly as its constructor built it. */
  private resetToProfile(): void {
    // Guests go the way libvirt would take them (destroy, undefine), so event clients and a state
    // directory hear of it; then every component is built anew.
    for (const ref of this.listAllDomains()) {
      try {
        if (this.isActive(ref)) this.destroy(ref);
        if (this.isPersistent(ref)) this.undefine(ref, DomainFlags.UNDEFINE_MANAGED_SAVE | DomainFlags.UNDEFINE_NVRAM);
      } catch {
        // whatever remains goes with the registry below
      }
    }
    this.runtime = sharedPristineState(this.baseProfile, this.baseKernelOverrides);
    this.domains = new DomainRegistry<GuestRuntime>();
    this.saveImages.clear();
    for (const secret of this.secrets.all()) this.secrets.undefine(secret.uuid);
    this.events = new HostEventLog();
    this.fw = this.newFirmware();
    this.cgroup = new MiscCgroup(this.kernelState.miscCapacity);
    this.asids = this.newAsidPool();
    this.qemu = new QemuProcessManager(this);
  }

  /** KVM's ASID allocator as kvm_amd sets it up at module load. */
  private newAsidPool(): AsidPool | null {
    if (!this.cpuid) return null;
    return new AsidPool({
      maxSevAsid: this.cpuid.maxSevAsid,
      minSevAsid: this.cpuid.minSevAsid,
      sevEnabled: this.kernelState.sevEnabled,
      sevEsEnabled: this.kernelState.sevEsEnabled,
      snpEnabled: this.kernelState.snpEnabled,
      cgroup: this.cgroup,
      onFlush: () => this.firmware?.dfFlush(),
    });
  }

  // ---- identity and host views ------------------------------------------------------------

  get kernel(): KernelSevState {
    return this.kernelState;
  }

  /** What libvirt's capability cache currently says about SEV (null: no SEV). */
  get sevView(): LibvirtSevView | null {
    return this.sevCache;
  }

  readonly hypervisorType = 'QEMU';

  hypervisorVersion(): number {
    return versionNumber(this.profile.qemu.version);
  }

  libVersion(): number {
    return versionNumber(this.profile.libvirt.version);
  }

  hostname(): string {
    return this.profile.libvirt.hostname;
  }

  capabilities(): string {
    return sharedCapabilitiesXml(this.profile);
  }

  domainCapabilities(query: DomainCapsQuery = {}): string {
    // Bad queries keep their own errors; a faulted arch fails as if its binary were gone.
    const r = resolveDomainCapsQuery(this.profile, query);
    this.domcaps.check(r.arch, () => missingBinaryError(r.emulator));
    return sharedDomainCapabilitiesXml(this.profile, this.sevCache, query);
  }

  nodeInfo(): NodeInfo {
    return nodeInfo(this.profile);
  }

  freeMemoryBytes(): bigint {
    return freeMemoryBytes(this.profile, this.qemu.totalPinnedKiB() + this.qemu.totalUnpinnedKiB());
  }

  nodeSevInfo(): TypedParam[] {
    return nodeSevInfo(this.profile, this.sevCache);
  }

  /** Launch-security types the QEMU driver accepts right now. */
  sectypes(): readonly string[] {
    return this.sevCache?.sectypes ?? [];
  }

  /** virConnectSupportsFeature for the driver's own features (the daemon answers its transport ones). */
  supportsFeature(feature: number): boolean {
    return DRIVER_FEATURES.has(feature);
  }

  /** virConnectGetMaxVcpus. */
  connectGetMaxVcpus(_type: string | null = null): number {
    return MAX_VCPUS;
  }

  /** virConnectGetCPUModelNames. */
  getCPUModelNames(arch: string): readonly string[] {
    return cpuModelNames(arch);
  }

  /** virConnectBaselineCPU. */
  baselineCPU(xmlCPUs: readonly string[], flags = 0): string {
    return baselineCpu(xmlCPUs, flags);
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

  // ---- runtime control ----------------------------------------------------------------------

  /** @deprecated `host.control.use(fault.kernelParam(name, on))` (undone by `resetHandlers()`). */
  setKernelParam(name: KvmAmdParam, on: boolean): void {
    this.control.use(fault.kernelParam(name, on));
  }

  /** @deprecated `host.control.use(fault.cacheRefresh())`. */
  refreshCapabilityCache(): void {
    this.control.use(fault.cacheRefresh());
  }

  /** @deprecated `host.control.use(fault.cacheStale())`. */
  staleCapabilityCache(): void {
    this.control.use(fault.cacheStale());
  }

  onLifecycle(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  inspect(): HostSnapshot {
    const inUse = this.qemu.all().flatMap((g) => (g.sev ? [{ asid: g.sev.asid, kind: g.sev.kind, domain: g.name }] : []));
    return {
      profile: this.profile.name,
      kernel: this.kernelState,
      sevVisibleToLibvirt: this.sevCache !== null,
      asids: { inUse: inUse.sort((a, b) => a.asid - b.asid), flushes: this.asids?.flushCount ?? 0 },
      pinnedKiB: this.qemu.totalPinnedKiB(),
      guests: this.domains.all().map((o) => {
        const g = o.runtime;
        const fwState = g?.sev && this.firmware ? this.firmware.guestStatus(g.sev.handle).state : undefined;
        return {
          name: o.def.name,
          state: o.state === DomainState.RUNNING ? 'running' : o.state === DomainState.PAUSED ? 'paused' : 'shut off',
          ...(g?.sev && { asid: g.sev.asid, policy: `0x${g.sev.policy.toString(16)}` }),
          ...(fwState !== undefined && { firmwareState: fwState }),
          pinnedKiB: g?.pinnedKiB ?? 0,
          faults: g?.faults.map((f) => f.code) ?? [],
        };
      }),
    };
  }

  /** The runtime record of a running guest (ASID, firmware handle, faults), for tests. */
  guest(name: string): GuestRuntime | null {
    return this.domains.findByName(name)?.runtime ?? null;
  }

  // ---- domain lookup and listing ------------------------------------------------------------

  lookupByName(name: string): DomainRef {
    return refOf(this.domains.lookupByName(name));
  }

  lookupByUUID(uuid: string): DomainRef {
    return refOf(this.domains.lookupByUUID(uuid));
  }

  lookupById(id: number): DomainRef {
    return refOf(this.domains.lookupById(id));
  }

  listAllDomains(flags = 0): DomainRef[] {
    return this.domains.list(flags).map(refOf);
  }

  numOfDomains(): number {
    return this.domains.all().filter(isActive).length;
  }

  /** virConnectListDomains: the IDs of running domains. */
  listDomains(): number[] {
    return this.domains.list(DomainFlags.LIST_ACTIVE).map((o) => o.id);
  }

  numOfDefinedDomains(): number {
    return this.domains.list(DomainFlags.LIST_INACTIVE).length;
  }

  /** virConnectListDefinedDomains: the names of defined, inactive domains. */
  listDefinedDomains(): string[] {
    return this.domains.list(DomainFlags.LIST_INACTIVE).map((o) => o.def.name);
  }

  private obj(ref: Pick<DomainRef, 'uuid' | 'name'>): Obj {
    return this.domains.resolve(ref);
  }

  getState(ref: DomainHandle, flags = 0): { state: number; reason: number } {
    checkFlags(flags, 0, 'qemuDomainGetState', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    return { state: o.state, reason: o.reason };
  }

  getInfo(ref: DomainHandle): DomainInfo {
    const o = this.obj(ref);
    const def = o.liveDef ?? o.def;
    const mem = memoryOf(def);
    return {
      state: o.state,
      maxMemKiB: BigInt(mem.totalKiB),
      memoryKiB: BigInt(mem.currentKiB),
      nrVirtCpu: vcpusOf(def).current,
      cpuTimeNs: o.runtime ? this.qemu.cpuTimeNs(o.runtime) : 0n,
    };
  }

  isActive(ref: DomainHandle): boolean {
    return isActive(this.obj(ref));
  }

  isPersistent(ref: DomainHandle): boolean {
    return this.obj(ref).persistent;
  }

  getAutostart(ref: DomainHandle): boolean {
    return this.obj(ref).autostart;
  }

  getOSType(ref: DomainHandle): string {
    return this.obj(ref).def.os.type;
  }

  hasManagedSaveImage(ref: DomainHandle): boolean {
    return this.obj(ref).hasManagedSave;
  }

  /** virDomainIsUpdated: the fake never holds a live change not yet in the config. */
  isUpdated(ref: DomainHandle): boolean {
    this.obj(ref);
    return false;
  }

  getSecurityLabel(ref: DomainHandle): { readonly label: string; readonly enforcing: number } {
    this.obj(ref);
    return SECURITY_LABEL;
  }

  /** virDomainGetMessages: the fake's guests taint nothing and leave no deprecation messages. */
  getMessages(ref: DomainHandle): string[] {
    this.obj(ref);
    return [];
  }

  /** virDomainSnapshotNum: the fake keeps no snapshots. */
  snapshotNum(ref: DomainHandle): number {
    this.obj(ref);
    return 0;
  }

  /** virDomainGetJobInfo: VIR_DOMAIN_JOB_NONE; the fake's operations finish within their call. */
  getJobInfo(ref: DomainHandle): DomainJobInfo {
    this.obj(ref);
    return NO_JOB;
  }

  getJobStats(ref: DomainHandle): { readonly type: number; readonly params: TypedParam[] } {
    this.obj(ref);
    return { type: 0, params: [] };
  }

  getXMLDesc(ref: DomainHandle, flags = 0): string {
    // SECURE | INACTIVE | UPDATE_CPU | MIGRATABLE
    checkFlags(flags, 0xf, 'qemuDomainGetXMLDesc', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    const inactive = (flags & DomainFlags.XML_INACTIVE) !== 0;
    if (isActive(o) && !inactive && o.liveDef) return formatDomainXml(o.liveDef, { id: o.id });
    return formatDomainXml(o.pendingDef ?? o.def, {});
  }

  // ---- define / undefine ----------------------------------------------------------------------

  private parse(xml: string): DomainDef {
    return defineDomainXml(xml, domainContext(this.profile, this.sectypes()));
  }

  defineXML(xml: string): DomainRef {
    return this.defineParsed(this.parse(xml));
  }

  /** defineXML after its pure parse (which the daemon may run on a worker thread with this profile and sectypes()). */
  defineParsed(def: DomainDef): DomainRef {
    checkDefineName(def.name);
    const existing = this.domains.checkAdd(def, { refuseActive: false });
    // A brand-new definition is written to the configuration directory under its name.
    if (!existing) checkNameStorable(def.name);
    if (existing) {
      const wasPersistent = existing.persistent;
      existing.persistent = true;
      if (isActive(existing)) existing.pendingDef = def;
      else existing.def = def;
      this.emit(existing, LifecycleEvent.DEFINED, wasPersistent ? EventDetail.DEFINED_UPDATED : EventDetail.DEFINED_ADDED);
      return refOf(existing);
    }
    const o = this.domains.add(def, true);
    this.emit(o, LifecycleEvent.DEFINED, EventDetail.DEFINED_ADDED);
    return refOf(o);
  }

  undefine(ref: DomainHandle, flags = 0): void {
    // MANAGED_SAVE | SNAPSHOTS_METADATA | NVRAM | KEEP_NVRAM | CHECKPOINTS_METADATA | TPM | KEEP_TPM (9.0)
    checkFlags(flags, 0x7f, 'qemuDomainUndefineFlags', VirErrorDomain.QEMU);
    if (flags & DomainFlags.UNDEFINE_NVRAM && flags & DomainFlags.UNDEFINE_KEEP_NVRAM) {
      throw opInvalid(VirErrorDomain.QEMU, 'cannot both keep and delete nvram');
    }
    const o = this.obj(ref);
    if (!o.persistent) throw opInvalid(VirErrorDomain.QEMU, 'cannot undefine transient domain');
    if (o.hasManagedSave && !(flags & DomainFlags.UNDEFINE_MANAGED_SAVE)) {
      throw opInvalid(VirErrorDomain.QEMU, 'Refusing to undefine while domain managed save image exists');
    }
    // libvirt keeps a per-domain NVRAM file for pflash firmware and will not silently drop it.
    if (o.def.os.nvram !== undefined && !(flags & (DomainFlags.UNDEFINE_NVRAM | DomainFlags.UNDEFINE_KEEP_NVRAM))) {
      throw opInvalid(VirErrorDomain.QEMU, 'cannot undefine domain with nvram');
    }
    o.hasManagedSave = false;
    this.emit(o, LifecycleEvent.UNDEFINED, EventDetail.UNDEFINED_REMOVED);
    if (isActive(o)) {
      o.persistent = false;
      o.pendingDef = null;
    } else {
      this.domains.remove(o);
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** virDomainCreateWithFlags; `createXML` starts a transient domain the same way. */
  create(ref: DomainHandle, flags = 0): DomainRef {
    // PAUSED | AUTODESTROY | BYPASS_CACHE | FORCE_BOOT | RESET_NVRAM (VALIDATE is createXML's only)
    checkFlags(flags, 0x2f, 'qemuDomainCreateWithFlags', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    if (isActive(o)) throw opInvalid(VirErrorDomain.QEMU, 'domain is already running');
    const restoring = o.hasManagedSave;
    this.startObj(o, flags, restoring ? 'restored' : 'booted');
    if (restoring) o.hasManagedSave = false;
    return refOf(o);
  }

  createXML(xml: string, flags = 0): DomainRef {
    return this.createParsed(this.parse(xml), flags);
  }

  /** createXML after its pure parse. */
  createParsed(def: DomainDef, flags = 0): DomainRef {
    this.domains.checkAdd(def, { refuseActive: true });
    const o = this.domains.add(def, false);
    try {
      this.startObj(o, flags, 'booted');
    } catch (e) {
      this.domains.remove(o);
      throw e;
    }
    return refOf(o);
  }

  private startObj(o: Obj, flags: number, how: 'booted' | 'restored' | 'migrated'): void {
    const paused = (flags & DomainFlags.START_PAUSED) !== 0;
    // libvirt validates again at start, against the capabilities of this moment.
    validateAtStart(o.def, domainContext(this.profile, this.sectypes()));
    const started = this.qemu.start(o.def, { paused, sevView: this.sevCache });
    o.id = this.domains.allocateId();
    // The guest runs no balloon driver, so QEMU reports its whole memory as the balloon's actual
    // size and libvirt shows that as the live current memory (measured on a TCG guest).
    o.liveDef = withMemory(started.liveDef, { totalKiB: started.liveDef.memoryKiB, currentKiB: started.liveDef.memoryKiB });
    o.runtime = started.runtime;
    if (paused) this.setState(o, DomainState.PAUSED, PausedReason.USER);
    else this.setState(o, DomainState.RUNNING, how === 'restored' ? RunningReason.RESTORED : how === 'migrated' ? RunningReason.MIGRATED : RunningReason.BOOTED);
    const detail = how === 'restored' ? EventDetail.STARTED_RESTORED : how === 'migrated' ? EventDetail.STARTED_MIGRATED : EventDetail.STARTED_BOOTED;
    this.emit(o, LifecycleEvent.STARTED, detail);
    if (paused) this.emit(o, LifecycleEvent.SUSPENDED, EventDetail.SUSPENDED_PAUSED);
    // Memory limits act once QEMU runs: a memcg under the guest's need, or a host out of memory.
    for (const victim of this.qemu.enforceMemoryLimits(started.runtime)) this.crash(victim);
  }

  /** QEMU died underneath libvirt: monitor EOF without a guest shutdown. */
  private crash(runtime: GuestRuntime): void {
    const o = this.domains.all().find((d) => d.runtime === runtime);
    if (!o) return;
    this.stopObj(o, ShutoffReason.CRASHED, EventDetail.STOPPED_FAILED);
  }

  private stopObj(o: Obj, reason: number, detail: number): void {
    if (o.runtime) this.qemu.stop(o.runtime);
    o.runtime = null;
    o.id = -1;
    o.liveDef = null;
    this.setState(o, DomainState.SHUTOFF, reason);
    this.emit(o, LifecycleEvent.STOPPED, detail);
    if (o.pendingDef) {
      o.def = o.pendingDef;
      o.pendingDef = null;
    }
    if (!o.persistent) this.domains.remove(o);
  }

  destroy(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, 0x3, 'qemuDomainDestroyFlags', VirErrorDomain.QEMU); // GRACEFUL | REMOVE_LOGS
    const o = this.obj(ref);
    if (!isActive(o)) throw notRunning();
    this.stopObj(o, ShutoffReason.DESTROYED, EventDetail.STOPPED_DESTROYED);
  }

  /**
   * ACPI shutdown; the fake guest honours it at once. A guest that never booted ignores it.
   * The ACPI path wants a running (not paused) guest and says so in the QEMU driver's words.
   */
  shutdown(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, DomainFlags.POWER_ACPI | DomainFlags.POWER_GUEST_AGENT, 'qemuDomainShutdownFlags', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    this.guestAgentFirst(o, flags);
    if (o.state !== DomainState.RUNNING) throw opInvalid(VirErrorDomain.QEMU, 'domain is not running');
    if (o.runtime && o.runtime.faults.length > 0) return;
    this.emit(o, LifecycleEvent.SHUTDOWN, EventDetail.SHUTDOWN_FINISHED);
    this.stopObj(o, ShutoffReason.SHUTDOWN, EventDetail.STOPPED_SHUTDOWN);
  }

  reboot(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, DomainFlags.POWER_ACPI | DomainFlags.POWER_GUEST_AGENT, 'qemuDomainReboot', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    this.guestAgentFirst(o, flags);
    if (!isActive(o)) throw notRunning();
  }

  /** virDomainReset: QEMU's system_reset; the guest goes on in its state. */
  reset(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, 0, 'qemuDomainReset', VirErrorDomain.QEMU);
    if (!isActive(this.obj(ref))) throw notRunning();
  }

  /**
   * Shutdown and reboot with the GUEST_AGENT flag try the agent first; the fake guest never runs
   * one, so the call fails when the agent alone was asked for and falls back to ACPI otherwise.
   */
  private guestAgentFirst(o: Obj, flags: number): void {
    if (flags & DomainFlags.POWER_GUEST_AGENT && !(flags & DomainFlags.POWER_ACPI)) throw this.agentUnavailable(o);
  }

  /** qemuDomainAgentAvailable's refusal for a guest whose agent never connects. */
  private agentUnavailable(o: Obj): LibvirtError {
    if (o.state !== DomainState.RUNNING) return opInvalid(VirErrorDomain.QEMU, 'domain is not running');
    const channel = (o.liveDef ?? o.def).tree.children
      .find((c) => c.name === 'devices')
      ?.children.some((d) => d.name === 'channel' && d.children.some((t) => t.name === 'target' && t.attrs.name === 'org.qemu.guest_agent.0'));
    if (channel) {
      return new LibvirtError({ code: VIR_ERR_AGENT_UNRESPONSIVE as VirErrorNumber, domain: VirErrorDomain.QEMU, message: 'Guest agent is not responding: QEMU guest agent is not connected' });
    }
    return qemuErr(VirErrorNumber.ARGUMENT_UNSUPPORTED, 'QEMU guest agent is not configured');
  }

  suspend(ref: DomainHandle): void {
    const o = this.obj(ref);
    if (!isActive(o)) throw notRunning();
    if (o.state === DomainState.PAUSED) return;
    this.setState(o, DomainState.PAUSED, PausedReason.USER);
    this.emit(o, LifecycleEvent.SUSPENDED, EventDetail.SUSPENDED_PAUSED);
  }

  resume(ref: DomainHandle): void {
    const o = this.obj(ref);
    if (!isActive(o)) throw notRunning();
    if (o.state === DomainState.RUNNING) throw opInvalid(VirErrorDomain.QEMU, 'domain is already running');
    if (o.state !== DomainState.PAUSED) return;
    // The first run of an SEV guest ends its launch: LAUNCH_FINISH.
    if (o.runtime) this.qemu.resume(o.runtime);
    this.setState(o, DomainState.RUNNING, RunningReason.UNPAUSED);
    this.emit(o, LifecycleEvent.RESUMED, EventDetail.RESUMED_UNPAUSED);
  }

  /** qemuMigrationSrcIsAllowed: SEV guests carry QEMU's migration blocker. */
  private checkMigratable(o: Obj): void {
    if (o.runtime?.sev) {
      throw opInvalid(VirErrorDomain.QEMU, `cannot migrate domain: ${o.runtime.migrationBlocker}`);
    }
  }

  managedSave(ref: DomainHandle): void {
    const o = this.obj(ref);
    if (!o.persistent) throw opInvalid(VirErrorDomain.QEMU, 'cannot do managed save for transient domain');
    if (!isActive(o)) throw notRunning();
    this.checkMigratable(o);
    o.hasManagedSave = true;
    this.stopObj(o, ShutoffReason.SAVED, EventDetail.STOPPED_SAVED);
  }

  managedSaveRemove(ref: DomainHandle): void {
    const o = this.obj(ref);
    o.hasManagedSave = false;
  }

  save(ref: DomainHandle, path: string): void {
    const o = this.obj(ref);
    if (!isActive(o)) throw notRunning();
    this.checkMigratable(o);
    this.saveImages.set(path, o.def);
    this.stopObj(o, ShutoffReason.SAVED, EventDetail.STOPPED_SAVED);
  }

  restore(path: string): DomainRef {
    const def = this.saveImages.get(path);
    if (!def) {
      throw new LibvirtError({ code: VirErrorNumber.SYSTEM_ERROR, domain: VirErrorDomain.QEMU, message: `Failed to open file '${path}': No such file or directory` });
    }
    const existing = this.domains.checkAdd(def, { refuseActive: true });
    const o = existing ?? this.domains.add(def, false);
    this.startObj(o, 0, 'restored');
    this.saveImages.delete(path);
    return refOf(o);
  }

  // ---- memory and vCPUs (qemuDomainSetMemoryFlags, qemuDomainSetVcpusFlags) ------------------------

  /** virDomainObjGetDefs: the live and persistent definitions a call with these flags changes. */
  private defsFor(o: Obj, flags: number, fn: string): { live: DomainDef | null; config: DomainDef | null } {
    const impact = modificationImpact(flags & (LIVE | CONFIG), { active: isActive(o), persistent: o.persistent }, fn);
    return { live: impact.live ? (o.liveDef ?? o.def) : null, config: impact.config ? this.persistentDef(o) : null };
  }

  getMaxMemory(ref: DomainHandle): bigint {
    const o = this.obj(ref);
    return BigInt(memoryOf(o.liveDef ?? o.def).totalKiB);
  }

  /**
   * virDomainSetMemoryFlags. MEM_MAXIMUM changes the persistent size only; otherwise the balloon
   * target is set. The fake guest runs no balloon driver, so a live change leaves its memory as it
   * was (as a TCG guest without an OS measured); the persistent current size is written.
   */
  setMemoryFlags(ref: DomainHandle, kib: number | bigint, flags: number, api = 'virDomainSetMemoryFlags'): void {
    const n = memoryArg(kib, api);
    checkFlags(flags, LIVE | CONFIG | DomainFlags.MEM_MAXIMUM, 'qemuDomainSetMemoryFlags', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    const { live, config } = this.defsFor(o, flags, 'qemuDomainSetMemoryFlags');
    if (flags & DomainFlags.MEM_MAXIMUM) {
      if (live) throw qemuErr(VirErrorNumber.OPERATION_INVALID, resizeText.maxMemoryLive);
      if (config) this.setPersistentDef(o, setMaxMemoryConfig(config, n));
      return;
    }
    checkBalloonTarget(n, live, config);
    if (live) checkBalloonDevice(live);
    if (config) this.setPersistentDef(o, withMemory(config, { totalKiB: config.memoryKiB, currentKiB: n }));
  }

  setMemory(ref: DomainHandle, kib: number | bigint): void {
    this.setMemoryFlags(ref, kib, LIVE, 'virDomainSetMemory');
  }

  setMaxMemory(ref: DomainHandle, kib: number | bigint): void {
    this.setMemoryFlags(ref, kib, DomainFlags.MEM_MAXIMUM, 'virDomainSetMaxMemory');
  }

  /** virDomainGetVcpusFlags; the guest-agent count needs an agent the fake guest never runs. */
  getVcpusFlags(ref: DomainHandle, flags = 0): number {
    exclusiveFlags(flags, LIVE, 'VIR_DOMAIN_AFFECT_LIVE', CONFIG, 'VIR_DOMAIN_AFFECT_CONFIG');
    checkFlags(flags, LIVE | CONFIG | DomainFlags.VCPU_MAXIMUM | DomainFlags.VCPU_GUEST, 'qemuDomainGetVcpusFlags', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    const { live, config } = this.defsFor(o, flags, 'qemuDomainGetVcpusFlags');
    const def = (live ?? config) as DomainDef;
    if (flags & DomainFlags.VCPU_GUEST) {
      if (!isActive(o)) throw qemuErr(VirErrorNumber.INVALID_ARG, 'vCPU count provided by the guest agent can only be requested for live domains');
      throw this.agentUnavailable(o);
    }
    const v = vcpusOf(def);
    return flags & DomainFlags.VCPU_MAXIMUM ? v.max : v.current;
  }

  getMaxVcpus(ref: DomainHandle): number {
    return this.getVcpusFlags(ref, LIVE | DomainFlags.VCPU_MAXIMUM);
  }

  /**
   * virDomainSetVcpusFlags. A live change hot-plugs vCPUs; only those plugged since start can be
   * unplugged (libvirt leaves the boot vCPUs without a hot-plug alias), and QEMU refuses the
   * unplug on a machine started without ACPI.
   */
  setVcpusFlags(ref: DomainHandle, nvcpus: number, flags: number, api = 'virDomainSetVcpusFlags'): void {
    requireFlag(flags, DomainFlags.VCPU_MAXIMUM, 'VIR_DOMAIN_VCPU_MAXIMUM', CONFIG, 'VIR_DOMAIN_AFFECT_CONFIG');
    exclusiveFlags(flags, DomainFlags.VCPU_GUEST, 'VIR_DOMAIN_VCPU_GUEST', CONFIG, 'VIR_DOMAIN_AFFECT_CONFIG');
    nonZeroArg(nvcpus, 'nvcpus', api);
    const known = LIVE | CONFIG | DomainFlags.VCPU_MAXIMUM | DomainFlags.VCPU_GUEST | DomainFlags.VCPU_HOTPLUGGABLE;
    checkFlags(flags, known, 'qemuDomainSetVcpusFlags', VirErrorDomain.QEMU);
    const o = this.obj(ref);
    const { live, config } = this.defsFor(o, flags, 'qemuDomainSetVcpusFlags');
    if (flags & DomainFlags.VCPU_GUEST) throw this.agentUnavailable(o);
    if (flags & DomainFlags.VCPU_MAXIMUM) {
      if (live) throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, resizeText.maxVcpusLive);
      if (config) this.setPersistentDef(o, setMaxVcpusConfig(config, nvcpus));
      return;
    }
    const newLive = live && setVcpuCount(live, nvcpus, 'live');
    const newConfig = config && setVcpuCount(config, nvcpus, 'persistent');
    if (live && newLive && o.runtime) {
      const current = vcpusOf(live).current;
      const plugged = this.hotplugged.get(o.runtime) ?? 0;
      if (current - nvcpus > plugged) throw qemuErr(VirErrorNumber.CONFIG_UNSUPPORTED, resizeText.noHotplugVcpus);
      if (nvcpus < current && !live.features.has('acpi')) throw qemuErr(VirErrorNumber.INTERNAL_ERROR, resizeText.unplugNoAcpi);
      this.hotplugged.set(o.runtime, plugged + nvcpus - current);
      o.liveDef = newLive;
    }
    if (newConfig) this.setPersistentDef(o, newConfig);
  }

  setVcpus(ref: DomainHandle, nvcpus: number): void {
    this.setVcpusFlags(ref, nvcpus, LIVE, 'virDomainSetVcpus');
  }

  // ---- devices --------------------------------------------------------------------------------

  /**
   * virDomainAttachDeviceFlags (virDomainAttachDevice is AFFECT_LIVE). With LIVE and CONFIG the
   * persistent copy is checked first and nothing changes unless both succeed, as in libvirt.
   */
  attachDevice(ref: DomainHandle, xml: string, flags: number): void {
    const o = this.obj(ref);
    const impact = modificationImpact(flags, { active: isActive(o), persistent: o.persistent }, 'qemuDomainAttachDeviceLiveAndConfig');
    const dev = parseDeviceXml(xml);
    const config = impact.config ? attachToConfig(this.persistentDef(o), dev) : null;
    if (impact.live) {
      const live = o.liveDef ?? o.def;
      const machine = o.runtime?.machine ?? '';
      o.liveDef = attachToLive(live, dev, isQ35(machine));
      if (o.runtime) this.qemu.deviceAdded(o.runtime, dev.def);
    }
    if (config) this.setPersistentDef(o, config);
  }

  /** virDomainDetachDeviceFlags for disks (by target) and NICs (by MAC, else the only match). */
  detachDevice(ref: DomainHandle, xml: string, flags: number): void {
    const o = this.obj(ref);
    const impact = modificationImpact(flags, { active: isActive(o), persistent: o.persistent }, 'qemuDomainDetachDeviceLiveAndConfig');
    const dev = parseDeviceXml(xml);
    const config = impact.config ? detachFromConfig(this.persistentDef(o), dev) : null;
    if (impact.live) o.liveDef = detachFromLive(o.liveDef ?? o.def, dev);
    if (config) this.setPersistentDef(o, config);
  }

  private persistentDef(o: Obj): DomainDef {
    return o.pendingDef ?? o.def;
  }

  /** A device change to the persistent definition; it is saved like a define, without the event. */
  private setPersistentDef(o: Obj, def: DomainDef): void {
    if (isActive(o)) o.pendingDef = def;
    else o.def = def;
    for (const l of this.configListeners) l(refOf(o));
  }

  /** Called after a device attach or detach changed a persistent definition (for on-disk state). */
  onConfigChange(listener: (domain: DomainRef) => void): () => void {
    this.configListeners.add(listener);
    return () => this.configListeners.delete(listener);
  }

  // ---- launch security --------------------------------------------------------------------------

  launchSecurityInfo(ref: DomainHandle): TypedParam[] {
    const o = this.obj(ref);
    const ls = (o.liveDef ?? o.def).launchSecurity;
    if (!ls) return [];
    if (!isActive(o) || !o.runtime?.sev || !this.firmware) throw notRunning();
    const sev = o.runtime.sev;
    const st = this.firmware.platformStatus();
    // QEMU's legacy launch measurement exists for SEV only; an SNP guest is attested from inside
    // (SNP_GUEST_REQUEST), so libvirt reports its policy and the firmware version [inference].
    const measurement = sev.kind === 'sev-snp' ? [] : [param.string('sev-measurement', sev.measurement.toString('base64'))];
    // Before libvirt 8.0 the QEMU driver reported the measurement alone (the API, build and policy
    // parameters are "Since: 8.0.0" in libvirt-domain.h).
    if (!versionAtLeast(this.profile.libvirt.version, 8, 0)) return measurement;
    const out: TypedParam[] = [
      ...measurement,
      param.uint('sev-api-major', st.apiMajor),
      param.uint('sev-api-minor', st.apiMinor),
      param.uint('sev-build-id', st.build),
    ];
    out.push(typeof sev.policy === 'bigint' ? param.ullong('sev-snp-policy', sev.policy) : param.uint('sev-policy', sev.policy));
    return out;
  }

  /** virDomainSetLaunchSecurityState: inject a secret while the guest is paused in LAUNCH_SECRET. */
  setLaunchSecurityState(ref: DomainHandle, params: readonly TypedParam[]): void {
    validateLaunchSecretParams(params);
    const o = this.obj(ref);
    const ls = (o.liveDef ?? o.def).launchSecurity;
    if (ls?.type !== 'sev') {
      throw LibvirtError.of(VirErrorNumber.OPERATION_UNSUPPORTED, VirErrorDomain.QEMU, 'setting a launch secret is only supported in SEV-enabled domains');
    }
    const get = (f: string) => params.find((p) => p.field === f)?.value;
    const header = get('sev-secret-header');
    const secret = get('sev-secret');
    if (typeof header !== 'string' || typeof secret !== 'string') {
      throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, 'Both secret and the secret header are required');
    }
    const setAddress = get('sev-secret-set-address');
    if (!isActive(o) || !o.runtime) throw notRunning();
    if (o.state !== DomainState.PAUSED) throw opInvalid(VirErrorDomain.QEMU, 'domain must be in a paused state');
    // QEMU_CAPS_SEV_INJECT_LAUNCH_SECRET: sev-inject-launch-secret appeared in QEMU 6.0.
    if (!versionAtLeast(this.profile.qemu.version, 6, 0)) {
      throw LibvirtError.of(VirErrorNumber.OPERATION_UNSUPPORTED, VirErrorDomain.QEMU, 'QEMU does not support setting a launch secret');
    }
    this.qemu.injectLaunchSecret(o.runtime, Buffer.from(header, 'base64'), Buffer.from(secret, 'base64'), typeof setAddress === 'bigint' ? setAddress : undefined);
  }

  /** What LAUNCH_SECRET wrote into a guest's memory (address, plaintext, OVMF secret entries). */
  launchSecrets(name: string): readonly InjectedSecret[] {
    return this.guest(name)?.sev?.launchSecrets ?? [];
  }

  /**
   * SNP_GUEST_REQUEST MSG_REPORT_REQ from inside a running SNP guest: its ATTESTATION_REPORT with
   * `reportData` (64 bytes), signed with the chip's VCEK (firmware/snp/). Other guests, stopped or
   * paused ones are refused with an SnpGuestRequestError.
   */
  snpGuestReport(name: string, reportData: Uint8Array, req: SnpReportRequest = {}): Buffer {
    const o = this.domains.lookupByName(name);
    const def = o.liveDef ?? o.def;
    const state = !isActive(o) ? 'inactive' : o.state === DomainState.RUNNING ? 'running' : 'paused';
    const firmware = firmwareImageOf(def.os.loader?.path ?? 'bios').bytes;
    const boot = def.launchSecurity?.type === 'sev-snp' && def.launchSecurity.kernelHashes ? directKernelBoot(def) : null;
    const launch = { vcpus: def.vcpus, firmware, cpu: this.profile.cpu, ...(boot && { kernelHashes: kernelHashesTable(boot) }) };
    const view = { name: def.name, uuid: def.uuid, launchSecurity: def.launchSecurity, state, launchId: o.runtime?.pid ?? 0, ...launch } as const;
    return snpGuestReport(this.profile, view, reportData, req);
  }

  // ---- migration (the model side of virsh migrate) ------------------------------------------------

  /** Source side of Begin3: refuses SEV guests, else the domain XML to send (the caller's destination XML if given). */
  migrateBegin(ref: DomainHandle, params: readonly TypedParam[] = []): string {
    const o = this.obj(ref);
    if (!isActive(o)) throw notRunning();
    this.checkMigratable(o);
    return migrationXml(params) ?? formatDomainXml(o.def, {});
  }

  /** Destination side of Prepare3: the XML to start from and the URI the source sends to. */
  migratePrepare(params: readonly TypedParam[]): PreparedMigration {
    return migrationPrepare(params, this.hostname());
  }

  /** Source side of Perform3: the fake moves no memory; the guest must still run. */
  migratePerform(ref: DomainHandle): void {
    if (!this.isActive(ref)) throw notRunning();
  }

  /**
   * Destination side of Finish3: the guest Prepare received (else the destination XML in `params`)
   * runs here, unless the source cancelled.
   */
  migrateFinish(prepared: string | null, params: readonly TypedParam[], cancelled: boolean): DomainRef {
    const xml = prepared ?? migrationXml(params);
    if (cancelled) throw qemuErr(VirErrorNumber.OPERATION_FAILED, 'migration job: was cancelled');
    if (xml === null) throw qemuErr(VirErrorNumber.OPERATION_INVALID, 'no incoming migration was prepared on this connection');
    return this.migrateIncoming(xml);
  }

  /** Destination side of Prepare3 + Finish3: the incoming guest runs here. */
  migrateIncoming(xml: string): DomainRef {
    const def = this.parse(xml);
    const existing = this.domains.checkAdd(def, { refuseActive: true });
    const o = existing ?? this.domains.add(def, false);
    this.startObj(o, 0, 'migrated');
    return refOf(o);
  }

  /** Source side of Confirm3: the guest now runs elsewhere; a cancelled migration leaves it running here. */
  migrateConfirm(ref: DomainHandle, cancelled = false): void {
    if (cancelled) return;
    const o = this.obj(ref);
    if (!isActive(o)) return;
    this.stopObj(o, ShutoffReason.MIGRATED, EventDetail.STOPPED_MIGRATED);
  }

  // ---- helpers ------------------------------------------------------------------------------

  private setState(o: Obj, state: DomainState, reason: number): void {
    o.state = state;
    o.reason = reason;
  }

  private emit(o: Obj, event: LifecycleEvent, detail: number): void {
    const rec: LifecycleEventRecord = { domain: refOf(o), event, detail };
    for (const l of this.listeners) {
      try {
        l(rec);
      } catch {
        // A faulty listener must not break the host's state machine.
      }
    }
  }
}
