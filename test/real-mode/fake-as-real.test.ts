/**
 * Real mode against the fake, profile by profile: `--target real` pointed at a profile's fake
 * libvirtd and sysroot detects the profile's own truth and judges the reference driver exactly as
 * the fake target does. Cases no real host can run (host controls, a look inside QEMU, a second
 * host) are not applicable with that reason and listed; every other case has the same status. On
 * SEV profiles the SEV cases run: a not-applicable case has the fake's own reason (e.g. no SEV-ES
 * ASIDs), never one of the target's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../../conformance/adapters/reference.ts';
import { compareTargets, summarize } from '../../conformance/real/fake-as-real.ts';
import { profileTruth } from '../../conformance/truth.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';

/** Real mode judges x86_64 hosts; every other profile is one. */
const PROFILES = [...allProfiles().keys()].filter((p) => loadProfile(p).arch === 'x86_64');
const timings: string[] = [];

describe('real mode against the fake gives the fake target\'s verdicts (reference driver)', () => {
  afterAll(() => process.stderr.write(`fake-as-real, reference driver:\n  ${timings.join('\n  ')}\n`));

  it('covers every x86_64 profile, SEV and not', () => {
    expect(PROFILES.length).toBeGreaterThanOrEqual(12);
    expect(PROFILES.filter((p) => profileTruth(loadProfile(p)).sevUsable).length).toBeGreaterThanOrEqual(7);
  });

  for (const profile of PROFILES) {
    it(profile, async () => {
      const c = await compareTargets(async () => createReferenceDriver(), profile);
      timings.push(summarize(c));
      expect(c.real.report.results.find((r) => r.caseId === 'real.host-detected')?.status).toBe('pass');
      expect(c.differences).toEqual([]);
      const truth = profileTruth(loadProfile(profile));
      const realById = new Map(c.real.report.results.map((r) => [r.caseId, r]));
      if (truth.sevUsableAtStart) {
        // The SEV cases ran: real mode saw SEV, and judged the SEV-only cases as the fake did.
        expect(c.real.summary).toMatch(/^SEV: \d+ guests/);
        expect(realById.get('real.sev-define-accepted')?.status).toBe('pass');
        expect(realById.get('detect.sev-facts-from-domcaps')?.status).toBe('pass');
      } else {
        expect(realById.get('real.sev-define-refused')?.status).toBe('pass');
      }
      // Only the limits of every real host are left out, and they are a small part of the catalogue.
      expect(c.limited.length).toBeLessThan(c.same / 4);
      expect(c.real.report.counts.fail + c.real.report.counts.error).toBe(0);
    }, 300_000);
  }
});
