/**
 * The run loop: for every profile × case, decide applicability and whether the driver implements
 * what the case needs, arrange the case's `given` on a pristine host, judge `expect(truth)`, and
 * turn the verdict (or what was thrown) into a status. Guest XML collected by the judges is checked
 * against libvirt's schema in one batch per profile.
 */
import { describeFault } from '../../fakelibvirt/control/fault.ts';
import { MEM_ENCRYPTION_MODELS, type BootRequest, type DriverDescription, type MemEncryptionModel } from '../contract.ts';
import type { Case, Expectation, Given, HostAction } from '../catalogue/types.ts';
import { versionAtLeast } from '../../fakelibvirt/profile/version.ts';
import type { ProfileTruth } from '../truth.ts';
import { apiLevelHost, CaseContext, isHostless, refusalText } from './case-context.ts';
import type { DriverFactory } from './driver-spec.ts';
import { DriverSlot, type DriverLimitsOverride } from './driver-slot.ts';
import { FakeTarget } from './fake-target.ts';
import { judge, judgedAsPrefix } from './judges/index.ts';
import { ArrangeFailure, MalformedAnswer, NotApplicable, type Verdict } from './outcomes.ts';
import { buildRequest, InstanceNames, requestedModel, withModel } from './requests.ts';
import { selectCases, selectProfiles } from './select.ts';
import type { Target } from './target.ts';
import { countStatuses, type CaseResult, type CaseStatus, type RunReport } from './types.ts';
import { schemaCheckSkipped, validateDomainXml } from './xml-schema.ts';
import { isRefusal } from '../contract.ts';

export interface RunOptions {
  readonly driver: DriverFactory;
  /** Profile names (default: every profile the target offers). */
  readonly profiles?: readonly string[];
  /** Case ids or areas (default: the whole catalogue). */
  readonly cases?: readonly string[];
  /** Default: a fake target, closed when the run ends. */
  readonly target?: Target;
  /** Time limits on driver calls (default: PROTOCOL.md §6); tests inject short ones. */
  readonly limits?: DriverLimitsOverride;
  /**
   * A driver slot the caller keeps across runs (a lane of a parallel run, lanes.ts): each run's
   * profiles still start on a fresh driver, and the run leaves the slot with the next one starting
   * (a process driver's) instead of closed; the caller closes it. `driver` and `limits` are then the slot's.
   */
  readonly slot?: DriverSlot;
  readonly onResult?: (r: CaseResult) => void;
  readonly onProgress?: (p: { readonly done: number; readonly total: number; readonly profile: string; readonly caseId: string }) => void;
}

const UNKNOWN_DRIVER: DriverDescription = { name: 'unknown (driver did not start)', version: '?', ops: [], models: [] };

/** libvirt's installed schema is 9.0's: newer hosts may legitimately use what it does not know yet. */
const SCHEMA_VERSION = [9, 1] as const;

function expectsRefusal(e: Expectation): boolean {
  return e.kind === 'refusal' || (e.kind === 'all' && e.of.some(expectsRefusal));
}

function givenOf(c: Case, truth: ProfileTruth): Given {
  return typeof c.given === 'function' ? c.given(truth) : (c.given ?? {});
}

/** How one case ended, before it becomes a CaseResult (the contract's Outcome is a driver answer). */
interface CaseOutcome {
  readonly status: CaseStatus;
  readonly reason?: string;
  readonly schemaChecks?: readonly string[];
  /** The driver's state may now differ from a fresh start: the next case gets a new one. */
  readonly dirty?: boolean;
}

async function arrange(ctx: CaseContext, actions: readonly HostAction[], targetName: string): Promise<void> {
  for (const a of actions) {
    switch (a.do) {
      case 'set-config':
        ctx.setConfig(a.config);
        break;
      case 'restart-driver':
        await ctx.restartDriver();
        break;
      case 'boot':
        for (let i = 1; i <= a.count; i++) {
          const r = await ctx.spawn(a.model ? withModel(ctx.request, a.model) : ctx.request);
          if (isRefusal(r)) throw new ArrangeFailure(`booting guest ${i} of ${a.count} before the judged step was refused: ${refusalText(r)}`);
        }
        break;
      default:
        if (!(await ctx.host.apply(a))) throw new NotApplicable(`the ${targetName} target cannot inject ${describeFault(a.fault)}`);
    }
  }
}

