/**
 * Conformance inside a driver project's own vitest suite:
 *
 *   import { describeConformance } from 'sevharness/vitest';
 *   describeConformance({ driver: () => createMyDriver(), profiles: ['milan-7003-es8'] });
 *
 * registers one vitest test per profile × case. A not-applicable or not-implemented case is
 * skipped with its reason, a failure fails with the judge's reason as the message. Each profile
 * runs once, on its first test, and every test of it reads its result.
 */
import { afterAll, describe, it } from 'vitest';
import type { SevDriver } from './contract.ts';
import { CASES } from './catalogue/index.ts';
import type { DriverFactory } from './runner/driver-spec.ts';
import { FakeTarget } from './runner/fake-target.ts';
import { runConformance } from './runner/run.ts';
import { selectCases, selectProfiles } from './runner/select.ts';
import type { Target } from './runner/target.ts';
import type { CaseResult } from './runner/types.ts';

export interface ConformanceSuiteOptions {
  /** Makes a fresh driver (called again for every service restart a case asks for). */
  readonly driver: DriverFactory | (() => SevDriver);
  /** Profile names; default all. */
  readonly profiles?: readonly string[];
  /** Case ids or areas; default the whole catalogue. */
  readonly cases?: readonly string[];
  /** Title of the outer describe block. */
  readonly name?: string;
  /** Default: a fake target shared by the suite. */
  readonly target?: Target;
}

/**
 * The message of a failed case: it names the case and profile itself, as the CLI table does, so it
 * stands alone in CI logs and reporters that print messages without test titles.
 */
export function failureMessage(caseId: string, profile: string, r: Pick<CaseResult, 'status' | 'reason' | 'driverLog'>): string {
  const log = r.driverLog ? `\n--- driver log ---\n${r.driverLog}` : '';
  return `${caseId} [${profile}]: ${r.status === 'error' ? 'error: ' : ''}${r.reason ?? 'no reason given'}${log}`;
}

export function describeConformance(opts: ConformanceSuiteOptions): void {
  const target = opts.target ?? new FakeTarget();
  const profiles = selectProfiles(opts.profiles, target.profileNames());
  const cases = selectCases(opts.cases, CASES);
  const factory: DriverFactory = async () => opts.driver();
  const runs = new Map<string, Promise<Map<string, CaseResult>>>();

  const resultsOf = (profile: string): Promise<Map<string, CaseResult>> => {
    let run = runs.get(profile);
    if (!run) {
      run = runConformance({ driver: factory, profiles: [profile], cases: cases.map((c) => c.id), target }).then(
        (report) => new Map(report.results.map((r) => [r.caseId, r])),
      );
      runs.set(profile, run);
    }
    return run;
  };

  describe(opts.name ?? 'SEV driver conformance', () => {
    afterAll(async () => {
      await Promise.allSettled(runs.values());
      if (!opts.target) await target.close();
    });
    for (const profile of profiles) {
      describe(profile, () => {
        for (const c of cases) {
          it(`${c.id}: ${c.title}`, async (t) => {
            const r = (await resultsOf(profile)).get(c.id);
            if (!r) throw new Error(`no result for ${c.id} on ${profile}`);
            if (r.status === 'not-applicable') t.skip(`not applicable: ${r.reason ?? ''}`);
            if (r.status === 'not-implemented') t.skip(`not implemented: ${r.reason ?? ''}`);
            if (r.status === 'fail' || r.status === 'error') throw new Error(failureMessage(c.id, profile, r));
          });
        }
      });
    }
  });
}
