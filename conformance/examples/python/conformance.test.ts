/**
 * The Python example driver judged by the runner: every detection, inventory and request case on
 * every hardware profile's fake host, through the process adapter. Each applicable case must pass;
 * the only cases it may leave unjudged are those needing guests it does not build.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requireRealStack } from '../../../containers/real-stack.ts';
import { startProcessDriver } from '../../adapters/process.ts';
import { FakeTarget } from '../../runner/fake-target.ts';
import { runConformance } from '../../runner/run.ts';
import { describeConformance } from '../../vitest.ts';
import { expandGeneratedSpec } from '../../../fakelibvirt/profile/generate.ts';
import { allProfiles } from '../../../fakelibvirt/profile/load.ts';

const stack = requireRealStack(['/usr/bin/python3']);
const DRIVER = fileURLToPath(new URL('./driver.py', import.meta.url));
const CASES = ['detect', 'inventory', 'request'];
const driver = () => startProcessDriver(['/usr/bin/python3', DRIVER]);

if (stack.available) {
  // Bundled profiles and generated hosts (generated:3 of the default seed and 6 more of another).
  const profiles = [...allProfiles().keys(), ...expandGeneratedSpec('generated:3')!, ...expandGeneratedSpec('generated:6:3')!];
  describeConformance({ name: 'python example driver conformance', driver, cases: CASES, profiles });

  describe('python example driver: what the suite leaves unjudged', () => {
    it('only the cases that need guest XML or an SEV-ES guest builder, and nothing fails', async () => {
      const target = new FakeTarget();
      try {
        const report = await runConformance({ driver: async () => driver(), cases: CASES, target });
        const by = (status: string) => [...new Set(report.results.filter((r) => r.status === status).map((r) => r.caseId))].sort();
        expect(report.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.caseId} on ${r.profile}: ${r.reason}`)).toEqual([]);
        expect(by('not-implemented')).toEqual(['request.sev-es-model', 'request.unaliased-q35']);
        expect(by('pass')).toContain('request.unknown-machine');
      } finally {
        await target.close();
      }
    }, 300_000);
  });
} else {
  describe.skip('python example driver conformance', () => it('needs /usr/bin/python3', () => {}));
}