class Runner {
  private readonly names = new InstanceNames();
  private desc: DriverDescription = UNKNOWN_DRIVER;
  private startError: string | null = null;

  constructor(
    private readonly target: Target,
    private readonly slot: DriverSlot,
  ) {}

  async start(): Promise<DriverDescription> {
    try {
      this.desc = await this.slot.description();
    } catch (e) {
      this.startError = `the driver did not start: ${(e as Error).message}`;
    }
    return this.desc;
  }

  private async missingOps(c: Case): Promise<string[]> {
    const missing: string[] = [];
    for (const op of c.ops) if (!(await this.slot.implements(op))) missing.push(op);
    return missing;
  }

  /** Whether the case runs at all: applicability, a started driver, the operations and model it needs. */
  private async prepare(c: Case, truth: ProfileTruth): Promise<Prepared> {
    const applies = c.appliesTo(truth);
    if (applies !== true) return { ready: false, outcome: { status: 'not-applicable', reason: applies } };
    if (this.startError) return { ready: false, outcome: { status: 'error', reason: this.startError } };
    const given = givenOf(c, truth);
    const request = buildRequest(given.request);
    const expectation = c.expect(truth);
    try {
      const missing = await this.missingOps(c);
      if (missing.length) return { ready: false, outcome: { status: 'not-implemented', reason: `driver does not implement ${missing.join(', ')}` } };
      const model = requestedModel(request);
      if (model && (MEM_ENCRYPTION_MODELS as readonly string[]).includes(model) && !this.desc.models.includes(model as MemEncryptionModel) && !expectsRefusal(expectation)) {
        return { ready: false, outcome: { status: 'not-implemented', reason: `driver builds no ${model} guests (describe().models)` } };
      }
    } catch (e) {
      return { ready: false, outcome: thrownOutcome(e) };
    }
    return { ready: true, given, request, expectation };
  }

  /** Arranges the case on a new host and judges it; `ctx.prefixVerdict` is read by a shared run. */
  private async execute(c: Case, profile: string, truth: ProfileTruth, p: Ready, onContext?: (ctx: CaseContext) => void): Promise<CaseOutcome> {
    const { given, request, expectation } = p;
    let ctx: CaseContext | null = null;
    try {
      const host = isHostless(c) ? apiLevelHost(profile, truth) : await this.target.open(profile);
      ctx = new CaseContext(c, truth, host, this.target, this.slot, request, this.names);
      onContext?.(ctx);
      // A case that involves the host starts as a compute service does, by reporting it; request
      // validation alone is judged at API level, with no host known.
      if (!isHostless(c)) await ctx.report();
      await arrange(ctx, given.host ?? [], this.target.description);
      const v = await judge(expectation, ctx);
      // Every case gets a host at a new URI, so detection a driver cached for an earlier host
      // cannot leak; fleets reuse host names, so a driver that took part in one starts afresh. A
      // real target keeps its URI from case to case: a driver that saw it bent by a fault (the
      // fault is dropped when the case closes) starts afresh too.
      const dirty = ctx.openedExtraHosts || (given.host ?? []).some((a) => a.do === 'fault');
      return verdictOutcome(v, ctx.schemaChecks, dirty);
    } catch (e) {
      return thrownOutcome(e);
    } finally {
      await ctx?.close().catch(() => undefined);
    }
  }

  async runCase(c: Case, profile: string, truth: ProfileTruth): Promise<CaseOutcome> {
    const p = await this.prepare(c, truth);
    return p.ready ? this.execute(c, profile, truth, p) : p.outcome;
  }

