/**
 * The real target: one libvirt host (`--target real --uri …`) whose truth is read from the host
 * itself (detect.ts). It can do none of the fake's runtime control — kernel parameters, firmware
 * faults and capability caches belong to the machine's owner — so `apply` answers false for them
 * and those cases are not applicable; it cannot look inside QEMU, so `inspect` is null. What the
 * driver boots is judged through libvirt's own view (`runningDomains`). Every case starts from the state the host had
 * when the target was opened: domains the case's driver left behind (the runner's instance UUIDs)
 * and the real-mode checks' own domains are destroyed and undefined when the case closes.
 */
import { connect, uuidString, type LibvirtClient } from '../../src/libvirt/client.ts';
import type { HostAction } from '../catalogue/types.ts';
import type { HostSnapshot } from '../../fakelibvirt/host/fake-host.ts';
import type { ProfileTruth } from '../truth.ts';
import type { Target, TargetHost } from '../runner/target.ts';
import { NotApplicable } from '../runner/outcomes.ts';
import { detectRealHost, type RealHostDetection } from './detect.ts';
import { HostFactsError } from './host-files.ts';
import { cleanUpOnSignal, HostLock, madeBySuite, removeSuiteDomain, sweepSuiteDomains } from './host-hygiene.ts';

export { CHECK_DOMAIN_PREFIX } from './host-hygiene.ts';

/** virConnectListAllDomainsFlags: VIR_CONNECT_LIST_DOMAINS_ACTIVE. */
const LIST_ACTIVE = 1;


export interface RealTargetOptions {
  readonly uri: string;
  readonly sysroot?: string;
  /** Guests' domain type; default: `kvm` when KVM can run guests here, else `qemu`. */
  readonly domainType?: 'kvm' | 'qemu';
}

/** Why a host control cannot be performed on a real host (reported as the n/a reason). */
export function unsupportedReason(action: HostAction): string {
  if (action.do !== 'fault') return `the real target leaves '${action.do}' to the runner`;
  switch (action.fault.kind) {
    case 'kernelParam':
      return `a real host's kvm_amd ${action.fault.param} parameter is set at boot by its owner, not by the suite`;
    case 'cacheStale':
    case 'cacheRefresh':
      return "a real host's libvirt capability cache is not the suite's to edit";
    case 'firmware':
      return 'a real host cannot inject firmware faults';
    case 'domcaps':
      return "a real host's QEMU binaries are not the suite's to remove";
    case 'devSev':
      return "a real host's /dev/sev is not the suite's to remove or lock";
    case 'memlock':
      return "a real host's RLIMIT_MEMLOCK is its owner's to set";
  }
}

export class RealTarget implements Target {
  readonly description: string;
  private openHost: RealTargetHost | null = null;

  private stopWatching: () => void = () => {};

  private constructor(
    readonly detection: RealHostDetection,
    private readonly client: LibvirtClient,
    /** Root under which drivers read this host's files. */
    readonly sysroot: string,
    private readonly lock: HostLock,
    /** Leftovers of an earlier run that died, removed when this one started. */
    readonly swept: readonly string[],
  ) {
    this.description = `real ${detection.libvirt.uri}`;
    // Ctrl-C or SIGTERM mid-run: remove the suite's domains, then exit as the signal would.
    this.stopWatching = cleanUpOnSignal(async () => {
      // The driver may still be booting guests while this runs: sweep until a pass finds nothing.
      for (let pass = 0; pass < 100; pass++) {
        const removed = await sweepSuiteDomains(this.client).catch(() => []);
        if (removed.length === 0) break;
      }
      this.lock.release();
    });
  }

  /**
   * Detects the host; refuses (HostFactsError) a host whose facts the model cannot reproduce, or
   * one another live run is using. Leftovers of a run that died are swept first.
   */
  static async open(opts: RealTargetOptions): Promise<RealTarget> {
    const lock = HostLock.acquire(opts.uri);
    let client: LibvirtClient | null = null;
    try {
      client = await connect(opts.uri);
      const swept = await sweepSuiteDomains(client);
      const detection = await detectRealHost({ ...opts, client });
      if (detection.mismatches.length > 0) {
        throw new HostFactsError(
          `cannot judge drivers on ${opts.uri} honestly: the host's facts contradict its synthesized model (${detection.mismatches.join('; ')})`,
        );
      }
      return new RealTarget(detection, client, opts.sysroot ?? '/', lock, swept);
    } catch (e) {
      await client?.close();
      lock.release();
      throw e;
    }
  }

  /** The domain type guests must use on this host (the driver learns it from the operator config). */
  get domainType(): 'kvm' | 'qemu' {
    return this.detection.domainType;
  }

  get connection(): LibvirtClient {
    return this.client;
  }

  profileNames(): readonly string[] {
    return [this.detection.profile.name];
  }

  /** Fleet members and migration destinations are other hosts: a single real host has none. */
  private check(profile: string): void {
    if (profile !== this.detection.profile.name) {
      throw new NotApplicable(`the real target is the one host '${this.detection.profile.name}'; it has no '${profile}' host beside it`);
    }
  }

  truth(profile: string): ProfileTruth {
    this.check(profile);
    return this.detection.truth;
  }

  async open(profile: string): Promise<TargetHost> {
    this.check(profile);
    if (this.openHost) throw new NotApplicable('the real target is a single host; a second one (e.g. a migration destination) is not available');
    const before = new Set((await this.client.listAllDomains()).map((d) => uuidString(d.uuid)));
    this.openHost = new RealTargetHost(this, before);
    return this.openHost;
  }

  /** Called by the host when its case ends. */
  async release(host: RealTargetHost): Promise<void> {
    if (this.openHost === host) this.openHost = null;
    await this.cleanUp(host.before);
  }

  /** Destroys and undefines the domains the suite created since `before`; never anything else. */
  async cleanUp(before: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const d of await this.client.listAllDomains()) {
      if (before.has(uuidString(d.uuid)) || !madeBySuite(d)) continue;
      await removeSuiteDomain(this.client, d);
      removed.push(d.name);
    }
    return removed;
  }

  /** Ends the run: whatever of the suite is still defined goes, the lock is released. */
  async close(): Promise<void> {
    this.stopWatching();
    try {
      await sweepSuiteDomains(this.client).catch(() => undefined);
      await this.client.close();
    } finally {
      this.lock.release();
    }
  }
}

class RealTargetHost implements TargetHost {
  constructor(
    private readonly target: RealTarget,
    /** UUIDs of the domains the host had when the case began. */
    readonly before: ReadonlySet<string>,
  ) {}

  get name(): string {
    return this.target.detection.profile.name;
  }

  get uri(): string {
    return this.target.detection.libvirt.uri;
  }

  get sysroot(): string {
    return this.target.sysroot;
  }

  get truth(): ProfileTruth {
    return this.target.detection.truth;
  }

  /** Every host control is the fake's alone; config, boots and restarts are the runner's. */
  apply(_action: HostAction): boolean {
    return false;
  }

  inspect(): HostSnapshot | null {
    return null;
  }

  /** libvirt's own list of active domains (the host's other guests included). */
  async runningDomains(): Promise<readonly string[]> {
    return (await this.target.connection.listAllDomains(LIST_ACTIVE)).map((d) => d.name);
  }

  /** The seam is synchronous and libvirt is not: a real host's XML is not available here. */
  domainXml(_nameOrUuid: string): string | null {
    return null;
  }

  async close(): Promise<void> {
    await this.target.release(this);
  }
}
