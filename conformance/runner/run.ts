/**
 * The run loop: for every profile × case, decide applicability and whether the driver implements
 * what the case needs, arrange the case's `given` on a pristine host, judge `expect(truth)`, and
 * turn the verdict (or what was thrown) into a status. Guest XML collected by the judges is checked
 * against libvirt's schema in one batch per profile.
 */
import { describeFault } from '../../fakelibvirt/control/fault.ts';
import { MEM_ENCRYPTION_MODELS, type DriverDescription, type MemEncryptionModel } from '../contract.ts';
import type { Case, Expectation, Given, HostAction } from '../catalogue/types.ts';
import { versionAtLeast } from '../../fakelibvirt/profile/version.ts';
import type { ProfileTruth } from '../truth.ts';
import { CaseContext, isHostless, refusalText } from './case-context.ts';
import type { DriverFactory } from './driver-spec.ts';
import { DriverSlot, type DriverLimitsOverride } from './driver-slot.ts';
import { FakeTarget } from './fake-target.ts';
import { judge } from './judges/index.ts';
import { ArrangeFailure, MalformedAnswer, NotApplicable } from './outcomes.ts';
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

  async runCase(c: Case, profile: string, truth: ProfileTruth): Promise<CaseOutcome> {
    const applies = c.appliesTo(truth);
    if (applies !== true) return { status: 'not-applicable', reason: applies };
    if (this.startError) return { status: 'error', reason: this.startError };
    const given = givenOf(c, truth);
    const request = buildRequest(given.request);
    const expectation = c.expect(truth);

    let ctx: CaseContext | null = null;
    try {
      const missing = await this.missingOps(c);
      if (missing.length) return { status: 'not-implemented', reason: `driver does not implement ${missing.join(', ')}` };
      const model = requestedModel(request);
      if (model && (MEM_ENCRYPTION_MODELS as readonly string[]).includes(model) && !this.desc.models.includes(model as MemEncryptionModel) && !expectsRefusal(expectation)) {
        return { status: 'not-implemented', reason: `driver builds no ${model} guests (describe().models)` };
      }
      ctx = new CaseContext(c, truth, await this.target.open(profile), this.target, this.slot, request, this.names);
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
      return v.ok
        ? { status: 'pass', ...(v.note && { reason: v.note }), schemaChecks: ctx.schemaChecks, dirty }
        : { status: 'fail', reason: v.reason, dirty };
    } catch (e) {
      if (e instanceof NotApplicable) return { status: 'not-applicable', reason: e.message, dirty: true };
      if (e instanceof MalformedAnswer) return { status: 'fail', reason: e.message, dirty: true };
      if (e instanceof ArrangeFailure) return { status: 'fail', reason: `arranging the case: ${e.message}`, dirty: true };
      return { status: 'error', reason: errorText(e), dirty: true };
    } finally {
      await ctx?.close().catch(() => undefined);
    }
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
    for (const c of order) {
      progress(c.id);
      const t0 = performance.now();
      this.slot.markLog();
      const o = await this.runCase(c, profile, truth);
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
    const slot = new DriverSlot(opts.driver, opts.limits);
    const runner = new Runner(target, slot);
    const driver = await runner.start();
    const results: CaseResult[] = [];
    const total = profiles.length * cases.length;
    let done = 0;
    // Results reach the caller profile by profile, in order, each once its schema check is done.
    let emitted: Promise<void> = Promise.resolve();
    try {
      for (const profile of profiles) {
        const { checked } = await runner.runProfile(profile, cases, (caseId) => opts.onProgress?.({ done: done++, total, profile, caseId }));
        emitted = emitted.then(async () => {
          for (const r of await checked) {
            results.push(r);
            opts.onResult?.(r);
          }
        });
        emitted.catch(() => undefined);
        // Every profile starts with a driver that has seen no other host.
        await slot.stop();
      }
      await emitted;
    } finally {
      await slot.stop();
    }
    return { driver, target: target.description, profiles, results, wallMs: Math.round(performance.now() - t0), counts: countStatuses(results) };
  } finally {
    if (!opts.target) await target.close();
  }
}
