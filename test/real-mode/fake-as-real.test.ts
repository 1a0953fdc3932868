/**
 * Real mode against the fake, profile by profile: `--target real` pointed at a profile's fake
 * libvirtd, its sysroot, its control socket and a second fake of the profile as migration peer
 * detects the profile's own truth and judges the reference driver exactly as the fake target does.
 * No case is left "not applicable" because of the target: host controls and the look inside QEMU
 * come through the control socket, migrations go to the peer, fleet members of other profiles are
 * fake hosts beside it. Served as a bare real host (no control socket, no peer), the cases needing
 * more are not applicable with the reason named, and every other verdict is the same.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../../conformance/adapters/reference.ts';
import { compareTargets, summarize } from '../../conformance/real/fake-as-real.ts';
import { profileTruth } from '../../conformance/truth.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';

/** Real mode judges x86_64 hosts; every other profile is one. */
const PROFILES = [...allProfiles().keys()].filter((p) => loadProfile(p).arch === 'x86_64');
const timings: string[] = [];
const reference = async () => createReferenceDriver();

describe('real mode against the fake gives the fake target\'s verdicts (reference driver)', () => {
  afterAll(() => process.stderr.write(`fake-as-real, reference driver:\n  ${timings.join('\n  ')}\n`));

  it('covers every x86_64 profile, SEV and not', () => {
    expect(PROFILES.length).toBeGreaterThanOrEqual(12);
    expect(PROFILES.filter((p) => profileTruth(loadProfile(p)).sevUsable).length).toBeGreaterThanOrEqual(7);
  });

  for (const profile of PROFILES) {
    it(profile, async () => {
      const c = await compareTargets(reference, profile);
      timings.push(summarize(c));
      expect(c.real.report.results.find((r) => r.caseId === 'real.host-detected')?.status).toBe('pass');
      // Nothing is beyond the target: every case runs as on the fake target, with its verdict.
      expect(c.limited).toEqual([]);
      expect(c.differences).toEqual([]);
      const truth = profileTruth(loadProfile(profile));
      const realById = new Map(c.real.report.results.map((r) => [r.caseId, r]));
      if (truth.sevUsableAtStart) {
        // The SEV cases ran: real mode saw SEV, and judged the SEV-only cases as the fake did.
        expect(c.real.summary).toMatch(/^SEV: \d+ guests/);
        expect(realById.get('real.sev-define-accepted')?.status).toBe('pass');
        expect(realById.get('detect.sev-facts-from-domcaps')?.status).toBe('pass');
        // Those needing a host control, the look inside QEMU or a second host among them.
        for (const id of ['faults.kernel-param-off', 'faults.dev-sev-missing', 'boot.sev-guest-runs-encrypted', 'lifecycle.cold-migrate-allowed']) {
          expect([id, realById.get(id)?.status]).toEqual([id, 'pass']);
        }
      } else {
        expect(realById.get('real.sev-define-refused')?.status).toBe('pass');
      }
      expect(c.real.report.counts.fail + c.real.report.counts.error).toBe(0);
    }, 300_000);
  }

  it('served as a bare real host, the cases needing a control, a look inside or a second host are not applicable, each saying why', async () => {
    const c = await compareTargets(reference, 'rome-7002', undefined, { controls: false });
    timings.push(`bare ${summarize(c)}`);
    expect(c.differences).toEqual([]);
    const reasons = new Map(c.real.report.results.filter((r) => c.limited.includes(r.caseId)).map((r) => [r.caseId, r.reason]));
    expect(reasons.get('faults.kernel-param-off')).toMatch(/^the real \S+ target cannot inject kernelParam sev 0$/);
    expect(reasons.get('faults.firmware-error-on-launch')).toMatch(/target cannot inject firmware LAUNCH_START/);
    expect(reasons.get('boot.sev-guest-runs-encrypted')).toMatch(/^the target cannot look inside the host/);
    expect(reasons.get('lifecycle.live-migrate-refused')).toMatch(/^the real target is a single host; .*--peer-uri/);
    // Fleet members of other profiles are fake hosts beside the real one: scheduling runs.
    expect(c.limited).not.toContain('scheduling.mixed-fleet');
    expect(c.real.report.results.find((r) => r.caseId === 'scheduling.mixed-fleet')?.status).toBe('pass');
  }, 300_000);
});
