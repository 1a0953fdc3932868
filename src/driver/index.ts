/**
 * The reference SEV compute driver: detect the host once, validate requests, build domain XML,
 * drive libvirt through a `LibvirtSource`, and guard lifecycle operations SEV cannot survive.
 */
import { buildDomainXml, hostFragments, type HostFragments } from './builder.ts';
import { detectHost, type DriverConfig, type HostReport } from './detect.ts';
import { guardOperation, type LifecycleOperation } from './guards.ts';
import type { DomainHandle, HostFiles, LibvirtSource } from './host-source.ts';
import { MODELS, poolKey } from './inventory.ts';
import { refuse } from './refusals.ts';
import { planGuest, type Flavor, type GuestPlan, type Image } from './request.ts';
import { RC_MEMORY_MB, RC_VCPU, type Demand, type HostSpec } from './scheduler.ts';

export interface BootRequest {
  readonly uuid: string;
  readonly name: string;
  readonly flavor: Flavor;
  readonly image: Image;
}

export interface Instance {
  readonly uuid: string;
  readonly request: BootRequest;
  readonly plan: GuestPlan;
  readonly xml: string;
  readonly dom: DomainHandle;
  readonly encrypted: boolean;
  state: 'running' | 'paused' | 'stopped' | 'shelved' | 'migrating';
}

export class ReferenceSevDriver {
  private reportValue: HostReport | null = null;
  private fragments: HostFragments | null = null;
  private readonly instances = new Map<string, Instance>();

  constructor(
    readonly libvirt: LibvirtSource,
    readonly files: HostFiles,
    readonly config: DriverConfig = {},
  ) {}

  /** Detects the host; call once at service start (and again only on a restart). */
  async init(): Promise<HostReport> {
    this.reportValue = await detectHost(this.libvirt, this.files, this.config);
    this.fragments = hostFragments(this.reportValue);
    return this.reportValue;
  }

  get report(): HostReport {
    if (!this.reportValue) throw new Error('ReferenceSevDriver.init() has not run');
    return this.reportValue;
  }

  /** What this host offers the scheduler; RAM and VCPU come from the caller (the resource tracker). */
  hostSpec(id: string, memoryMb: number, vcpus: number): HostSpec {
    const capacity: Record<string, number> = { [RC_MEMORY_MB]: memoryMb, [RC_VCPU]: vcpus };
    for (const inv of this.report.inventories) capacity[poolKey(inv.model)] = inv.total;
    return { id, traits: this.report.traits, capacity };
  }

  plan(req: Omit<BootRequest, 'uuid'>): GuestPlan {
    return planGuest(req, this.report, this.config);
  }

  xmlFor(plan: GuestPlan, uuid: string): string {
    if (!this.fragments) throw new Error('ReferenceSevDriver.init() has not run');
    return buildDomainXml(plan, this.fragments, { uuid, memoryPolicy: this.config.memory_policy ?? 'locked' });
  }

  instance(uuid: string): Instance {
    return this.instances.get(uuid) ?? refuse('UNKNOWN_INSTANCE', `instance ${uuid} is not on this host`);
  }

  list(): Instance[] {
    return [...this.instances.values()];
  }

  /** Validates, defines and starts; a failed start leaves no definition behind. */
  async spawn(req: BootRequest): Promise<Instance> {
    const plan = this.plan(req);
    const xml = this.xmlFor(plan, req.uuid);
    const dom = await this.libvirt.defineXML(xml);
    try {
      await this.libvirt.create(dom);
    } catch (e) {
      await this.libvirt.undefine(dom).catch(() => undefined);
      throw e;
    }
    const inst: Instance = { uuid: req.uuid, request: req, plan, xml, dom, encrypted: plan.encrypted, state: 'running' };
    this.instances.set(req.uuid, inst);
    return inst;
  }

  private guard(op: LifecycleOperation, uuid: string): Instance {
    const inst = this.instance(uuid);
    guardOperation(op, inst);
    return inst;
  }

  async pause(uuid: string): Promise<void> {
    const i = this.guard('pause', uuid);
    await this.libvirt.suspend(i.dom);
    i.state = 'paused';
  }

  async unpause(uuid: string): Promise<void> {
    const i = this.guard('unpause', uuid);
    await this.libvirt.resume(i.dom);
    i.state = 'running';
  }

  /** nova's suspend is a managed save: refused for SEV before libvirt sees it. */
  async suspend(uuid: string): Promise<void> {
    const i = this.guard('suspend', uuid);
    await this.libvirt.managedSave(i.dom);
    i.state = 'stopped';
  }