  /**
   * One run for two cases when `full` continues `prefix` (catalogue `continues`) and both run here
   * with the same arrangement: `full` is judged, and `prefix` gets the verdict its steps reached
   * (or, when the run ended before them, the same ending). Null when they must run apart.
   */
  private async runShared(prefix: Case, full: Case, profile: string, truth: ProfileTruth): Promise<{ prefix: CaseOutcome; full: CaseOutcome } | null> {
    const [p, f] = [await this.prepare(prefix, truth), await this.prepare(full, truth)];
    if (!p.ready || !f.ready) return null;
    if (JSON.stringify(p.given) !== JSON.stringify(f.given) || !judgedAsPrefix(p.expectation, f.expectation)) return null;
    let ctx: CaseContext | null = null;
    const fullOutcome = await this.execute(full, profile, truth, f, (c) => (ctx = c));
    const reached = (ctx as CaseContext | null)?.prefixVerdict ?? null;
    if (reached) return { prefix: verdictOutcome(reached, [], fullOutcome.dirty ?? false), full: fullOutcome };
    // The run ended before the prefix's steps did: a failure there is the prefix's own.
    if (fullOutcome.status === 'pass') return { prefix: { status: 'error', reason: `the shared run with ${full.id} passed without judging this case's steps`, dirty: true }, full: fullOutcome };
    return { prefix: fullOutcome, full: fullOutcome };
  }

  /**
   * Runs the profile's cases; `checked` settles with their results once libvirt's schema has judged
   * the guest XML they collected, in xmllint's own process, while the caller goes on to the next profile.
   */
  async runProfile(profile: string, cases: readonly Case[], progress: (caseId: string) => void): Promise<{ readonly checked: Promise<CaseResult[]> }> {
    const truth = this.target.truth(profile);
    const results: CaseResult[] = [];
    const checks: Array<{ index: number; docs: readonly string[] }> = [];
    // API-level cases first, while the profile's fresh driver knows no host: a driver may use
    // the hosts it has seen, and these cases must not depend on which ones that were.
    const order = [...cases.filter(isHostless), ...cases.filter((c) => !isHostless(c))];
    const partners = sharedRunPartners(order);
    /** Outcomes a shared run settled for a case later in the order; its driver state is the run's. */
    const settled = new Map<string, CaseOutcome>();
    for (const c of order) {
      progress(c.id);
      const t0 = performance.now();
      this.slot.markLog();
      let o = settled.get(c.id);
      if (!o) {
        const partner = partners.get(c.id);
        const shared = partner ? await this.runShared(partner.prefix, partner.full, profile, truth) : null;
        if (shared && partner) {
          const mine = partner.prefix === c ? shared.prefix : shared.full;
          const later = partner.prefix === c ? partner.full : partner.prefix;
          // The driver's state after the run is judged once, with the case that ran it.
          o = { ...mine, dirty: shared.full.dirty ?? false };
          settled.set(later.id, { ...(partner.prefix === c ? shared.full : shared.prefix), dirty: false });
        } else o = await this.runCase(c, profile, truth);
      }
      // Read after the stop: a replaced driver's last words (a traceback) belong to this case.
      if (o.dirty) await this.slot.stop();
      const log = this.slot.log();
      if (o.schemaChecks?.length) checks.push({ index: results.length, docs: o.schemaChecks });
      results.push({
        caseId: c.id, area: c.area, title: c.title, profile, status: o.status,
        ...(o.reason !== undefined && { reason: o.reason }),
        durationMs: Math.round((performance.now() - t0) * 10) / 10,
        ...(log !== undefined && { driverLog: log }),
      });
    }
    const rank = new Map(cases.map((c, i) => [c.id, i]));
    const checked = applySchemaChecks(results, checks, truth).then(() => results.sort((a, b) => rank.get(a.caseId)! - rank.get(b.caseId)!));
    // Settled by the caller's chain later; marked handled now so a failure waits for it.
    checked.catch(() => undefined);
    return { checked };
  }
}

