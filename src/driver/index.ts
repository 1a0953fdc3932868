/**
 * `sevharness/driver`: the reference SEV compute driver: detect the host once, validate requests,
 * build domain XML, drive libvirt through a `LibvirtSource`, and guard lifecycle operations SEV
 * cannot survive.
 *
 *   import { ReferenceSevDriver, SysrootFiles, WireSource } from 'sevharness/driver';
 *   import { connect } from 'sevharness/client';
 *   const driver = new ReferenceSevDriver(new WireSource(await connect(uri)), new SysrootFiles(sysroot));
 *   await driver.init();
 */
import { buildDomainXml, hostFragments, type HostFragments } from './builder.ts';
import { coded, detectHost, type DriverConfig, type HostReport } from './detect.ts';
import { guardOperation, type LifecycleOperation } from './guards.ts';
import type { DomainIdentity, HostFiles, LibvirtSource } from './host-source.ts';
import { interfaceDeviceXml, nextVirtioDiskTarget, volumeDeviceXml, withDevice, type HotplugKind } from './hotplug.ts';
import { MODELS, poolKey, type EncryptionModel } from './inventory.ts';
import { DriverRefusal, refuse } from './refusals.ts';
import { planGuest, type Flavor, type GuestPlan, type Image } from './request.ts';
import { RC_MEMORY_MB, RC_VCPU, type Demand, type HostSpec } from './scheduler.ts';
import { isLibvirtError, VirErrorNumber } from '../libvirt/errors.ts';
import { DeviceModifyFlags, DomainFlags } from '../libvirt/flags.ts';

export interface BootRequest {
  readonly uuid: string;
  readonly name: string;
  readonly flavor: Flavor;
  readonly image: Image;
}

export interface Instance {
  readonly uuid: string;
  /** Null for a domain defined from caller-supplied XML (no request to plan from). */
  readonly request: BootRequest | null;
  readonly plan: GuestPlan | null;
  readonly xml: string;
  readonly dom: DomainIdentity;
  readonly encrypted: boolean;
  /** Devices attached after boot; kept so a hard reboot's regenerated XML still has them. */
  readonly attached: string[];
  state: 'running' | 'paused' | 'stopped' | 'shelved' | 'migrating';
}

/** How an attach reached the guest: hot-plugged, or only into the persistent definition. */
export type AttachMode = 'live' | 'config';

const LAUNCH_SECURITY_RE = /<launchSecurity[\s>]/;

/** The model a domain document launches with: sev-snp type, the ES policy bit, or plain SEV. */
function encryptionModelOfXml(xml: string): EncryptionModel | null {
  const ls = /<launchSecurity\s[^>]*type=['"]([^'"]+)['"][^]*?<policy>\s*(0x[0-9a-fA-F]+|\d+)\s*<\/policy>/.exec(xml);
  if (!ls) return null;
  if (ls[1] === 'sev-snp') return 'amd-sev-snp';
  return (Number(ls[2]) & 0x4) !== 0 ? 'amd-sev-es' : 'amd-sev';
}

export const overCommitText = coded('GUESTS_EXCEED_SLOTS', (running: number, model: string, slots: number) =>
  `${running} ${model} guest(s) are running but this host now offers ${slots} ${model} slot(s) (memory encryption capped or disabled): they keep running, new ${model} guests are refused until usage drops below the cap.`);

/** Running encrypted guests beyond the slots now offered: they survive, the operator is told. */
function overCommitWarnings(report: HostReport, running: Record<EncryptionModel, number>): string[] {
  const slots: Record<EncryptionModel, number> = { 'amd-sev': report.sev.slots, 'amd-sev-es': report.sevEs.slots, 'amd-sev-snp': report.snp.slots };
  return (Object.keys(running) as EncryptionModel[]).filter((m) => running[m] > slots[m]).map((m) => overCommitText(running[m], m, slots[m]));
}

export class ReferenceSevDriver {
  private reportValue: HostReport | null = null;
  private fragments: HostFragments | null = null;
  private readonly instances = new Map<string, Instance>();
  private cfg: DriverConfig;

  constructor(
    readonly libvirt: LibvirtSource,
    readonly files: HostFiles,
    config: DriverConfig = {},
  ) {
    this.cfg = config;
  }

  get config(): DriverConfig {
    return this.cfg;
  }

  /** Detects the host; call once at service start (and again only on a restart). */
  async init(): Promise<HostReport> {
    const detected = await this.detect();
    const over = overCommitWarnings(detected, await this.runningEncryptedGuests());
    this.reportValue = over.length ? { ...detected, warnings: [...detected.warnings, ...over] } : detected;
    this.fragments = hostFragments(this.reportValue, this.cfg.ovmf);
    return this.reportValue;
  }

