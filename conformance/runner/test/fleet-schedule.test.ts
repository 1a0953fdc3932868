/**
 * The fleet-schedule judge on the 1,000-host standing fleet: the reference driver passes, and each
 * scheduler mistake that only shows among many hosts fails with the host and the reason named.
 * The broken schedulers here share the reference driver's reports; only their placement differs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryKey, MODEL_TRAITS, type CandidateHost, type SevDriver } from '../../contract.ts';
import { createReferenceDriver } from '../../adapters/reference.ts';
import { caseById } from '../../catalogue/index.ts';
import type { ExpectationOf } from '../judges/types.ts';
import { CaseContext } from '../case-context.ts';
import { DriverSlot } from '../driver-slot.ts';
import { FakeTarget } from '../fake-target.ts';
import { judge } from '../judges/index.ts';
import { MalformedAnswer } from '../outcomes.ts';
import { buildRequest, InstanceNames } from '../requests.ts';
import { standingFakeFleet } from '../judges/standing-fleet.ts';
import { STANDING_FLEET, standingSevSlotsFor } from '../../catalogue/fleet.ts';
import { STANDARD_FLAVOR } from '../../catalogue/requests.ts';
import { profileTruth, slotsKnowable } from '../../truth.ts';

const FLEET_CASE = caseById('scheduling.thousand-host-fleet')!;
const SEV_KEY = inventoryKey('amd-sev');

let target: FakeTarget;
beforeAll(() => {
  target = new FakeTarget();
});
afterAll(async () => {
  await target.close();
});

/** The case judged on `profile` for `driver` (a fresh slot: its reports are its own). */
async function verdict(driver: SevDriver, profile = 'milan-7003-253') {
  const truth = target.truth(profile);
  const exp = FLEET_CASE.expect(truth) as ExpectationOf<'fleet-schedule'>;
  const ctx = new CaseContext(FLEET_CASE, truth, await target.open(profile), target, new DriverSlot(async () => driver), buildRequest(), new InstanceNames());
  try {
    await ctx.report();
    return { v: await judge(exp, ctx), exp };
  } finally {
    await ctx.close();
  }
}

type Bug = 'ignores-memory' | 'forgets-own-claims' | 'refuses-with-no-slots' | 'release-refused' | 'unknown-host';

/**
 * A scheduler over the reference driver's reports: SEV slots left by the report's inventory minus
 * placement's allocations and its own claims, memory by `freeRamMiB`, most free memory first —
 * except for its one bug.
 */
function toyScheduler(bug: Bug): SevDriver & { claimsHeld(): number } {
  const ref = createReferenceDriver();
  const claims = new Map<string, string>();
  const mine = (host: string) => [...claims.values()].filter((h) => h === host).length;
  const slotsLeft = (h: CandidateHost) => (h.report.inventories[SEV_KEY]?.total ?? 0) - (h.allocations[SEV_KEY] ?? 0) - (bug === 'forgets-own-claims' ? 0 : mine(h.name));
  return {
    describe: () => ({ ...ref.describe(), name: `toy:${bug}` }),
    reportHost: (p) => ref.reportHost(p),
    async schedule(p) {
      const mem = p.request.flavor.memoryMiB;
      const fit = p.hosts.filter((h) => h.report.traits.includes(MODEL_TRAITS['amd-sev']) && slotsLeft(h) > 0 && (bug === 'ignores-memory' || h.freeRamMiB - mine(h.name) * mem >= mem));
      // Ignoring memory, it spreads by free slots instead.
      const best = fit.reduce<CandidateHost | undefined>((b, h) => (!b || (bug === 'ignores-memory' ? slotsLeft(h) > slotsLeft(b) : h.freeRamMiB > b.freeRamMiB) ? h : b), undefined);
      if (!best) return { code: bug === 'refuses-with-no-slots' ? 'NO_SLOTS' : 'NO_VALID_HOST', message: 'no host fits' };
      claims.set(p.instance.uuid, best.name);
      return { host: bug === 'unknown-host' ? `${best.name}-x` : best.name, allocation: { [SEV_KEY]: 1, MEMORY_MB: mem } };
    },
    async release(p) {
      if (bug === 'release-refused') return { code: 'UNKNOWN_INSTANCE', message: 'no such instance' };
      claims.delete(p.instance.uuid);
      return { ok: true, freed: { [SEV_KEY]: 1 } };
    },
    close: () => ref.close!(),
    claimsHeld: () => claims.size,
  };
}