/** Fails (or, on hosts newer than the installed schema, annotates) cases whose guest XML libvirt's schema rejects. */
async function applySchemaChecks(results: CaseResult[], checks: ReadonlyArray<{ index: number; docs: readonly string[] }>, truth: ProfileTruth): Promise<void> {
  if (!checks.length) return;
  // Never a silent skip: without xmllint or libvirt's schema each checked case says so (and fails in CI).
  const skipped = schemaCheckSkipped();
  if (skipped) {
    for (const { index } of checks) {
      const r = results[index]!;
      results[index] = skipped.fail && r.status === 'pass' ? { ...r, status: 'fail', reason: skipped.reason } : { ...r, reason: [r.reason, `advisory: ${skipped.reason}`].filter(Boolean).join('; ') };
    }
    return;
  }
  const verdicts = await validateDomainXml(checks.flatMap((c) => c.docs));
  const strict = !versionAtLeast(truth.profile.libvirt.version, ...SCHEMA_VERSION);
  let k = 0;
  for (const { index, docs } of checks) {
    const complaint = verdicts.slice(k, k + docs.length).find((v) => v !== null);
    k += docs.length;
    if (!complaint) continue;
    const r = results[index]!;
    results[index] = strict
      ? { ...r, status: 'fail', reason: `guest XML fails libvirt's domain schema: ${complaint}` }
      : { ...r, reason: [r.reason, `advisory: libvirt 9.0's domain schema rejects the XML (host runs libvirt ${truth.profile.libvirt.version}): ${complaint}`].filter(Boolean).join('; ') };
  }
}

type Ready = { readonly ready: true; readonly given: Given; readonly request: BootRequest; readonly expectation: Expectation };
type Prepared = Ready | { readonly ready: false; readonly outcome: CaseOutcome };

function verdictOutcome(v: Verdict, schemaChecks: readonly string[], dirty: boolean): CaseOutcome {
  return v.ok ? { status: 'pass', ...(v.note && { reason: v.note }), schemaChecks, dirty } : { status: 'fail', reason: v.reason, dirty };
}

/** What a case that threw ends as: the runner's three exceptions have their status, the rest is an error. */
function thrownOutcome(e: unknown): CaseOutcome {
  if (e instanceof NotApplicable) return { status: 'not-applicable', reason: e.message, dirty: true };
  if (e instanceof MalformedAnswer) return { status: 'fail', reason: e.message, dirty: true };
  if (e instanceof ArrangeFailure) return { status: 'fail', reason: `arranging the case: ${e.message}`, dirty: true };
  return { status: 'error', reason: errorText(e), dirty: true };
}

/**
 * Pairs of cases that may share a run (catalogue `continues`), keyed by whichever comes first in
 * `order`: the run happens there, and the other case takes its settled outcome when reached.
 */
function sharedRunPartners(order: readonly Case[]): Map<string, { prefix: Case; full: Case }> {
  const byId = new Map(order.map((c) => [c.id, c]));
  const out = new Map<string, { prefix: Case; full: Case }>();
  for (const full of order) {
    const prefix = full.continues === undefined ? undefined : byId.get(full.continues);
    if (!prefix || prefix === full) continue;
    const first = order.indexOf(prefix) < order.indexOf(full) ? prefix : full;
    out.set(first.id, { prefix, full });
  }
  return out;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`;
  return String(e);
}

export async function runConformance(opts: RunOptions): Promise<RunReport> {
  const t0 = performance.now();
  const target = opts.target ?? new FakeTarget();
  try {
    const profiles = selectProfiles(opts.profiles, target.profileNames());
    const cases = selectCases(opts.cases);
    const slot = opts.slot ?? new DriverSlot(opts.driver, opts.limits);
    const runner = new Runner(target, slot);
    const driver = await runner.start();
    const results: CaseResult[] = [];
    const total = profiles.length * cases.length;
    let done = 0;
    // Results reach the caller profile by profile, in order, each once its schema check is done.
    let emitted: Promise<void> = Promise.resolve();
    try {
      for (const [i, profile] of profiles.entries()) {
        const { checked } = await runner.runProfile(profile, cases, (caseId) => opts.onProgress?.({ done: done++, total, profile, caseId }));
        emitted = emitted.then(async () => {
          for (const r of await checked) {
            results.push(r);
            opts.onResult?.(r);
          }
        });
        emitted.catch(() => undefined);
        // Every profile starts with a driver that has seen no other host.
        await slot.stop({ next: i + 1 < profiles.length || opts.slot !== undefined });
      }
      await emitted;
    } finally {
      if (opts.slot) await slot.stop();
      else await slot.close();
    }
    return { driver, target: target.description, profiles, results, wallMs: Math.round(performance.now() - t0), counts: countStatuses(results) };
  } finally {
    if (!opts.target) await target.close();
  }
}
