/** Cases judged at API level (request validation alone) get no host: none is built for them. */
import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../../adapters/reference.ts';
import { CASES } from '../../catalogue/index.ts';
import { apiLevelHost, isHostless } from '../case-context.ts';
import { FakeTarget } from '../fake-target.ts';
import { runConformance } from '../run.ts';

describe('API-level cases', () => {
  it('run without opening a host; a host case still opens one', async () => {
    const target = new FakeTarget();
    const opened: string[] = [];
    const open = target.open.bind(target);
    target.open = async (p: string) => (opened.push(p), open(p));
    try {
      const apiLevel = CASES.filter(isHostless).map((c) => c.id);
      const r = await runConformance({ driver: async () => createReferenceDriver(), target, profiles: ['milan-7003-es8'], cases: [...apiLevel, 'detect.sev-es'] });
      expect(r.counts.error).toBe(0);
      expect(r.results.filter((x) => apiLevel.includes(x.caseId) && x.status === 'pass').length).toBeGreaterThan(10);
      expect(opened).toEqual(['milan-7003-es8']);
    } finally {
      await target.close();
    }
  });

  it('reaching for the host of an API-level case is an error that says so', async () => {
    const target = new FakeTarget();
    const h = apiLevelHost('intel-xeon', target.truth('intel-xeon'));
    expect(() => h.uri).toThrow('a case judged at API level has no host');
    expect(() => h.runningDomains()).toThrow('a case judged at API level has no host');
    await h.close();
    await target.close();
  });
});