describe('the standing fleet', () => {
  it('is a FakeFleet of 999 members (the host under test makes 1,000) whose hosts stay asleep', () => {
    const fleet = standingFakeFleet(STANDING_FLEET.spec);
    expect(fleet.size).toBe(999);
    expect(fleet.members().some((m) => m.awake)).toBe(false);
    for (const o of STANDING_FLEET.open) expect(fleet.member(o.member).name).toBe(o.member);
  });

  it('holds only hosts whose state and slot count every honest driver can read, and its open slots are real', () => {
    const fleet = standingFakeFleet(STANDING_FLEET.spec);
    for (const p of fleet.groups().keys()) {
      const t = profileTruth(p);
      expect([p.name, t.staleCache, t.sevEmptyUnseen, !t.sevUsable || slotsKnowable(t)]).toEqual([p.name, false, false, true]);
    }
    for (const o of STANDING_FLEET.open) {
      const t = profileTruth(fleet.member(o.member).profile);
      expect(t.sevUsableAtStart && t.maxGuests >= o.sevSlotsFree, o.member).toBe(true);
      expect(o.freeRamMiB).toBeLessThanOrEqual(Math.floor(t.pinnableKiB / 1024));
    }
    // one free slot a standard guest can use; the other open host's memory is too short for one
    expect(standingSevSlotsFor(STANDARD_FLAVOR.memoryMiB)).toBe(1);
    expect(STANDING_FLEET.open.filter((o) => o.freeRamMiB < STANDARD_FLAVOR.memoryMiB)).toHaveLength(1);
  });
});

describe('fleet-schedule judge', () => {
  it('the reference driver passes, with or without a free slot on the host under test', async () => {
    for (const profile of ['milan-7003-253', 'intel-xeon', 'milan-7003-all-es']) {
      const { v, exp } = await verdict(createReferenceDriver(), profile);
      expect(v, profile).toEqual({ ok: true });
      // every free slot, one refused, a release and the slot taken again
      expect(exp.steps.filter((s) => 'boot' in s)).toHaveLength(exp.hostSevSlotsFree + 3);
    }
  }, 60_000);

  it('a scheduler that never looks at memory places a guest where a slot is free but the memory is not', async () => {
    const { v } = await verdict(toyScheduler('ignores-memory'));
    expect(v).toEqual({ ok: false, reason: expect.stringMatching(/^step 1: the sev guest placed on turin-9005-33, but turin-9005-33 has 1024 MiB of guest memory left, the guest needs 2048; milan-7003-253-71, host-under-test could take it$/) });
  });

  it('a scheduler that forgets its own claims places a second guest on the last free slot', async () => {
    const driver = toyScheduler('forgets-own-claims');
    const { v } = await verdict(driver, 'intel-xeon');
    expect(v).toEqual({ ok: false, reason: 'step 2: the sev guest placed on milan-7003-253-71, but milan-7003-253-71 has no amd-sev slot left (253 of 253 allocated); no host can, NO_VALID_HOST was expected' });
    // Both placements, the wrong one too, were given back when the case ended.
    expect(driver.claimsHeld()).toBe(0);
  });

  it('when no host can take the guest, the refusal must be NO_VALID_HOST', async () => {
    const { v } = await verdict(toyScheduler('refuses-with-no-slots'), 'intel-xeon');
    expect(v).toEqual({ ok: false, reason: 'step 2: no host can take the sev guest: expected NO_VALID_HOST, driver refused NO_SLOTS (no host fits)' });
  });

  it('a refused release fails the case', async () => {
    const { v } = await verdict(toyScheduler('release-refused'), 'intel-xeon');
    expect(v).toEqual({ ok: false, reason: expect.stringMatching(/^step 3: release of conformance-\d+ on milan-7003-253-71 refused: UNKNOWN_INSTANCE \(no such instance\)$/) });
  });

  it('a host that is not a candidate is a malformed answer', async () => {
    await expect(verdict(toyScheduler('unknown-host'), 'intel-xeon')).rejects.toThrow(MalformedAnswer);
  });
});

describe('the reference adapter on a fleet-sized candidate list', () => {
  it('checks a report once per object yet still refuses any bad candidate in the contract schema\'s words', async () => {
    const driver = createReferenceDriver();
    const host = await target.open('milan-7003-253');
    try {
      const report = await driver.reportHost({ uri: host.uri, sysroot: host.sysroot, config: buildRequest().config });
      const hosts: CandidateHost[] = Array.from({ length: 1000 }, (_, i) => ({ name: `h${i}`, report, freeRamMiB: 4096 + i, allocations: {} }));
      const request = buildRequest({ flavor: { extraSpecs: { 'hw:mem_encryption': 'true' } } });
      const instance = { uuid: '5e0c0000-0000-4000-8000-00000000f001', name: 'f1' };
      // most free memory wins: the last host
      expect(await driver.schedule!({ hosts, request, instance })).toEqual({ host: 'h999', allocation: { [SEV_KEY]: 1, MEMORY_MB: 2048 } });
      const bad = [
        { ...hosts[0]!, freeRamMiB: -1 },
        { ...hosts[0]!, allocations: { [SEV_KEY]: 1.5 } },
        { ...hosts[0]!, name: '' },
        { ...hosts[0]!, report: { ...report, traits: 'HW_CPU_X86_AMD_SEV' } },
      ];
      for (const b of bad) {
        const r = await driver.schedule!({ hosts: [...hosts.slice(1), b] as CandidateHost[], request, instance: { ...instance, uuid: '5e0c0000-0000-4000-8000-00000000f002' } });
        expect(r).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/^invalid schedule parameters: hosts\.999\./) });
      }
    } finally {
      await driver.close!();
      await host.close();
    }
  });
});
