/**
 * The reference driver (`src/driver`) behind the conformance contract. One `ReferenceSevDriver`
 * per libvirt URI, created by `reportHost` and reached only through the TypeScript libvirt client,
 * exactly as a compute service would run it. This module only translates: contract shapes to the
 * driver's nova-style shapes and back, driver refusals to contract refusals, libvirt failures of a
 * valid request to HOST_FAULT. A service restart is a new adapter (`createReferenceDriver()`).
 *
 * Variants of the reference driver (conformance/self-test's broken drivers, or your own experiment)
 * plug in through `ReferenceDriverOptions.createDriver`: the adapter stays as it is and the variant
 * is a `ReferenceSevDriver` subclass, or the stock class given other host doors. Which driver
 * member each contract operation reaches, so what an override changes:
 *
 * - reportHost        → `init()` (`reconfigure()` on a config change), whose report comes from the
 *                       protected `detect()`; traits, inventory, planning and XML follow the report;
 * - validateRequest   → with a host: `planGuest` over that driver's `report` (the API and placement
 *                       check, never the driver's `plan`); without: the adapter's API-level rules;
 * - buildGuestXml     → `plan(request, config)`, then `xmlFor(plan, uuid)`;
 * - spawn             → `spawn()` (→ `plan`, `xmlFor`, the libvirt source) or `spawnXml()`;
 * - lifecycle         → `adopt()`, then `pause`, `unpause`, `hardReboot`, `suspend`, `liveMigrate`,
 *                       `snapshot`, `migrateOut`/`confirmMigration`/`revertMigration`, `shelve`,
 *                       `unshelve`, `rebuild`, `resize`, `attach`, `destroy`;
 * - schedule, release → the adapter's own scheduler over the reports it is handed (no driver).
 */
import type { z } from 'zod';
import {
  type CandidateHost,
  HostReportSchema,
  inventoryKey,
  OPERATIONS,
  PROTOCOL_VERSION,
  type BootRequest,
  type DriverConfig as ContractConfig,
  type DriverDescription,
  type GuestXml,
  type HostContext,
  type HostReport as ContractReport,
  type LifecycleParams,
  type LifecycleResult,
  type MemEncryptionModel,
  type ModelReport,
  type OperationName,
  type Outcome,
  type Refusal,
  type Released,
  type Scheduled,
  ScheduleParamsSchema,
  type ScheduleParams,
  type SevDriver,
  type Spawned,
  type ValidatedRequest,
} from '../contract.ts';
import { type DriverConfig, DriverRefusal, type EncryptionModel, type Flavor, type GuestPlan, type HostFiles, type HostReport, firstPlacement, type HostSpec, type Image, type Instance, type LibvirtSource, noValidHost, planGuest, RC_MEMORY_MB, ReferenceSevDriver, refuse, requestText, SysrootFiles, translateRequest, warningCodeOf, WireSource } from '../../src/driver/index.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { LibvirtError } from '../../src/libvirt/errors.ts';


export const REFERENCE_DRIVER_NAME = 'sevharness-reference';

/** One host as a variant's `createDriver` receives it. */
export interface ReferenceHost {
  readonly uri: string;
  readonly sysroot: string;
  /** The adapter's connection to this host's libvirtd; the adapter closes it when it drops the host. */
  readonly client: LibvirtClient;
  /** The doors the stock driver gets: libvirt through `client`, host files under `sysroot`. */
  readonly libvirt: LibvirtSource;
  readonly files: HostFiles;
  /** The operator config of the reportHost call, in the driver's nova-style names. */
  readonly config: DriverConfig;
}

export interface ReferenceDriverOptions {
  /** What `describe()` calls the driver (default `sevharness-reference`). */
  readonly name?: string;
  /**
   * Creates the driver for one host: a `ReferenceSevDriver` subclass, or the stock class over other
   * doors (e.g. a `HostFiles` that answers one file differently). It must return a new driver that
   * has not been initialised; the adapter calls `init()` and owns the driver from then on. The
   * default is `new ReferenceSevDriver(host.libvirt, host.files, host.config)`.
   */
  readonly createDriver?: (host: ReferenceHost) => ReferenceSevDriver;
}

