/**
 * `--target real`: detect the host, run the real-mode checks and the catalogue against it, and
 * report both in one table. The catalogue's cases are judged by the runner exactly as on a fake
 * host, with the host's own truth; the checks (checks.ts) come first so the report opens with what
 * the host is.
 */
import type { DriverDescription } from '../contract.ts';
import { runConformance, type RunOptions } from '../runner/run.ts';
import { countStatuses, type CaseResult, type RunReport } from '../runner/types.ts';
import { hostSummary, REAL_CHECKS, runRealChecks } from './checks.ts';
import { RealTarget, type RealTargetOptions } from './target.ts';

export interface RealRunOptions extends Omit<RunOptions, 'target' | 'profiles'>, RealTargetOptions {}

export interface RealRunReport {
  readonly report: RunReport;
  /** One line: the host's SEV state, libvirt and QEMU versions, guest domain type. */
  readonly summary: string;
  /** How each SEV fact of the host was read (synthesize.ts). */
  readonly derivations: readonly string[];
  /** What real mode could do beyond libvirt's calls: host controls, a look inside QEMU, a migration peer. */
  readonly reach: string;
}

function reachOf(target: RealTarget): string {
  const r = target.reach;
  const controls = r.controls
    ? 'host controls and the look inside QEMU through the control socket'
    : 'no host controls, no look inside QEMU (cases needing them are not applicable)';
  return `${controls}; ${r.peer ? 'a migration peer' : 'no migration peer (migration cases are not applicable)'}`;
}

const NOT_RUN: DriverDescription = { name: '(catalogue not selected)', version: '-', ops: [], models: [] };

const isRealFilter = (f: string) => f === 'real' || f.startsWith('real.');

export async function runRealMode(opts: RealRunOptions): Promise<RealRunReport> {
  const t0 = performance.now();
  const target = await RealTarget.open(opts);
  try {
    const filters = opts.cases ?? [];
    const realFilters = filters.filter(isRealFilter);
    const catalogueFilters = filters.filter((f) => !isRealFilter(f));
    const wantCheck = (id: string) => filters.length === 0 || realFilters.includes('real') || realFilters.includes(id);
    const checks = await runRealChecks(target, wantCheck);
    checks.forEach((r) => opts.onResult?.(r));

    const runCatalogue = filters.length === 0 || catalogueFilters.length > 0;
    const run = runCatalogue
      ? await runConformance({ ...opts, cases: catalogueFilters, target })
      : null;
    const results: CaseResult[] = [...checks, ...(run?.results ?? [])];
    const report: RunReport = {
      driver: run?.driver ?? NOT_RUN,
      target: target.description,
      profiles: target.profileNames(),
      results,
      wallMs: Math.round(performance.now() - t0),
      counts: countStatuses(results),
    };
    return { report, summary: hostSummary(target), derivations: target.detection.derivations, reach: reachOf(target) };
  } finally {
    await target.close();
  }
}

/** Ids of the real-mode checks (for `--cases` help and tests). */
export const REAL_CHECK_IDS: readonly string[] = REAL_CHECKS.map((c) => c.id);
