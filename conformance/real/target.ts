/**
 * The real target: one libvirt host (`--target real --uri …`) whose truth is read from the host
 * itself (detect.ts). A real host's runtime controls — kernel parameters, firmware faults,
 * capability caches — belong to its owner, so `apply` answers false for them and those cases are
 * not applicable; it cannot look inside QEMU, so `inspect` is null and boot cases are judged on a
 * probe guest's report from inside (guest-evidence.ts). When the host is a served fake
 * and its control socket is given (`--control`), both come through that socket instead (control-
 * link.ts), so real mode judges those cases too. A migration destination is a second host of the
 * same kind (`--peer-uri`); without one, migration cases are not applicable. Scheduling fleets put
 * fake hosts of the named other profiles beside this one: they are only reported, never booted on.
 *
 * What the driver boots is judged through libvirt's own view (`runningDomains`, `domainXml`).
 * Every case starts from the state the host had when the target was opened: domains the case's
 * driver left behind (the runner's instance UUIDs) and the real-mode checks' own domains are
 * destroyed and undefined when the case closes, and faults applied through the control socket are
 * dropped (those the host had when real mode found it stay: they are the host being judged).
 */
import { connect, uuidString, type DomainRef, type LibvirtClient } from '../../src/libvirt/client.ts';
import type { HostAction } from '../catalogue/types.ts';
import type { HostSnapshot } from '../../fakelibvirt/host/fake-host.ts';
import { notOnRealHost } from '../../fakelibvirt/control/fault.ts';
import type { ProfileTruth } from '../truth.ts';
import { FakeTarget } from '../runner/fake-target.ts';
import type { GuestEvidence, Target, TargetHost } from '../runner/target.ts';
import { NotApplicable } from '../runner/outcomes.ts';
import { ControlLink } from './control-link.ts';
import { detectRealHost, type RealHostDetection } from './detect.ts';
import { bootProbe, EvidenceCollector, type GuestProber } from './guest-evidence.ts';
import { HostFactsError } from './host-files.ts';
import { cleanUpOnSignal, HostLock, madeBySuite, removeSuiteDomain, sweepSuiteDomains } from './host-hygiene.ts';

export { CHECK_DOMAIN_PREFIX } from './host-hygiene.ts';

/** virConnectListAllDomainsFlags: VIR_CONNECT_LIST_DOMAINS_ACTIVE. */
const LIST_ACTIVE = 1;

/** Where one host is: its libvirt URI, its files, and (a served fake) its control socket. */
export interface HostEndpoint {
  readonly uri: string;
  readonly sysroot?: string;
  /** A served fake's control socket (`serve --control PATH`): host controls and the look inside QEMU. */
  readonly control?: string;
  /** Which host of the control socket, when it serves several. */
  readonly controlHost?: string;
}

export interface RealTargetOptions extends HostEndpoint {
  /** Guests' domain type; default: `kvm` when KVM can run guests here, else `qemu`. */
  readonly domainType?: 'kvm' | 'qemu';
  /** A second host like this one: the destination of migrations. */
  readonly peer?: HostEndpoint;
  /**
   * How boot cases get evidence from inside a guest where no control socket looks inside QEMU:
   * the probe guest by default (guest-evidence.ts); false for none (boot cases not applicable).
   */
  readonly guestProbe?: GuestProber | false;
}

/** Why a host control cannot be performed on a real host (reported as the n/a reason). */
export function unsupportedReason(action: HostAction): string {
  if (action.do !== 'fault') return `the real target leaves '${action.do}' to the runner`;
  // Each fault kind says why a real host cannot take it (fakelibvirt/control/fault-kinds.ts).
  return notOnRealHost(action.fault);
}

/** One libvirt host the target holds: its connection, facts, lock and (a served fake) control. */
class Machine {
  /** The case host opened on this machine, if any: one case host per machine at a time. */
  current: RealTargetHost | null = null;
  /** Evidence from inside guests, where there is no control socket to look inside QEMU. */
  evidence: EvidenceCollector | null = null;

  private constructor(
    readonly detection: RealHostDetection,
    readonly client: LibvirtClient,
    readonly sysroot: string,
    readonly lock: HostLock,
    readonly control: ControlLink | null,
    readonly swept: readonly string[],
  ) {}

