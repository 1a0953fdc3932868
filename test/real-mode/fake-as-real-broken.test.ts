/**
 * Real mode against the fake with every broken driver of the self-test, over the driver's own runs
 * (profiles × case selections): the verdicts equal the fake target's, failures included, so real
 * mode catches on a host served as real what the fake target catches, except where a case needs what
 * no real host offers (listed by compareTargets as limited).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compareTargets, summarize } from '../../conformance/real/fake-as-real.ts';
import { brokenReference } from '../../conformance/self-test/broken-reference.ts';
import { BROKEN_DRIVERS } from '../../conformance/self-test/index.ts';
import { generatedProfile } from '../../fakelibvirt/profile/generate.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';

const timings: string[] = [];

describe('real mode against the fake gives the fake target\'s verdicts (broken drivers)', () => {
  afterAll(() => process.stderr.write(`fake-as-real, broken drivers:\n  ${timings.join('\n  ')}\n`));

  for (const spec of BROKEN_DRIVERS) {
    it(spec.name, async () => {
      let realFailures = 0;
      let fakeFailuresRealCanRun = 0;
      for (const run of spec.runs) {
        for (const profile of run.profiles.filter((p) => (generatedProfile(p) ?? loadProfile(p)).arch === 'x86_64')) {
          const c = await compareTargets(async () => brokenReference(spec), profile, run.cases);
          timings.push(`${spec.name} ${run.cases ? `[${run.cases.join(',')}] ` : ''}${summarize(c)}`);
          expect(c.differences, `${spec.name} on ${profile}`).toEqual([]);
          expect(c.real.report.counts.error).toBe(0);
          // Real mode's own checks judge the host, not the driver: they pass whatever the driver.
          expect(c.real.report.results.filter((r) => r.caseId.startsWith('real.') && (r.status === 'fail' || r.status === 'error'))).toEqual([]);
          realFailures += c.real.report.counts.fail;
          fakeFailuresRealCanRun += c.fakeResults.filter((r) => r.status === 'fail' && !c.limited.includes(r.caseId)).length;
        }
      }
      // Real mode catches the driver wherever its bug shows in a case a real host can run.
      expect(realFailures).toBe(fakeFailuresRealCanRun);
      timings.push(`${spec.name}: ${realFailures} failures caught by real mode`);
    }, 600_000);
  }
});