  /**
   * What the host offers, from libvirt and the host files under the current config. Overridable so
   * a variant of this driver (conformance/self-test) can change detection and let everything built
   * on the report (traits, inventory, planning, XML) follow from it.
   */
  protected detect(): Promise<HostReport> {
    return detectHost(this.libvirt, this.files, this.cfg);
  }

  /** Encrypted guests already running on the host, by model (read from their live XML). */
  private async runningEncryptedGuests(): Promise<Record<EncryptionModel, number>> {
    const n: Record<EncryptionModel, number> = { 'amd-sev': 0, 'amd-sev-es': 0, 'amd-sev-snp': 0 };
    for (const dom of await this.libvirt.listActive()) {
      const model = encryptionModelOfXml(await this.libvirt.getXMLDesc(dom).catch(() => ''));
      if (model) n[model] += 1;
    }
    return n;
  }

  /** A service restart with new settings: detection runs again, running instances are kept. */
  async reconfigure(config: DriverConfig): Promise<HostReport> {
    this.cfg = config;
    return this.init();
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

  /** `config` defaults to the driver's own; a caller holding a request's config (the conformance adapter) passes it. */
  plan(req: Omit<BootRequest, 'uuid'>, config: DriverConfig = this.cfg): GuestPlan {
    return planGuest(req, this.report, config);
  }

  xmlFor(plan: GuestPlan, uuid: string): string {
    if (!this.fragments) throw new Error('ReferenceSevDriver.init() has not run');
    return buildDomainXml(plan, this.fragments, { uuid, memoryPolicy: this.cfg.memory_policy ?? 'locked' });
  }

  instance(uuid: string): Instance {
    return this.instances.get(uuid) ?? refuse('UNKNOWN_INSTANCE', `instance ${uuid} is not on this host`);
  }

  has(uuid: string): boolean {
    return this.instances.has(uuid);
  }

  list(): Instance[] {
    return [...this.instances.values()];
  }

  /** Validates, defines and starts; a failed start leaves no definition behind. */
  async spawn(req: BootRequest): Promise<Instance> {
    const plan = this.plan(req);
    const xml = this.xmlFor(plan, req.uuid);
    const dom = await this.start(xml);
    const inst: Instance = { uuid: req.uuid, request: req, plan, xml, dom, encrypted: plan.encrypted, attached: [], state: 'running' };
    this.instances.set(req.uuid, inst);
    return inst;
  }

  /** Defines and starts caller-supplied XML (a test or an operator's own document); no planning. */
  async spawnXml(xml: string): Promise<Instance> {
    const dom = await this.start(xml);
    const inst: Instance = { uuid: dom.uuid, request: null, plan: null, xml, dom, encrypted: LAUNCH_SECURITY_RE.test(xml), attached: [], state: 'running' };
    this.instances.set(dom.uuid, inst);
    return inst;
  }

  private async start(xml: string): Promise<DomainIdentity> {
    const dom = await this.libvirt.defineXML(xml);
    try {
      await this.libvirt.create(dom);
    } catch (e) {
      await this.libvirt.undefine(dom).catch(() => undefined);
      throw e;
    }
    return dom;
  }

  /**
   * Takes over a domain this driver instance did not start (after a service restart): libvirt must
   * know the UUID; the request it was booted with is planned again when this host still accepts it.
   */
  async adopt(uuid: string, request: Omit<BootRequest, 'uuid'>): Promise<Instance> {
    const known = this.instances.get(uuid);
    if (known) return known;
    const dom = (await this.libvirt.lookup(uuid)) ?? refuse('UNKNOWN_INSTANCE', `instance ${uuid} is not on this host`);
    const xml = await this.libvirt.getXMLDesc(dom);
    let plan: GuestPlan | null = null;
    try {
      plan = this.plan(request);
    } catch (e) {
      if (!(e instanceof DriverRefusal)) throw e;
    }
    const active = await this.libvirt.isActive(dom);
    const inst: Instance = { uuid, request: { ...request, uuid }, plan, xml, dom, encrypted: LAUNCH_SECURITY_RE.test(xml), attached: [], state: active ? 'running' : 'stopped' };
    this.instances.set(uuid, inst);
    return inst;
  }

  private guard(op: LifecycleOperation, uuid: string): Instance {
    const inst = this.instance(uuid);
    guardOperation(op, inst);
    return inst;
  }

  private requestOf(i: Instance): BootRequest {
    return i.request ?? refuse('NOT_IMPLEMENTED', `instance ${i.uuid} was defined from raw XML; it has no request to rebuild from`);
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
    return refuse('NOT_IMPLEMENTED', 'live migration of non-SEV guests is outside this reference driver');
  }

  async attachPciDevice(uuid: string): Promise<never> {
    this.guard('pci-passthrough', uuid);
    return refuse('NOT_IMPLEMENTED', 'PCI passthrough of non-SEV guests is outside this reference driver');
  }

  /** Hard reboot: destroy and start again from freshly generated XML (as nova regenerates it). */
  async hardReboot(uuid: string): Promise<void> {
    const i = this.guard('hard-reboot', uuid);
    if (await this.libvirt.isActive(i.dom)) await this.libvirt.destroy(i.dom);
    let xml = i.plan ? this.xmlFor(i.plan, uuid) : i.xml;
    for (const d of i.attached) xml = withDevice(xml, d);
    await this.libvirt.defineXML(xml);
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
    const req = { ...this.requestOf(i), image };
    this.plan(req); // refuse before tearing anything down
    await this.teardown(i);
    return this.spawn(req);
  }

  /** Resize on this host: the new flavor governs encryption (to or from SEV), validated before teardown. */
  async resize(uuid: string, flavor: Flavor): Promise<Instance> {
    const i = this.guard('resize', uuid);
    const req = { ...this.requestOf(i), flavor };
    this.plan(req);
    await this.teardown(i);
    return this.spawn(req);
  }

  async shelve(uuid: string): Promise<void> {
    const i = this.guard('shelve', uuid);
    this.requestOf(i); // refuse before tearing down: unshelve respawns from the request
    await this.teardown(i);
    this.instances.set(uuid, { ...i, state: 'shelved' });
  }

  async unshelve(uuid: string): Promise<Instance> {
    const i = this.guard('unshelve', uuid);
    if (i.state !== 'shelved') throw new Error(`instance ${uuid} is not shelved`);
    this.instances.delete(uuid);
    return this.spawn(this.requestOf(i));
  }

  /** Drops the record of a shelved instance that was unshelved on another host. */
  forget(uuid: string): void {
    const i = this.instance(uuid);
    if (i.state !== 'shelved') throw new Error(`instance ${uuid} is ${i.state}, not shelved; delete it instead`);
    this.instances.delete(uuid);
  }

  /** Cold migration, source side: stop the guest but keep its definition until confirm or revert. */
  async migrateOut(uuid: string): Promise<BootRequest> {
    const i = this.guard('cold-migration', uuid);
    const req = this.requestOf(i);
    if (await this.libvirt.isActive(i.dom)) await this.libvirt.destroy(i.dom);
    i.state = 'migrating';
    return req;
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

  /**
   * Attaches a new virtio volume or NIC with the SEV device rules (hotplug.ts). Live and persistent
   * where libvirt can hot-plug; a libvirt without the procedure (VIR_ERR_NO_SUPPORT) gets the device
   * in the persistent definition only, so it appears at the next start.
   */
  async attach(uuid: string, kind: HotplugKind): Promise<AttachMode> {
    const i = this.guard(kind === 'volume' ? 'attach-volume' : 'attach-interface', uuid);
    const current = await this.libvirt.getXMLDesc(i.dom, DomainFlags.XML_INACTIVE);
    const device = kind === 'volume' ? volumeDeviceXml(i.dom.name, nextVirtioDiskTarget(current), i.encrypted) : interfaceDeviceXml(i.encrypted);
    let mode: AttachMode = 'live';
    try {
      await this.libvirt.attachDevice(i.dom, device, DeviceModifyFlags.AFFECT_LIVE | DeviceModifyFlags.AFFECT_CONFIG);
    } catch (e) {
      if (!isLibvirtError(e, VirErrorNumber.NO_SUPPORT)) throw e;
      await this.libvirt.defineXML(withDevice(current, device));
      mode = 'config';
    }
    i.attached.push(device);
    return mode;
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
export { firstPlacement, IndexedScheduler, noValidHost } from './scheduler.ts';
export { LinearScheduler } from './scheduler-linear.ts';
export { WireSource, SysrootFiles, MapFiles, UNDEFINE_WITH_NVRAM_AND_SAVE, type LibvirtSource, type HostFiles, type DomainIdentity } from './host-source.ts';
export { interfaceDeviceXml, volumeDeviceXml, withDevice, nextVirtioDiskTarget, type HotplugKind } from './hotplug.ts';
export { guardOperation, OPERATIONS } from './guards.ts';
export { RC_MEMORY_MB, RC_VCPU, type Demand, type HostSpec } from './scheduler.ts';
export { MODELS, poolKey, type EncryptionModel } from './inventory.ts';
export type { LifecycleOperation } from './guards.ts';
export type { HostFragments } from './builder.ts';

// What driver variants build on (conformance/self-test's broken drivers, the conformance adapter,
// a user's own variant): the files detection reads, its texts, and the pieces it is made of.
export { CPUINFO_FILE, DEV_SEV, KVM_AMD_PARAM_DIR, NO_PLAIN_SEV_ASIDS, warningCodeOf, type ModelReport } from './detect.ts';
export { hostInventory, hostTraits } from './inventory.ts';
export { requestText } from './request.ts';
export { refuse } from './refusals.ts';
export { parseCapabilities } from './host-xml.ts';
