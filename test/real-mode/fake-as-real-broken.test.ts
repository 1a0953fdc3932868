/**
 * Real mode against the fake with every broken driver of the self-test: served with its control
 * socket and a migration peer, the fake gives real mode everything the fake target has, so no case
 * is left not applicable because of the target, and the verdicts equal the fake target's, failures
 * included: real mode catches every expected failure of the driver.
 *
 * Bounded runtime, a representative subset: each driver runs on its own self-test profiles, over
 * the areas its bug shows in (a whole-catalogue run narrowed to those areas; the self-test already
 * judges the whole catalogue on the fake target); the SEV profiles no driver's run covers each get
 * a share of the drivers, in rotation, over the same areas. The reference driver is compared on the
 * whole catalogue of every profile in fake-as-real.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compareTargets, summarize } from '../../conformance/real/fake-as-real.ts';
import { brokenReference } from '../../conformance/self-test/broken-reference.ts';
import { BROKEN_DRIVERS, type BrokenDriverSpec } from '../../conformance/self-test/index.ts';
import { expectedKeys } from '../../conformance/self-test/types.ts';
import { profileTruth } from '../../conformance/truth.ts';
import { generatedProfile } from '../../fakelibvirt/profile/generate.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';

const x86 = (p: string) => (generatedProfile(p) ?? loadProfile(p)).arch === 'x86_64';
const SEV_PROFILES = [...allProfiles().keys()].filter((p) => x86(p) && profileTruth(loadProfile(p)).sevUsable);
const COVERED = new Set(BROKEN_DRIVERS.flatMap((s) => s.runs.flatMap((r) => r.profiles)));
/** SEV profiles no driver's own run uses: each gets some of the drivers, in turn. */
const UNCOVERED = SEV_PROFILES.filter((p) => !COVERED.has(p));

/** The catalogue areas the driver's expected failures are in. */
const areasOf = (spec: BrokenDriverSpec) => [...new Set(spec.expectedFailures.flatMap((g) => g.cases.map((c) => c.slice(0, c.indexOf('.')))))];

const timings: string[] = [];

describe('real mode against the fake gives the fake target\'s verdicts (broken drivers)', () => {
  afterAll(() => process.stderr.write(`fake-as-real, broken drivers (uncovered SEV profiles in rotation: ${UNCOVERED.join(', ')}):\n  ${timings.join('\n  ')}\n`));

  it('every SEV profile is judged with some broken driver', () => {
    expect(SEV_PROFILES.length).toBeGreaterThanOrEqual(7);
    const rotated = new Set(BROKEN_DRIVERS.map((_, i) => UNCOVERED[i % Math.max(1, UNCOVERED.length)]).filter((p) => p !== undefined));
    expect(SEV_PROFILES.filter((p) => !COVERED.has(p) && !rotated.has(p))).toEqual([]);
  });

  for (const [i, spec] of BROKEN_DRIVERS.entries()) {
    it(spec.name, async () => {
      const areas = areasOf(spec);
      const own = spec.runs.map((r) => ({ profiles: r.profiles.filter(x86), cases: r.cases ?? areas, own: true }));
      const extra = UNCOVERED.length ? [{ profiles: [UNCOVERED[i % UNCOVERED.length]!], cases: areas, own: false }] : [];
      const caught = new Set<string>();
      for (const run of [...own, ...extra]) {
        for (const profile of run.profiles) {
          const c = await compareTargets(async () => brokenReference(spec), profile, run.cases);
          timings.push(`${spec.name} [${run.cases.join(',')}] ${summarize(c)}`);
          expect(c.limited, `${spec.name} on ${profile}: not applicable because of the target`).toEqual([]);
          expect(c.differences, `${spec.name} on ${profile}`).toEqual([]);
          expect(c.real.report.counts.error).toBe(0);
          // Real mode's own checks judge the host, not the driver: they pass whatever the driver.
          expect(c.real.report.results.filter((r) => r.caseId.startsWith('real.') && (r.status === 'fail' || r.status === 'error'))).toEqual([]);
          if (run.own) for (const r of c.real.report.results) if (r.status === 'fail') caught.add(`${r.caseId}@${profile}`);
        }
      }
      // Real mode catches exactly the driver's expected failures (x86_64 profiles: real mode's hosts).
      const expected = [...expectedKeys(spec)].filter((k) => x86(k.slice(k.indexOf('@') + 1)));
      expect([...caught].sort()).toEqual(expected.sort());
      timings.push(`${spec.name}: ${caught.size} failures caught by real mode`);
    }, 900_000);
  }
});
