/**
 * The suite can fail: each deliberately broken driver fails exactly the (case × profile) pairs its
 * spec predicts — no more, no fewer, and nothing errors — while the reference driver fails nothing
 * on the same profiles. The README section listing the broken drivers is generated from the specs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../adapters/reference.ts';
import { caseById } from '../catalogue/index.ts';
import { runConformance } from '../runner/run.ts';
import type { RunReport } from '../runner/types.ts';
import { BROKEN_DRIVERS, selfTestProfiles } from './index.ts';
import { brokenDriversSection } from './readme.ts';
import { expectedKeys } from './types.ts';

const RUN_TIMEOUT_MS = 120_000;

const keysWith = (r: RunReport, status: string): string[] =>
  r.results.filter((x) => x.status === status).map((x) => `${x.caseId}@${x.profile}`).sort();

const explain = (r: RunReport, status: string): string[] =>
  r.results.filter((x) => x.status === status).map((x) => `${x.caseId}@${x.profile}: ${x.reason ?? ''}`);

describe('broken drivers', () => {
  it('the reference driver fails nothing on the self-test profiles', async () => {
    const r = await runConformance({ driver: async () => createReferenceDriver(), profiles: selfTestProfiles() });
    expect(explain(r, 'error')).toEqual([]);
    expect(explain(r, 'fail')).toEqual([]);
  }, RUN_TIMEOUT_MS);

  it('there are at least six, with distinct names', () => {
    expect(BROKEN_DRIVERS.length).toBeGreaterThanOrEqual(6);
    expect(new Set(BROKEN_DRIVERS.map((d) => d.name)).size).toBe(BROKEN_DRIVERS.length);
  });

  for (const d of BROKEN_DRIVERS) {
    describe(d.name, () => {
      it('expects failures only of real cases, on profiles it runs on', () => {
        for (const g of d.expectedFailures) {
          for (const c of g.cases) expect(caseById(c), c).toBeDefined();
          for (const p of g.profiles) expect(d.profiles).toContain(p);
        }
        expect(expectedKeys(d).size).toBeGreaterThan(0);
      });

      it('fails exactly the expected cases and errors on none', async () => {
        const r = await runConformance({ driver: async () => d.create(), profiles: d.profiles });
        expect(r.driver.name).toBe(`broken:${d.name}`);
        expect(explain(r, 'error')).toEqual([]);
        expect(keysWith(r, 'fail')).toEqual([...expectedKeys(d)].sort());
      }, RUN_TIMEOUT_MS);
    });
  }

  it('conformance/README.md lists them as generated from the specs', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(brokenDriversSection());
  });
});