  /** Detects the host; refuses one whose facts contradict its model or that another run holds. */
  static async open(at: HostEndpoint, domainType: 'kvm' | 'qemu' | undefined): Promise<Machine> {
    const lock = HostLock.acquire(at.uri);
    let client: LibvirtClient | null = null;
    try {
      const control = at.control === undefined ? null : await ControlLink.open(at.control, at.controlHost);
      client = await connect(at.uri);
      const swept = await sweepSuiteDomains(client);
      const detection = await detectRealHost({ uri: at.uri, ...(at.sysroot !== undefined && { sysroot: at.sysroot }), ...(domainType && { domainType }), client });
      if (detection.mismatches.length > 0) {
        throw new HostFactsError(
          `cannot judge drivers on ${at.uri} honestly: the host's facts contradict its synthesized model (${detection.mismatches.join('; ')})`,
        );
      }
      return new Machine(detection, client, at.sysroot ?? '/', lock, control, swept);
    } catch (e) {
      await client?.close();
      lock.release();
      throw e;
    }
  }

  /** Removes the suite's domains until a pass finds none (a driver may still be booting). */
  async sweep(): Promise<void> {
    for (let pass = 0; pass < 100; pass++) {
      const removed = await sweepSuiteDomains(this.client).catch(() => []);
      if (removed.length === 0) break;
    }
  }

  async close(): Promise<void> {
    try {
      await sweepSuiteDomains(this.client).catch(() => undefined);
      await this.control?.restore().catch(() => undefined);
      await this.client.close();
    } finally {
      this.lock.release();
    }
  }
}

export class RealTarget implements Target {
  readonly description: string;
  /** Hosts of other profiles for scheduling fleets, made when a case first asks for one. */
  private fleet: FakeTarget | null = null;
  private stopWatching: () => void = () => {};

  private constructor(
    private readonly main: Machine,
    private readonly peer: Machine | null,
  ) {
    this.description = `real ${main.detection.libvirt.uri}`;
    // Ctrl-C or SIGTERM mid-run: remove the suite's domains, then exit as the signal would.
    this.stopWatching = cleanUpOnSignal(async () => {
      for (const m of this.machines) {
        await m.sweep();
        m.lock.release();
      }
    });
  }

  /**
   * Detects the host (and the peer); refuses (HostFactsError) a host whose facts the model cannot
   * reproduce, or one another live run is using. Leftovers of a run that died are swept first.
   */
  static async open(opts: RealTargetOptions): Promise<RealTarget> {
    const main = await Machine.open(opts, opts.domainType);
    try {
      const peer = opts.peer ? await Machine.open(opts.peer, main.detection.domainType) : null;
      const prober = opts.guestProbe ?? bootProbe;
      for (const m of peer ? [main, peer] : [main]) {
        if (!m.control && prober) m.evidence = new EvidenceCollector(m.client, m.detection.domainType, prober);
      }
      return new RealTarget(main, peer);
    } catch (e) {
      await main.close();
      throw e;
    }
  }

  private get machines(): Machine[] {
    return this.peer ? [this.main, this.peer] : [this.main];
  }

  get detection(): RealHostDetection {
    return this.main.detection;
  }

  /** The domain type guests must use on this host (the driver learns it from the operator config). */
  get domainType(): 'kvm' | 'qemu' {
    return this.main.detection.domainType;
  }

  get connection(): LibvirtClient {
    return this.main.client;
  }

  /** Root under which drivers read this host's files. */
  get sysroot(): string {
    return this.main.sysroot;
  }

  /** Leftovers of an earlier run that died, removed when this one started. */
  get swept(): readonly string[] {
    return this.machines.flatMap((m) => m.swept);
  }

  /** What real mode can do here beyond libvirt's own calls (for the report header). */
  get reach(): { readonly controls: boolean; readonly inspect: boolean; readonly peer: boolean } {
    const controlled = this.main.control !== null;
    return { controls: controlled, inspect: controlled, peer: this.peer !== null };
  }

  profileNames(): readonly string[] {
    return [this.main.detection.profile.name];
  }

