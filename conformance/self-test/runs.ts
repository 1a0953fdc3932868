/**
 * Running the self-test's selections: a driver over each of its runs (one conformance run per
 * case selection), which (case × profile) pairs those runs judge, and the reference driver over
 * the union of every broken driver's runs.
 */
import { selectCases } from '../runner/select.ts';
import { runConformance } from '../runner/run.ts';
import type { DriverFactory } from '../runner/driver-spec.ts';
import type { CaseResult, RunReport } from '../runner/types.ts';
import type { BrokenDriverSpec, SelfTestRun } from './types.ts';

/** Case ids a run selects, in catalogue order. */
export function runCaseIds(run: SelfTestRun): string[] {
  return selectCases(run.cases).map((c) => c.id);
}

/** `case@profile` keys of every pair the runs judge (whether the case applies there or not). */
export function judgedKeys(runs: readonly SelfTestRun[]): Set<string> {
  return new Set(runs.flatMap((r) => runCaseIds(r).flatMap((c) => r.profiles.map((p) => `${c}@${p}`))));
}

/**
 * The union of several drivers' runs, one run per distinct case selection: a profile that any run
 * judges in full is judged in full, otherwise on every case some run selects there.
 */
export function unionRuns(specs: readonly BrokenDriverSpec[]): SelfTestRun[] {
  const perProfile = new Map<string, Set<string> | 'all'>();
  for (const run of specs.flatMap((s) => s.runs)) {
    for (const p of run.profiles) {
      const had = perProfile.get(p);
      if (had === 'all') continue;
      if (!run.cases) perProfile.set(p, 'all');
      else perProfile.set(p, new Set([...(had ?? []), ...run.cases]));
    }
  }
  const bySelection = new Map<string, { profiles: string[]; cases?: string[] }>();
  for (const [p, sel] of perProfile) {
    const cases = sel === 'all' ? undefined : [...sel].sort();
    const key = cases ? cases.join(',') : '*';
    const group = bySelection.get(key) ?? { profiles: [], ...(cases && { cases }) };
    group.profiles.push(p);
    bySelection.set(key, group);
  }
  return [...bySelection.values()];
}

/** Runs a driver over every run of a selection, one report per run, results merged. */
export async function runSelection(driver: DriverFactory, runs: readonly SelfTestRun[]): Promise<{ reports: RunReport[]; results: CaseResult[] }> {
  const reports: RunReport[] = [];
  for (const r of runs) reports.push(await runConformance({ driver, profiles: r.profiles, ...(r.cases && { cases: r.cases }) }));
  return { reports, results: reports.flatMap((r) => r.results) };
}
