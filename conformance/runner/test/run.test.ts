/** The run loop: statuses from applicability, missing operations, verdicts, malformed answers and crashes. */
import { describe, expect, it } from 'vitest';
import type { SevDriver } from '../../contract.ts';
import { CASES } from '../../catalogue/index.ts';
import { loadProfile } from '../../../fakelibvirt/profile/load.ts';
import { profileTruth } from '../../truth.ts';
import { RunnerUsageError } from '../outcomes.ts';
import { runConformance } from '../run.ts';
import { braggingDriver, countingScheduler, describeAs, sysfsDriver } from './toy-drivers.ts';

const once = (d: SevDriver) => async () => d;

describe('runConformance', () => {
  it('cases needing an operation the driver lacks are not implemented, naming the operation', async () => {
    const r = await runConformance({ driver: once(sysfsDriver()), profiles: ['milan-7003-es8'], cases: ['request'] });
    const requestCases = CASES.filter((c) => c.area === 'request');
    expect(r.results).toHaveLength(requestCases.length);
    const ni = r.results.filter((x) => x.status === 'not-implemented');
    const truth = profileTruth(loadProfile('milan-7003-es8'));
    expect(ni.length).toBe(requestCases.filter((c) => c.appliesTo(truth) === true).length);
    expect(ni[0]!.reason).toBe('driver does not implement validateRequest');
    expect(r.counts['not-implemented'] + r.counts['not-applicable']).toBe(requestCases.length);
  });

  it('an inapplicable case carries its reason; an honest driver passes, a bragging one fails', async () => {
    const honest = await runConformance({ driver: once(sysfsDriver()), profiles: ['intel-xeon', 'milan-7003-es8'], cases: ['detect.kernel-param-missing'] });
    expect(honest.results.map((x) => [x.profile, x.status])).toEqual([['intel-xeon', 'pass'], ['milan-7003-es8', 'not-applicable']]);
    expect(honest.results[1]!.reason).toBe('the kvm_amd sev parameter file exists');
    const bragging = await runConformance({ driver: once(braggingDriver()), profiles: ['intel-xeon'], cases: ['detect.kernel-param-missing'] });
    expect(bragging.results[0]).toMatchObject({ status: 'fail', reason: 'expected SEV detected: no, driver reported yes' });
    expect(bragging.driver.name).toBe('bragging');
  });

  it('restart-driver makes a new driver from the factory, and the sysroot follows the kernel parameter', async () => {
    let made = 0;
    const r = await runConformance({ driver: async () => (made++, sysfsDriver()), profiles: ['milan-7003-es8'], cases: ['detect.redetect-after-restart'] });
    expect(r.results[0]!.status).toBe('pass');
    expect(made).toBeGreaterThanOrEqual(2);
  });

  it('a driver that throws is an error, a malformed answer a fail with the schema complaint', async () => {
    const throwing: SevDriver = { describe: describeAs(['reportHost']), reportHost: async () => { throw new Error('socket closed'); } };
    const e = await runConformance({ driver: once(throwing), profiles: ['intel-xeon'], cases: ['detect.kernel-param-missing'] });
    expect(e.results[0]).toMatchObject({ status: 'error', reason: 'socket closed' });
    const malformed = { describe: describeAs(['reportHost']), reportHost: async () => ({ traits: [], inventories: {}, warnings: 'none' }) } as unknown as SevDriver;
    const m = await runConformance({ driver: once(malformed), profiles: ['intel-xeon'], cases: ['detect.kernel-param-missing'] });
    expect(m.results[0]!.status).toBe('fail');
    expect(m.results[0]!.reason).toMatch(/^reportHost answered a malformed result: warnings: /);
  });

  it('a driver that does not start errors every applicable case with the reason', async () => {
    const r = await runConformance({ driver: async () => { throw new Error('no such file'); }, profiles: ['intel-xeon'], cases: ['detect'] });
    expect(r.counts.error).toBeGreaterThan(0);
    expect(r.results.find((x) => x.status === 'error')!.reason).toBe('the driver did not start: no such file');
    expect(r.counts.pass).toBe(0);
  });

  it('schedule: a slot-counting scheduler passes the mixed fleet, one ignoring slots fails at the third SEV guest', async () => {
    const cases = ['scheduling.mixed-fleet', 'scheduling.release-frees-slot'];
    const good = await runConformance({ driver: async () => countingScheduler({ countSlots: true }), profiles: ['rome-7002'], cases });
    expect(good.results.map((x) => x.status)).toEqual(['pass', 'pass']);
    const bad = await runConformance({ driver: async () => countingScheduler({ countSlots: false }), profiles: ['rome-7002'], cases: ['scheduling.mixed-fleet'] });
    expect(bad.results[0]).toMatchObject({ status: 'fail', reason: 'step 3: expected the sev guest refused with NO_VALID_HOST, driver placed it on sev' });
  });

  it('unknown profiles and cases are usage errors', async () => {
    await expect(runConformance({ driver: once(sysfsDriver()), profiles: ['epyc-9999'] })).rejects.toThrow(RunnerUsageError);
    await expect(runConformance({ driver: once(sysfsDriver()), cases: ['detect.nope'] })).rejects.toThrow(/unknown case or area: detect.nope/);
  });
});
