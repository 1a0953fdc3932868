/**
 * What every part of a fake host shares: the components built from the profile (AMD-SP firmware,
 * KVM's ASID pool and misc cgroup, QEMU's processes), libvirt's domain list and capability cache,
 * the event log, and the listeners of lifecycle and configuration changes. The libvirt modules of
 * the host (views, queries, lifecycle, resources, devices, launch security, save/restore,
 * migration) each read and change this one context; FakeHost composes them.
 *
 * Components are rebuilt when kvm_amd reloads or the host is reset, so parts read them here on
 * every call and never keep their own reference.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { SevFirmware } from '../firmware/sev-firmware.ts';
import { OverrideList } from '../firmware/overrides.ts';
import { AsidPool } from '../kvm/asid-pool.ts';
import { MiscCgroup } from '../kvm/misc-cgroup.ts';
import { defineDomainXml, type DomainDef } from '../libvirt/domain-def.ts';
import { domainContext } from '../libvirt/domain/context.ts';
import { SecretStore } from '../libvirt/secret-store.ts';
import type { DomainState, LifecycleEvent } from '../libvirt/states.ts';
import { decodeCpuid, type CpuidSev, type KernelParamOverrides, type KernelSevState } from '../profile/derive.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { QemuProcessManager, type GuestRuntime, type QemuHost } from '../qemu/process.ts';
import type { LibvirtSevView } from '../views/libvirt-sev.ts';
import { platformKeys } from '../views/platform-identity.ts';
import { FaultError } from '../control/fault.ts';
import { kernelChanged, type HostRuntimeState } from '../control/host-state.ts';
import { sharedPristineState } from '../fleet/shared-state.ts';
import { DomcapsFaults } from './domcaps-faults.ts';
import { DomainRegistry, isActive, refOf, type DomainObj, type DomainRef } from './domain-registry.ts';
import { HostEventLog } from './host-events.ts';
import type { DomainHandle, LifecycleEventRecord, LifecycleListener } from './libvirt-backend.ts';

export type Obj = DomainObj<GuestRuntime>;

export const opInvalid = (domain: VirErrorDomain, detail: string) => LibvirtError.of(VirErrorNumber.OPERATION_INVALID, domain, detail);
export const notRunning = () => opInvalid(VirErrorDomain.DOMAIN, 'domain is not running');
export const qemuErr = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.QEMU, detail);

export interface HostOptions {
  readonly kernelOverrides?: KernelParamOverrides;
  /**
   * Makes each guest's TEK/TIK derivable (`seededTransportKeys(seed, handle)`), standing in for the
   * session a guest owner would negotiate, so tests can verify measurements.
   */
  readonly transportKeySeed?: Buffer;
}

export class HostContext implements QemuHost {
  readonly cpuid: CpuidSev | null;
  readonly base: HardwareProfile;
  readonly baseKernelOverrides: KernelParamOverrides;
  /** Firmware status rules and domain-capabilities rules: the control plane arms them. */
  readonly firmwareRules = new OverrideList();
  readonly domcapsRules = new DomcapsFaults();
  /** libvirt's secret driver. */
  readonly secrets = new SecretStore();
  /** Save images by path, as `virsh save` would leave them on the host's disk. */
  readonly saveImages = new Map<string, DomainDef>();
  /** vCPUs hot-plugged into each running guest since its start: the ones it can unplug. */
  readonly hotplugged = new WeakMap<GuestRuntime, number>();
  readonly lifecycleListeners = new Set<LifecycleListener>();
  readonly configListeners = new Set<(domain: DomainRef) => void>();

  /** The profile as the host shows it now, its kernel state and libvirt's cache (control/host-state.ts). */
  runtime: HostRuntimeState;
  firmware: SevFirmware | null;
  cgroup: MiscCgroup;
  asids: AsidPool | null;
  qemu: QemuProcessManager;
  domains = new DomainRegistry<GuestRuntime>();
  events = new HostEventLog();
  private readonly transportKeySeed: Buffer | undefined;

  constructor(profile: HardwareProfile, opts: HostOptions) {
    this.base = profile;
    this.baseKernelOverrides = { ...opts.kernelOverrides };
    this.transportKeySeed = opts.transportKeySeed;
    this.cpuid = decodeCpuid(profile);
    this.runtime = sharedPristineState(profile, this.baseKernelOverrides);
    this.firmware = this.newFirmware();
    this.cgroup = new MiscCgroup(this.kernel.miscCapacity);
    this.asids = this.newAsidPool();
    this.qemu = new QemuProcessManager(this);
  }