const stockDriver = (h: ReferenceHost): ReferenceSevDriver => new ReferenceSevDriver(h.libvirt, h.files, h.config);

interface HostEntry {
  readonly uri: string;
  readonly client: LibvirtClient;
  readonly driver: ReferenceSevDriver;
  sysroot: string;
  configKey: string;
  report: ContractReport;
  /** Canonical JSON of `report`, to recognise it when a caller hands it back. */
  reportKey: string;
}

interface Claim {
  readonly host: string;
  readonly resources: Readonly<Record<string, number>>;
}

/** JSON with object keys sorted, so equal reports compare equal whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Contract config → the driver's nova-style option names. */
export function driverConfigOf(c: ContractConfig): DriverConfig {
  return {
    hw_machine_type: c.machineTypes,
    ...(c.maxEncryptedGuests !== null && { num_memory_encrypted_guests: c.maxEncryptedGuests }),
    ...(c.ovmf.length > 0 && { ovmf: c.ovmf }),
  };
}

const flavorOf = (f: BootRequest['flavor']): Flavor => ({ name: f.name, vcpus: f.vcpus, memory_mb: f.memoryMiB, extra_specs: f.extraSpecs });
const imageOf = (i: BootRequest['image']): Image => ({ id: i.id, name: i.name, properties: i.properties });

/**
 * The driver's report in the contract's shape: inventories keyed by `inventoryKey(model)`. A model
 * counts as supported when the host can run such guests: detected with slots, or detected and
 * switched off by the operator (`sevCappedToZero`) — not when the BIOS gives it no ASIDs at all.
 */
export function contractReportOf(r: HostReport, sevCappedToZero = false): ContractReport {
  const inventories: ContractReport['inventories'] = {};
  for (const inv of r.inventories) {
    inventories[inventoryKey(inv.model)] = {
      total: inv.total, min_unit: inv.min_unit, max_unit: inv.max_unit, step_size: inv.step_size, allocation_ratio: inv.allocation_ratio, reserved: inv.reserved,
    };
  }
  const model = (m: { available: boolean; slots: number; reason?: string }, source: string, capped = false): ModelReport => ({
    supported: m.available && (m.slots > 0 || capped),
    slots: m.available ? m.slots : 0,
    source: m.reason ?? source,
  });
  return {
    traits: [...r.traits],
    inventories,
    // Texts the driver registered with a code go out coded; anything else stays plain text.
    warnings: r.warnings.map((w) => {
      const code = warningCodeOf(w);
      return code ? { code, message: w } : w;
    }),
    models: {
      'amd-sev': model(r.sev, 'domcaps maxGuests', sevCappedToZero),
      'amd-sev-es': model(r.sevEs, 'domcaps maxESGuests'),
      'amd-sev-snp': model(r.snp, 'domcaps launchSecurity sectypes'),
    },
    sev: r.sev.available && r.sev.cbitpos !== undefined ? { cbitpos: r.sev.cbitpos, reducedPhysBits: r.sev.reducedPhysBits ?? 1 } : null,
  };
}

/** The model's required traits plus the flavor's `trait:NAME=required` extra specs, which a plain request may demand too. */
function requiredTraitsOf(modelTraits: readonly string[], flavor: BootRequest['flavor']): string[] {
  const out = new Set(modelTraits);
  for (const [k, v] of Object.entries(flavor.extraSpecs)) if (k.startsWith('trait:') && v === 'required') out.add(k.slice('trait:'.length));
  return [...out];
}

const refusalOf = (e: DriverRefusal): Refusal => ({ code: e.code, message: e.message });

/** Driver refusals become contract refusals; libvirt failures become HOST_FAULT where the request was valid. */
async function outcome<T>(fn: () => Promise<T>, libvirtIsHostFault: boolean): Promise<Outcome<T>> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DriverRefusal) return refusalOf(e);
    if (libvirtIsHostFault && e instanceof LibvirtError) return { code: 'HOST_FAULT', message: e.message };
    throw e;
  }
}