  truth(profile: string): ProfileTruth {
    if (profile !== this.main.detection.profile.name) throw new NotApplicable(`the real target is the one host '${this.main.detection.profile.name}', not '${profile}'`);
    return this.main.detection.truth;
  }

  /**
   * The host for a case, then (same profile) the peer as a migration destination; another profile
   * is a fleet member beside this host, served by the fake.
   */
  async open(profile: string): Promise<TargetHost> {
    if (profile !== this.main.detection.profile.name) {
      this.fleet ??= new FakeTarget();
      return this.fleet.open(profile);
    }
    const m = this.machines.find((x) => x.current === null);
    if (!m) {
      throw new NotApplicable(
        this.peer
          ? 'the real target has two hosts and both are in use'
          : 'the real target is a single host; a second one (e.g. a migration destination) is not available (give it with --peer-uri)',
      );
    }
    const before = new Set((await m.client.listAllDomains()).map((d) => uuidString(d.uuid)));
    m.current = new RealTargetHost(m, before, (h) => this.release(m, h));
    return m.current;
  }

  /** Called by the host when its case ends. */
  private async release(m: Machine, host: RealTargetHost): Promise<void> {
    if (m.current === host) m.current = null;
    await cleanUp(m.client, host.before);
    if (host.faulted) await m.control?.restore();
  }

  /** Destroys and undefines the domains the suite created since `before`; never anything else. */
  async cleanUp(before: ReadonlySet<string>): Promise<string[]> {
    return cleanUp(this.main.client, before);
  }

  /** Ends the run: whatever of the suite is still defined goes, the locks are released. */
  async close(): Promise<void> {
    this.stopWatching();
    try {
      for (const m of this.machines) await m.close();
    } finally {
      await this.fleet?.close();
    }
  }
}

async function cleanUp(client: LibvirtClient, before: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const d of await client.listAllDomains()) {
    if (before.has(uuidString(d.uuid)) || !madeBySuite(d)) continue;
    await removeSuiteDomain(client, d);
    removed.push(d.name);
  }
  return removed;
}

class RealTargetHost implements TargetHost {
  /** A fault was applied through the control socket: dropped when the case closes. */
  faulted = false;
  /** What a probe guest launched as the driver's guest reports from inside (no control socket only). */
  readonly guestEvidence?: (domainName: string) => Promise<GuestEvidence | null>;

  constructor(
    private readonly machine: Machine,
    /** UUIDs of the domains the host had when the case began. */
    readonly before: ReadonlySet<string>,
    private readonly onClose: (h: RealTargetHost) => Promise<void>,
  ) {
    const evidence = machine.evidence;
    if (evidence) this.guestEvidence = (name) => evidence.of(name);
  }

  get name(): string {
    return this.machine.detection.profile.name;
  }

  get uri(): string {
    return this.machine.detection.libvirt.uri;
  }

  get sysroot(): string {
    return this.machine.sysroot;
  }

  get truth(): ProfileTruth {
    return this.machine.detection.truth;
  }

  /** Faults go through a served fake's control socket; a real host takes none (config, boots and restarts are the runner's). */
  async apply(action: HostAction): Promise<boolean> {
    const control = this.machine.control;
    if (action.do !== 'fault' || !control) return false;
    this.faulted = true;
    return control.use(action.fault);
  }

  /** The look inside QEMU a served fake's control socket gives; a real host gives none. */
  async inspect(): Promise<HostSnapshot | null> {
    return this.machine.control ? this.machine.control.inspect() : null;
  }

  /** libvirt's own list of active domains (the host's other guests included). */
  async runningDomains(): Promise<readonly string[]> {
    return (await this.machine.client.listAllDomains(LIST_ACTIVE)).map((d) => d.name);
  }

  /** A domain's XML as libvirt shows it now (by UUID or name); null when libvirt knows none. */
  async domainXml(nameOrUuid: string): Promise<string | null> {
    const client = this.machine.client;
    const byUuid = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(nameOrUuid);
    let dom: DomainRef;
    try {
      dom = byUuid ? await client.lookupByUUID(nameOrUuid) : await client.lookupByName(nameOrUuid);
    } catch {
      return null;
    }
    return client.getXMLDesc(dom).catch(() => null);
  }

  async close(): Promise<void> {
    await this.onClose(this);
  }
}
