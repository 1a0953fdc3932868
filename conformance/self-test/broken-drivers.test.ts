/**
 * The suite can fail: each deliberately broken driver fails exactly the (case × profile) pairs its
 * spec predicts over its runs — no more, no fewer, and nothing errors — while the reference driver
 * fails nothing on everything the broken drivers are judged on. Each driver is judged on every area
 * of at least one SEV and one non-SEV profile, so "no more" is never about a sliver of the catalogue.
 * The README section listing the broken drivers is generated from the specs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../adapters/reference.ts';
import { caseById } from '../catalogue/index.ts';
import { AREAS } from '../catalogue/types.ts';
import type { CaseResult } from '../runner/types.ts';
import { profileTruth } from '../truth.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { brokenReference } from './broken-reference.ts';
import { BROKEN_DRIVERS, CORRECT_VARIANTS, selfTestRuns } from './index.ts';
import { brokenDriversSection } from './readme.ts';
import { judgedKeys, runCaseIds, runSelection } from './runs.ts';
import { expectedKeys, runProfiles, type BrokenDriverSpec } from './types.ts';

/** Generous: the self-test judges generated hosts too, on a machine that may be busy. */
const RUN_TIMEOUT_MS = 300_000;

const keysWith = (rs: readonly CaseResult[], status: string): string[] =>
  rs.filter((x) => x.status === status).map((x) => `${x.caseId}@${x.profile}`).sort();

const explain = (rs: readonly CaseResult[], status: string): string[] =>
  rs.filter((x) => x.status === status).map((x) => `${x.caseId}@${x.profile}: ${x.reason ?? ''}`);

/** Profiles on which the spec's runs judge a case of every area. */
function wholeCatalogueProfiles(d: BrokenDriverSpec): string[] {
  return runProfiles(d).filter((p) => {
    const areas = new Set(d.runs.filter((r) => r.profiles.includes(p)).flatMap((r) => runCaseIds(r).map((id) => caseById(id)!.area)));
    return AREAS.every((a) => areas.has(a));
  });
}

describe('broken drivers', () => {
  it('the reference driver fails nothing on what the broken drivers are judged on', async () => {
    const { results } = await runSelection(async () => createReferenceDriver(), selfTestRuns());
    expect(explain(results, 'error')).toEqual([]);
    expect(explain(results, 'fail')).toEqual([]);
    expect(judgedKeys(selfTestRuns())).toEqual(new Set(BROKEN_DRIVERS.flatMap((d) => [...judgedKeys(d.runs)])));
  }, RUN_TIMEOUT_MS);

  it('there are at least six, with distinct names', () => {
    expect(BROKEN_DRIVERS.length).toBeGreaterThanOrEqual(6);
    expect(new Set(BROKEN_DRIVERS.map((d) => d.name)).size).toBe(BROKEN_DRIVERS.length);
  });

  for (const d of BROKEN_DRIVERS) {
    describe(d.name, () => {
      it('expects failures only of real cases, on (case × profile) pairs its runs judge', () => {
        const judged = judgedKeys(d.runs);
        for (const g of d.expectedFailures) for (const c of g.cases) expect(caseById(c), c).toBeDefined();
        const unjudged = [...expectedKeys(d)].filter((k) => !judged.has(k));
        expect(unjudged).toEqual([]);
        expect(expectedKeys(d).size).toBeGreaterThan(0);
      });

      it('is judged on every area of at least one SEV and one non-SEV profile', () => {
        const whole = wholeCatalogueProfiles(d).map((p) => profileTruth(loadProfile(p)));
        expect(whole.filter((t) => t.sevUsableAtStart).map((t) => t.name)).not.toEqual([]);
        expect(whole.filter((t) => !t.sevUsable).map((t) => t.name)).not.toEqual([]);
      });

      it('fails exactly the expected cases and errors on none', async () => {
        const { reports, results } = await runSelection(async () => brokenReference(d), d.runs);
        for (const r of reports) expect(r.driver.name).toBe(`broken:${d.name}`);
        expect(explain(results, 'error')).toEqual([]);
        expect(keysWith(results, 'fail')).toEqual([...expectedKeys(d)].sort());
      }, RUN_TIMEOUT_MS);
    });
  }

  for (const v of CORRECT_VARIANTS) {
    it(`correct variant ${v.name} (${v.change}) fails nothing`, async () => {
      const { results } = await runSelection(async () => createReferenceDriver({ name: `correct:${v.name}`, createDriver: v.variant }), v.runs);
      expect(explain(results, 'error')).toEqual([]);
      expect(explain(results, 'fail')).toEqual([]);
      expect(results.filter((r) => r.status === 'pass').length).toBeGreaterThan(0);
    }, RUN_TIMEOUT_MS);
  }

  it('conformance/README.md lists them as generated from the specs', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(brokenDriversSection());
  });
});