function parseParams<K extends OperationName>(op: K, p: unknown): z.infer<(typeof OPERATIONS)[K]['params']> {
  const r = OPERATIONS[op].params.safeParse(p);
  if (!r.success) return refuse('INVALID_REQUEST', `invalid ${op} parameters: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data as z.infer<(typeof OPERATIONS)[K]['params']>;
}

/** Candidate reports already checked against the contract (by object: a caller hands one report to every host of a kind). */
const checkedReports = new WeakSet<object>();
const ScheduleParamsWithoutHosts = ScheduleParamsSchema.omit({ hosts: true });
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** What CandidateHostSchema accepts, for a candidate whose report was checked before. */
function plainCandidate(h: unknown): h is CandidateHost {
  if (typeof h !== 'object' || h === null) return false;
  const { name, report, freeRamMiB, allocations } = h as Record<string, unknown>;
  if (typeof name !== 'string' || name === '' || !isCount(freeRamMiB) || typeof allocations !== 'object' || allocations === null || Array.isArray(allocations)) return false;
  if (!Object.values(allocations).every(isCount)) return false;
  if (typeof report !== 'object' || report === null) return false;
  if (!checkedReports.has(report)) {
    if (!HostReportSchema.safeParse(report).success) return false;
    checkedReports.add(report);
  }
  return true;
}

/**
 * schedule's parameters as parseParams checks them, but each candidate's report once per distinct
 * object: a thousand-host fleet has a handful of kinds, and zod walking every host's report again
 * at every placement was most of a placement's cost. Anything wrong gets parseParams' own words.
 */
function parseScheduleParams(p: unknown): ScheduleParams {
  const hosts: unknown = typeof p === 'object' && p !== null ? (p as { hosts?: unknown }).hosts : undefined;
  const rest = ScheduleParamsWithoutHosts.safeParse(p);
  if (!rest.success || !Array.isArray(hosts) || !hosts.every(plainCandidate)) return parseParams('schedule', p);
  return { ...rest.data, hosts };
}

/** The contract operations this adapter implements, as describe() lists them and the constructor binds them. */
const ADAPTER_OPS = ['reportHost', 'validateRequest', 'buildGuestXml', 'spawn', 'lifecycle', 'schedule', 'release'] as const satisfies readonly OperationName[];

export class ReferenceDriverAdapter implements SevDriver {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly claims = new Map<string, Claim>();
  private readonly name: string;
  private readonly createDriver: (host: ReferenceHost) => ReferenceSevDriver;

  constructor(options: ReferenceDriverOptions = {}) {
    this.name = options.name ?? REFERENCE_DRIVER_NAME;
    this.createDriver = options.createDriver ?? stockDriver;
    // Callers may take an operation off the object (`const v = driver.validateRequest`).
    for (const op of [...ADAPTER_OPS, 'close', 'describe'] as const) {
      (this as Record<typeof op, unknown>)[op] = (this[op] as (...a: unknown[]) => unknown).bind(this);
    }
  }

  describe(): DriverDescription {
    return {
      name: this.name,
      version: String(PROTOCOL_VERSION) + '.0.0',
      ops: [...ADAPTER_OPS],
      models: ['amd-sev', 'amd-sev-es', 'amd-sev-snp'],
      behaviour: 'master',
    };
  }

  /** Detects once per URI and config (as a service caches detection); a changed config re-detects. */
  async reportHost(params: Parameters<SevDriver['reportHost']>[0]): Promise<ContractReport> {
    const r = OPERATIONS.reportHost.params.safeParse(params);
    if (!r.success) throw new Error(`invalid reportHost parameters: ${r.error.message}`);
    const { uri, sysroot, config } = r.data;
    const configKey = canonicalJson(config);
    let entry = this.hosts.get(uri);
    if (entry && entry.sysroot === sysroot && entry.configKey === configKey) return entry.report;
    let report: HostReport;
    if (entry && entry.sysroot === sysroot) {
      report = await entry.driver.reconfigure(driverConfigOf(config));
    } else {
      if (entry) await this.dropHost(entry);
      const client = await connect(uri);
      let driver: ReferenceSevDriver;
      try {
        driver = this.createDriver({ uri, sysroot, client, libvirt: new WireSource(client), files: new SysrootFiles(sysroot), config: driverConfigOf(config) });
        if (!(driver instanceof ReferenceSevDriver)) throw new TypeError('createDriver must return a ReferenceSevDriver (or a subclass of it)');
        report = await driver.init();
      } catch (e) {
        await client.close().catch(() => undefined);
        throw e;
      }
      entry = { uri, client, driver, sysroot, configKey, report: { traits: [], inventories: {}, warnings: [] }, reportKey: '' };
      this.hosts.set(uri, entry);
    }
    entry.configKey = configKey;
    entry.report = contractReportOf(report, config.maxEncryptedGuests === 0);
    entry.reportKey = canonicalJson(entry.report);
    return entry.report;
  }

  private async dropHost(entry: HostEntry): Promise<void> {
    this.hosts.delete(entry.uri);
    await entry.client.close().catch(() => undefined);
  }

  /**
   * The host whose report this is. Without a report the answer is API-level and must not depend on
   * which hosts this adapter happened to see before.
   */
  private hostFor(report: HostContext | undefined): HostEntry | null {
    if (!report) return null;
    // The runner says which host (contract 0.2); a caller that does not is recognised by its report.
    if (report.uri !== undefined) return this.hosts.get(report.uri) ?? null;
    const key = canonicalJson(report);
    for (const e of this.hosts.values()) if (e.reportKey === key) return e;
    return null;
  }

  private entry(uri: string): HostEntry {
    const e = this.hosts.get(uri);
    if (!e) throw new Error(`no host reported for ${uri}: call reportHost with this URI first`);
    return e;
  }

  /** The placement-side check of a request against a host's report (validateRequest); the driver's `plan` is not involved. */
  private validationPlan(entry: HostEntry, request: BootRequest): GuestPlan {
    return planGuest({ name: 'validate', flavor: flavorOf(request.flavor), image: imageOf(request.image) }, entry.driver.report, driverConfigOf(request.config));
  }

  async validateRequest(params: Parameters<NonNullable<SevDriver['validateRequest']>>[0]): Promise<Outcome<ValidatedRequest>> {
    return outcome(async () => {
      const p = parseParams('validateRequest', params);
      const entry = this.hostFor(p.host);
      let model: EncryptionModel | null;
      let requiredTraits: readonly string[];
      let machineType: string | undefined;
      if (entry) {
        const plan = this.validationPlan(entry, p);
        ({ model, requiredTraits } = plan);
        machineType = plan.machine;
      } else {
        ({ model, requiredTraits } = this.translate(p));
        machineType = p.image.properties.hw_machine_type?.toString() ?? p.config.machineTypes.x86_64;
        if (p.host && model) checkAgainstReport(p.host, model);
      }
      return {
        resources: model ? { [inventoryKey(model)]: 1 } : {},
        requiredTraits: requiredTraitsOf(requiredTraits, p.flavor),
        model,
        ...(machineType !== undefined && { machineType }),
      };
    }, false);
  }

  /** API-level validation (no host): the flags, conflicts, UEFI and q35 rules, host default included. */
  private translate(p: BootRequest): { model: EncryptionModel | null; requiredTraits: readonly string[] } {
    const t = translateRequest(flavorOf(p.flavor), imageOf(p.image));
    if (t.encrypted) {
      const mt = p.image.properties.hw_machine_type ?? p.config.machineTypes.x86_64 ?? 'pc';
      if (typeof mt === 'string' && !mt.includes('q35')) refuse('Q35_REQUIRED', requestText.notQ35(mt, p.image.name, p.image.id));
    }
    return { model: t.model, requiredTraits: t.requiredTraits };
  }

  async buildGuestXml(params: Parameters<NonNullable<SevDriver['buildGuestXml']>>[0]): Promise<Outcome<GuestXml>> {
    return outcome(async () => {
      const p = parseParams('buildGuestXml', params);
      const entry = this.hostFor(p.host);
      if (!entry) throw new Error('buildGuestXml: the host report was not produced by this adapter (call reportHost for the host first)');
      const { driver } = entry;
      const plan = driver.plan({ name: p.instance.name, flavor: flavorOf(p.request.flavor), image: imageOf(p.request.image) }, driverConfigOf(p.request.config));
      return { xml: driver.xmlFor(plan, p.instance.uuid) };
    }, false);
  }

  async spawn(params: Parameters<NonNullable<SevDriver['spawn']>>[0]): Promise<Outcome<Spawned>> {
    return outcome(async () => {
      const p = parseParams('spawn', params);
      const { driver } = this.entry(p.uri);
      const inst = 'xml' in p
        ? await driver.spawnXml(p.xml)
        : await driver.spawn({ uuid: p.instance.uuid, name: p.instance.name, flavor: flavorOf(p.request.flavor), image: imageOf(p.request.image) });
      return { domainName: inst.dom.name, uuid: inst.uuid };
    }, true);
  }

  async lifecycle(params: LifecycleParams): Promise<Outcome<LifecycleResult>> {
    return outcome(async () => this.runLifecycle(parseParams('lifecycle', params)), true);
  }

  private async runLifecycle(p: LifecycleParams): Promise<LifecycleResult> {
    const source = this.entry(p.uri);
    const target = p.targetUri !== undefined ? this.entry(p.targetUri) : source;
    const uuid = p.instance.uuid;
    const original = { uuid, name: p.instance.name, flavor: flavorOf(p.request.flavor), image: imageOf(p.request.image) };
    const d = source.driver;
    if (p.operation === 'unshelve' && !d.has(uuid)) {
      // Shelved before a restart: nothing is left in libvirt, the request is all there is.
      return this.after(target, await target.driver.spawn(original));
    }
    const inst = await d.adopt(uuid, original);
    switch (p.operation) {
      case 'pause':
        await d.pause(uuid);
        return this.after(source, inst);
      case 'resume':
        await d.unpause(uuid);
        return this.after(source, inst);
      case 'hard-reboot':
        await d.hardReboot(uuid);
        return this.after(source, inst);
      case 'suspend':
        await d.suspend(uuid);
        return this.after(source, inst);
      case 'live-migrate':
        return d.liveMigrate(uuid);
      case 'snapshot':
        await d.snapshot(uuid);
        return this.after(source, inst);
      case 'cold-migrate': {
        const req = await d.migrateOut(uuid);
        if (target === source) {
          // Same host (allow_resize_to_same_host): the guest is launched anew under a fresh context.
          await d.revertMigration(uuid);
          return this.after(source, inst);
        }
        let moved: Instance;
        try {
          moved = await target.driver.spawn(req);
        } catch (e) {
          await d.revertMigration(uuid);
          throw e;
        }
        await d.confirmMigration(uuid);
        return this.after(target, moved);
      }
      case 'shelve':
        await d.shelve(uuid);
        return { ok: true };
      case 'unshelve': {
        if (target === source) return this.after(source, await d.unshelve(uuid));
        const req = d.instance(uuid).request ?? original;
        d.forget(uuid);
        return this.after(target, await target.driver.spawn(req));
      }
      case 'rebuild': {
        if (!p.image) refuse('INVALID_REQUEST', 'rebuild needs the new image');
        return this.after(source, await d.rebuild(uuid, imageOf(p.image!)));
      }
      case 'resize': {
        if (!p.flavor) refuse('INVALID_REQUEST', 'resize needs the new flavor');
        return this.after(source, await d.resize(uuid, flavorOf(p.flavor!)));
      }
      case 'attach-volume':
      case 'attach-interface': {
        const mode = await d.attach(uuid, p.operation === 'attach-volume' ? 'volume' : 'interface');
        // Without hot-plug in libvirt the device is in the persistent definition only: show that one.
        return { ok: true, xml: await d.libvirt.getXMLDesc(inst.dom, mode === 'config' ? 2 : 0) };
      }
      case 'delete':
        await d.destroy(uuid);
        return { ok: true };
    }
  }

  private async after(entry: HostEntry, inst: Instance): Promise<LifecycleResult> {
    return { ok: true, xml: await entry.driver.libvirt.getXMLDesc(inst.dom) };
  }

  /**
   * Places the request over the candidates with the reference scheduler's filter and weigher, in
   * one pass (`firstPlacement`): a ledger (`IndexedScheduler`'s buckets) pays off across many
   * placements, not when built for one over a list handed in. `allocations` and
   * `freeRamMiB` are the usage the caller knows of; this adapter's own outstanding claims on a host
   * come on top, since the runner keeps no allocation state of its own (PROTOCOL.md §4).
   */
  async schedule(params: Parameters<NonNullable<SevDriver['schedule']>>[0]): Promise<Outcome<Scheduled>> {
    return outcome(async () => {
      const p = parseScheduleParams(params);
      const { model, requiredTraits } = this.translate(p.request);
      const uuid = p.instance.uuid;
      this.claims.delete(uuid); // a reschedule replaces the instance's earlier claim
      const demand = {
        resources: { ...(model ? { [inventoryKey(model)]: 1 } : {}), [RC_MEMORY_MB]: p.request.flavor.memoryMiB },
        requiredTraits: requiredTraitsOf(requiredTraits, p.request.flavor),
      };
      const claimed = this.claimsByHost();
      const specs = p.hosts.map((h): HostSpec => {
        const mine = claimed.get(h.name) ?? {};
        const capacity: Record<string, number> = { [RC_MEMORY_MB]: Math.max(0, h.freeRamMiB - (mine[RC_MEMORY_MB] ?? 0)) };
        for (const [key, inv] of Object.entries(h.report.inventories)) {
          capacity[key] = Math.max(0, inv.total - inv.reserved - (h.allocations[key] ?? 0) - (mine[key] ?? 0));
        }
        return { id: h.name, traits: h.report.traits, capacity };
      });
      const host = firstPlacement(specs, demand) ?? refuse('NO_VALID_HOST', noValidHost);
      this.claims.set(uuid, { host, resources: demand.resources });
      return { host, allocation: { ...demand.resources } };
    }, false);
  }

  /** This adapter's outstanding claims summed per host, by resource class. */
  private claimsByHost(): Map<string, Record<string, number>> {
    const out = new Map<string, Record<string, number>>();
    for (const c of this.claims.values()) {
      let sum = out.get(c.host);
      if (!sum) out.set(c.host, (sum = {}));
      for (const [k, v] of Object.entries(c.resources)) sum[k] = (sum[k] ?? 0) + v;
    }
    return out;
  }

  async release(params: Parameters<NonNullable<SevDriver['release']>>[0]): Promise<Outcome<Released>> {
    return outcome(async () => {
      const p = parseParams('release', params);
      const c = this.claims.get(p.instance.uuid);
      if (!c || c.host !== p.host) refuse('UNKNOWN_INSTANCE', `no allocation for ${p.instance.uuid} on ${p.host}`);
      this.claims.delete(p.instance.uuid);
      return { ok: true, freed: { ...c!.resources } };
    }, false);
  }

  async close(): Promise<void> {
    for (const e of [...this.hosts.values()]) await this.dropHost(e);
    this.claims.clear();
  }
}

/** Model checks against a report this adapter did not produce (another driver's or a hand-made one). */
function checkAgainstReport(host: ContractReport, model: MemEncryptionModel): void {
  const m = host.models?.[model];
  const name = model === 'amd-sev' ? 'SEV' : model === 'amd-sev-es' ? 'SEV-ES' : 'SEV-SNP';
  const unsupported = model === 'amd-sev' ? 'NO_SEV_HOST' : model === 'amd-sev-es' ? 'SEV_ES_UNAVAILABLE' : 'NO_SLOTS';
  if (m && !m.supported) refuse(unsupported, `the host report says ${name} is unsupported`);
  if (!host.inventories[inventoryKey(model)]) refuse('NO_SLOTS', requestText.noSlots(name));
}

/**
 * The reference driver as a conformance `SevDriver`; a new one per compute-service start. With
 * `createDriver`, a variant of it (see `ReferenceDriverOptions` and the module comment).
 */
export function createReferenceDriver(options: ReferenceDriverOptions = {}): SevDriver {
  return new ReferenceDriverAdapter(options);
}