  async liveMigrate(uuid: string): Promise<never> {
    this.guard('live-migration', uuid);
    throw new Error('live migration of non-SEV guests is outside this reference driver');
  }

  async attachPciDevice(uuid: string): Promise<never> {
    this.guard('pci-passthrough', uuid);
    throw new Error('PCI passthrough of non-SEV guests is outside this reference driver');
  }

  /** Hard reboot: destroy and start again from freshly generated XML (as nova regenerates it). */
  async hardReboot(uuid: string): Promise<void> {
    const i = this.guard('hard-reboot', uuid);
    if (await this.libvirt.isActive(i.dom)) await this.libvirt.destroy(i.dom);
    await this.libvirt.defineXML(this.xmlFor(i.plan, uuid));
    await this.libvirt.create(i.dom);
    i.state = 'running';
  }

  /** Snapshot of a running SEV guest: pause, copy the disk (out of scope here), resume; never a managed save. */
  async snapshot(uuid: string): Promise<void> {
    const i = this.guard('snapshot', uuid);
    const wasRunning = i.state === 'running';
    if (wasRunning) await this.libvirt.suspend(i.dom);
    if (wasRunning) await this.libvirt.resume(i.dom);
  }

  /** Rebuild onto another image: validated like a boot (a non-UEFI image is refused), then respawned. */
  async rebuild(uuid: string, image: Image): Promise<Instance> {
    const i = this.guard('rebuild', uuid);
    const req = { ...i.request, image };
    this.plan(req); // refuse before tearing anything down
    await this.teardown(i);
    return this.spawn(req);
  }

  async shelve(uuid: string): Promise<void> {
    const i = this.guard('shelve', uuid);
    await this.teardown(i);
    this.instances.set(uuid, { ...i, state: 'shelved' });
  }

  async unshelve(uuid: string): Promise<Instance> {
    const i = this.guard('unshelve', uuid);
    if (i.state !== 'shelved') throw new Error(`instance ${uuid} is not shelved`);
    this.instances.delete(uuid);
    return this.spawn(i.request);
  }

  /** Cold migration, source side: stop the guest but keep its definition until confirm or revert. */
  async migrateOut(uuid: string): Promise<BootRequest> {
    const i = this.guard('cold-migration', uuid);
    if (await this.libvirt.isActive(i.dom)) await this.libvirt.destroy(i.dom);
    i.state = 'migrating';
    return i.request;
  }

  async confirmMigration(uuid: string): Promise<void> {
    const i = this.instance(uuid);
    await this.teardown(i);
  }

  async revertMigration(uuid: string): Promise<void> {
    const i = this.instance(uuid);
    await this.libvirt.create(i.dom);
    i.state = 'running';
  }

  async destroy(uuid: string): Promise<void> {
    await this.teardown(this.instance(uuid));
  }

  private async teardown(i: Instance): Promise<void> {
    if (i.state !== 'shelved') {
      if (await this.libvirt.isActive(i.dom)) await this.libvirt.destroy(i.dom);
      await this.libvirt.undefine(i.dom);
    }
    this.instances.delete(i.uuid);
  }
}

/** Scheduler demand for a plan or translation: flavor RAM/VCPU plus one context from the model's pool. */
export function demandFor(t: { encrypted: boolean; model: keyof typeof MODELS | null; requiredTraits: readonly string[] }, flavor: { memory_mb: number; vcpus: number }): Demand {
  const resources: Record<string, number> = { [RC_MEMORY_MB]: flavor.memory_mb, [RC_VCPU]: flavor.vcpus };
  if (t.encrypted && t.model) resources[poolKey(t.model)] = 1;
  return { resources, requiredTraits: t.requiredTraits };
}

export { DriverRefusal, REFUSALS, type RefusalCode } from './refusals.ts';
export { detectHost, type DriverConfig, type HostReport } from './detect.ts';
export { translateRequest, planGuest, type GuestPlan, type Flavor, type Image } from './request.ts';
export { buildDomainXml, hostFragments } from './builder.ts';
export { IndexedScheduler } from './scheduler.ts';
export { LinearScheduler } from './scheduler-linear.ts';
export { FakeHostSource, WireSource, SysrootFiles, MapFiles, type LibvirtSource, type HostFiles } from './host-source.ts';
export { guardOperation, OPERATIONS } from './guards.ts';