  get profile(): HardwareProfile {
    return this.runtime.profile;
  }

  get kernel(): KernelSevState {
    return this.runtime.kernel;
  }

  /** What libvirt's capability cache says about SEV now (null: no SEV). */
  get sevCache(): LibvirtSevView | null {
    return this.runtime.sevCache;
  }

  /** Launch-security types the QEMU driver accepts right now. */
  sectypes(): readonly string[] {
    return this.sevCache?.sectypes ?? [];
  }

  /** A domain document parsed, post-parsed and validated against the host as it is now. */
  parse(xml: string): DomainDef {
    return defineDomainXml(xml, domainContext(this.profile, this.sectypes()));
  }

  /** A new runtime state; kvm_amd reloads (ASIDs and cgroup anew) when the kernel state changes. */
  setRuntime(next: HostRuntimeState): void {
    const reload = kernelChanged(this.runtime.kernel, next.kernel);
    if (reload && this.qemu.all().some((g) => g.sev)) {
      throw new FaultError('kvm_amd is in use by running SEV guests; stop them before reloading the module', true);
    }
    this.runtime = next;
    if (!reload) return;
    this.asids?.unload();
    this.cgroup = new MiscCgroup(next.kernel.miscCapacity);
    this.asids = this.newAsidPool();
    const params = Object.entries(next.kernel.sysfs).map(([p, v]) => `${p}=${v.trim()}`).join(' ');
    this.events.record('harness', `kvm_amd reloaded: ${params}`);
  }

  /** Every component as the constructor built it; the caller has stopped and dropped the guests. */
  rebuild(): void {
    this.runtime = sharedPristineState(this.base, this.baseKernelOverrides);
    this.domains = new DomainRegistry<GuestRuntime>();
    this.saveImages.clear();
    for (const secret of this.secrets.all()) this.secrets.undefine(secret.uuid);
    this.events = new HostEventLog();
    this.firmware = this.newFirmware();
    this.cgroup = new MiscCgroup(this.kernel.miscCapacity);
    this.asids = this.newAsidPool();
    this.qemu = new QemuProcessManager(this);
  }

  private newFirmware(): SevFirmware | null {
    const fw = this.base.firmware;
    if (!fw) return null;
    return new SevFirmware({
      apiMajor: fw.apiMajor,
      apiMinor: fw.apiMinor,
      build: fw.build,
      esInitialised: this.kernel.sevEsEnabled,
      snpInitialised: this.kernel.snpEnabled,
      overrides: this.firmwareRules,
      ...(this.transportKeySeed && { tikSeed: this.transportKeySeed }),
      pdhKey: () => platformKeys(this.profile).pdh,
    });
  }

  /** KVM's ASID allocator as kvm_amd sets it up at module load. */
  private newAsidPool(): AsidPool | null {
    if (!this.cpuid) return null;
    return new AsidPool({
      maxSevAsid: this.cpuid.maxSevAsid,
      minSevAsid: this.cpuid.minSevAsid,
      sevEnabled: this.kernel.sevEnabled,
      sevEsEnabled: this.kernel.sevEsEnabled,
      snpEnabled: this.kernel.snpEnabled,
      cgroup: this.cgroup,
      onFlush: () => this.firmware?.dfFlush(),
    });
  }

  // ---- domain objects ----

  /** Resolves a caller's reference the way qemuDomainObjFromDomain does: by UUID. */
  obj(ref: DomainHandle): Obj {
    return this.domains.resolve(ref);
  }

  /** The definition the guest runs with when active, else its persistent one. */
  currentDef(o: Obj): DomainDef {
    return o.liveDef ?? o.def;
  }

  persistentDef(o: Obj): DomainDef {
    return o.pendingDef ?? o.def;
  }

  /** A change to the persistent definition; it is saved like a define, without the event. */
  setPersistentDef(o: Obj, def: DomainDef): void {
    if (isActive(o)) o.pendingDef = def;
    else o.def = def;
    for (const l of this.configListeners) l(refOf(o));
  }

  setState(o: Obj, state: DomainState, reason: number): void {
    o.state = state;
    o.reason = reason;
  }

  emit(o: Obj, event: LifecycleEvent, detail: number): void {
    const rec: LifecycleEventRecord = { domain: refOf(o), event, detail };
    for (const l of this.lifecycleListeners) {
      try {
        l(rec);
      } catch {
        // A faulty listener must not break the host's state machine.
      }
    }
  }
}
