/**
 * Everything one case run holds: its host (and any extra hosts it opened), the driver slot, the
 * operator config and request as arranged, the guests it booted, and the driver calls judges make.
 * Judges reach the driver only through here, so every answer is contract-checked in one place.
 */
import { inventoryKey, isRefusal, type BootRequest, type HostContext, type DriverConfig, type HostReport, type InstanceRef, type OpParams, type OpResult, type OperationName, type Outcome, type Refusal, type Spawned, type ValidateParams } from '../contract.ts';
import type { Case } from '../catalogue/types.ts';
import type { ProfileTruth } from '../truth.ts';
import type { DriverSlot } from './driver-slot.ts';
import { MalformedAnswer, type Verdict } from './outcomes.ts';
import { encryptionModelOf, withConfig, type InstanceNames } from './requests.ts';
import type { Target, TargetHost } from './target.ts';

/** A guest the case booted through the driver and has not deleted. */
export interface BootedGuest {
  readonly instance: InstanceRef;
  readonly request: BootRequest;
  readonly spawned: Spawned;
  readonly host: TargetHost;
}

/** Operations that act on a host: a case using any of them runs on a reported host. */
const HOST_BOUND: ReadonlySet<OperationName> = new Set(['reportHost', 'buildGuestXml', 'spawn', 'lifecycle']);

/** A case judged at API level (request validation alone): no host is reported or passed for it. */
export function isHostless(c: Case): boolean {
  return !c.ops.some((op) => HOST_BOUND.has(op));
}

export const refusalText = (r: Refusal): string => `${r.code} (${r.message})`;

/**
 * The host of a case judged at API level: there is none, so none is built (a daemon and its socket
 * per case); reaching for it is the runner's mistake and ends the case as an error that says so.
 */
export function apiLevelHost(name: string, truth: ProfileTruth): TargetHost {
  const none = (): never => {
    throw new Error('a case judged at API level has no host');
  };
  return {
    name,
    truth,
    get uri(): string {
      return none();
    },
    get sysroot(): string {
      return none();
    },
    apply: none,
    inspect: none,
    runningDomains: none,
    domainXml: none,
    close: async () => undefined,
  };
}

export class CaseContext {
  /** XML the last lifecycle operation left; the xml judge looks at it instead of building anew. */
  xmlSubject: string | null = null;
  /** Guest XML documents to check against libvirt's schema after the profile's cases ran. */
  readonly schemaChecks: string[] = [];
  readonly booted: BootedGuest[] = [];
  /** In a shared run (run.ts), where the verdict of the case this one continues is handed over. */
  prefixVerdict: Verdict | null = null;
  private readonly extraHosts: TargetHost[] = [];
  private reportCache: HostReport | null = null;
  private configValue: DriverConfig;

  constructor(
    readonly kase: Case,
    readonly truth: ProfileTruth,
    readonly host: TargetHost,
    readonly target: Target,
    readonly slot: DriverSlot,
    private readonly requestValue: BootRequest,
    private readonly names: InstanceNames,
  ) {
    this.configValue = requestValue.config;
  }

  get config(): DriverConfig {
    return this.configValue;
  }

  /** The case's request, under the config as it stands now. */
  get request(): BootRequest {
    return withConfig(this.requestValue, this.configValue);
  }

  setConfig(patch: Partial<DriverConfig>): void {
    this.configValue = { ...this.configValue, ...patch };
    this.reportCache = null;
  }

  /** validateRequest's parameters: the request, plus the host's report unless the case is API-level. */
  async validateParams(): Promise<ValidateParams> {
    return isHostless(this.kase) ? this.request : { ...this.request, host: await this.hostContext() };
  }

  /** The host as the driver is handed it back: its report of the host, plus the host's URI and sysroot. */
  async hostContext(host: TargetHost = this.host): Promise<HostContext> {
    return { ...(await this.report(host)), uri: host.uri, sysroot: host.sysroot };
  }

  /** A judge's word that the steps of a case this one continues (catalogue `continues`) ended with `v`. */
  prefixJudged(v: Verdict): void {
    this.prefixVerdict ??= v;
  }

  get openedExtraHosts(): boolean {
    return this.extraHosts.length > 0;
  }

  newInstance(): InstanceRef {
    return this.names.next();
  }

  /** Another host for fleets and migration destinations; closed with the case. */
  async openHost(profile: string): Promise<TargetHost> {
    const h = await this.target.open(profile);
    this.extraHosts.push(h);
    return h;
  }

  call<K extends OperationName>(op: K, params: OpParams<K>): Promise<Outcome<OpResult<K>>> {
    return this.slot.call(op, params);
  }

  /** The driver's report of a host under the current config (of this host: cached until a restart or config change). */
  async report(host: TargetHost = this.host, config: DriverConfig = this.configValue): Promise<HostReport> {
    const cacheable = host === this.host && config === this.configValue;
    if (cacheable && this.reportCache) return this.reportCache;
    const r = await this.slot.call('reportHost', { uri: host.uri, sysroot: host.sysroot, config });
    if (isRefusal(r as Outcome<object>)) throw new MalformedAnswer('reportHost answered a refusal; it must always report');
    const report = r as HostReport;
    if (cacheable) this.reportCache = report;
    return report;
  }

  /** A service restart: a new driver, which detects its host first as a compute service does. */
  async restartDriver(): Promise<void> {
    await this.slot.restart();
    this.reportCache = null;
    await this.report();
  }

  /** The driver's guest XML for the case's request on this (reported) host, for a new instance. */
  async buildGuestXml(): Promise<Outcome<OpResult<'buildGuestXml'>>> {
    return this.slot.call('buildGuestXml', { request: this.request, host: await this.hostContext(), instance: this.newInstance() });
  }

  /** Spawns a guest through the driver; a success is remembered as booted. */
  async spawn(request: BootRequest = this.request, host: TargetHost = this.host): Promise<Outcome<Spawned> & object> {
    const instance = this.newInstance();
    const r = await this.slot.call('spawn', { uri: host.uri, request, instance });
    if (!isRefusal(r)) this.booted.push({ instance, request, spawned: r, host });
    return r;
  }

  /** Deletes a booted guest through the driver's lifecycle. */
  async delete(guest: BootedGuest): Promise<Outcome<OpResult<'lifecycle'>>> {
    const r = await this.slot.call('lifecycle', { operation: 'delete', uri: guest.host.uri, instance: guest.instance, request: guest.request });
    if (!isRefusal(r)) this.booted.splice(this.booted.indexOf(guest), 1);
    return r;
  }

  /** Domain names of the guests the case booted and has not deleted. */
  bootedNames(): string[] {
    return this.booted.map((g) => g.spawned.domainName);
  }

  /** Encrypted-guest slots the case's own guests occupy on a host, by inventory key. */
  bootedAllocations(host: TargetHost): Record<string, number> {
    const out: Record<string, number> = {};
    for (const g of this.booted) {
      if (g.host !== host) continue;
      const m = encryptionModelOf(g.request);
      if (m) out[inventoryKey(m)] = (out[inventoryKey(m)] ?? 0) + 1;
    }
    return out;
  }

  async close(): Promise<void> {
    for (const h of this.extraHosts.splice(0)) await h.close();
    await this.host.close();
  }
}
