/**
 * The catalogue audit (issue 14) kept true: every case can fail somewhere — it applies on at least
 * one bundled profile or generated host — and the hosts that used to hide wrong drivers have a case
 * that judges them: the all-ES host judges the plain-SEV slot count, a host with one ES slot still
 * judges ES scheduling, a host whose empty plain-SEV range cannot be seen is not judged on it.
 */
import { describe, expect, it } from 'vitest';
import { expandGeneratedSpec, generatedProfile } from '../../fakelibvirt/profile/generate.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import { profileTruth, type ProfileTruth } from '../truth.ts';
import { CASES, caseById } from './index.ts';

const bundled = [...allProfiles().values()].map((p) => profileTruth(p));
const generated = expandGeneratedSpec('generated:120:1')!.map((n) => profileTruth(generatedProfile(n)!));
const applies = (id: string, t: ProfileTruth) => caseById(id)!.appliesTo(t) === true;

describe('catalogue audit', () => {
  it('every case applies on some bundled profile or generated host', () => {
    const dead = CASES.filter((c) => ![...bundled, ...generated].some((t) => c.appliesTo(t) === true)).map((c) => c.id);
    expect(dead).toEqual([]);
  });

  it('the all-ES host is judged on its (absent) plain-SEV slots', () => {
    const allEs = profileTruth(loadProfile('milan-7003-all-es'));
    expect(applies('inventory.slots-from-domcaps', allEs)).toBe(true);
    expect(caseById('inventory.slots-from-domcaps')!.expect(allEs)).toMatchObject({ kind: 'inventory', model: 'amd-sev', total: null });
    expect(caseById('detect.sev-es')!.expect(allEs)).toMatchObject({ sev: false, sevEs: true });
  });

  it('no case asks for more than the facts: ES scheduling with one ES slot, the cap on an unknowable count, launchSecurity anywhere', () => {
    const oneEs = generated.find((t) => t.sevEsUsable && t.maxESGuests === 1);
    if (oneEs) expect(caseById('scheduling.sev-es-to-es-host')!.expect(oneEs)).toMatchObject({ steps: [{ boot: 'sev-es' }] });
    const naples = profileTruth(loadProfile('naples-7001'));
    expect(caseById('inventory.operator-cap')!.expect(naples)).toMatchObject({ total: [15, 16] });
    const ls = caseById('xml.launch-security')!.expect(naples);
    expect(JSON.stringify(ls)).not.toContain('"last":true');
    expect(caseById('memory.locked-backing')!.expect(naples)).toMatchObject({ devices: [{ rule: 'memory-pinnable' }] });
  });

  it('a host whose empty plain-SEV range nothing reveals is not judged on plain SEV', () => {
    const unseen = generated.filter((t) => t.sevEmptyUnseen);
    for (const t of unseen) {
      for (const id of ['inventory.no-sev-on-plain-host', 'xml.no-sev-host-refuses', 'scheduling.no-sev-host', 'inventory.cap-on-plain-host']) expect(applies(id, t), `${id} on ${t.name}`).toBe(false);
      expect(caseById('detect.sev-es')!.expect(t)).not.toHaveProperty('sev');
    }
  });

  it('slot cases apply only where the host can pin a guest per slot', () => {
    for (const t of [...bundled, ...generated].filter((x) => applies('slots.sev-exhaustion', x))) {
      expect(t.pinnableKiB, t.name).toBeGreaterThan(t.maxGuests * 128 * 1024);
    }
  });
});
