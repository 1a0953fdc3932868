/** Mixed-fleet scheduling: SEV requests go where slots are, plain requests anywhere. */
import { SEV, SEV_ES } from './requests.ts';
import { area, needsFreshCacheSev, needsSevEs, UNSEEN } from './helpers.ts';
import { slotsKnowable, type ProfileTruth } from '../truth.ts';
import { STANDING_FLEET, standingSevSlotsFor } from './fleet.ts';
import { STANDARD_FLAVOR } from './requests.ts';

/** No SEV-SNP either, and an empty plain-SEV range a driver could see. */
function needsNoSevBeyondPlain(t: ProfileTruth): true | string {
  if (t.snpUsable) return 'host has SEV-SNP';
  return t.sevEmptyUnseen ? UNSEEN : true;
}
import type { Applicability, FleetHost, FleetStep } from './types.ts';

/** The profile under test capped at 2 slots, beside an Intel host. */
const FLEET: readonly FleetHost[] = [
  { name: 'sev', profile: 'this', maxEncryptedGuests: 2 },
  { name: 'plain', profile: 'intel-xeon' },
];

export const SCHEDULING = area('scheduling', [
  {
    id: 'scheduling.mixed-fleet',
    area: 'scheduling',
    title: '2-slot SEV host + plain host: two SEV guests on the SEV host, the third NO_VALID_HOST, plain guests still placed',
    why: 'Slots are a hard limit; plain capacity must stay usable when SEV capacity is gone.',
    fact: 'nova-sev.md §9 scenario 30',
    novaScenario: [30],
    ops: ['reportHost', 'validateRequest', 'schedule'],
    given: { request: SEV },
    appliesTo: twoSevSlots,
    expect: () => ({
      kind: 'schedule',
      fleet: FLEET,
      steps: [
        { boot: 'sev', expect: { hostIn: ['sev'] } },
        { boot: 'sev', expect: { hostIn: ['sev'] } },
        { boot: 'sev', expect: { refusal: 'NO_VALID_HOST' } },
        { boot: 'plain', expect: { hostIn: ['sev', 'plain'] } },
      ],
    }),
  },
  {
    id: 'scheduling.release-frees-slot',
    area: 'scheduling',
    title: 'After release of an SEV guest on a full host, the next SEV guest is placed there',
    why: 'A slot that is never given back shrinks the fleet with every delete.',
    fact: 'nova-sev.md §9 scenario 31',
    novaScenario: [31],
    ops: ['reportHost', 'validateRequest', 'schedule', 'release'],
    given: { request: SEV },
    appliesTo: twoSevSlots,
    expect: () => ({
      kind: 'schedule',
      fleet: FLEET,
      steps: [
        { boot: 'sev', expect: { hostIn: ['sev'] } },
        { boot: 'sev', expect: { hostIn: ['sev'] } },
        { deleteOn: 'sev' },
        { boot: 'sev', expect: { hostIn: ['sev'] } },
      ],
    }),
  },
  {
    id: 'scheduling.no-sev-host',
    area: 'scheduling',
    title: 'SEV request on a fleet without SEV hosts → NO_VALID_HOST',
    why: 'No host may be chosen that would run the guest unencrypted.',
    fact: 'nova-sev.md §9 scenario 32',
    novaScenario: [32],
    ops: ['reportHost', 'validateRequest', 'schedule'],
    given: { request: SEV },
    // Judged on the host as it starts (a stale capability cache hides SEV until refreshed).
    appliesTo: (t) => (t.sevUsableAtStart || t.sevEsUsable ? 'host has SEV' : needsNoSevBeyondPlain(t)),
    expect: () => ({
      kind: 'schedule',
      fleet: [{ name: 'this', profile: 'this' }, { name: 'plain', profile: 'intel-xeon' }],
      steps: [{ boot: 'sev', expect: { refusal: 'NO_VALID_HOST' } }, { boot: 'plain', expect: { hostIn: ['this', 'plain'] } }],
    }),
  },
  {
    id: 'scheduling.sev-es-to-es-host',
    area: 'scheduling',
    title: 'SEV-ES requests (up to two, as many as the host has ES slots) with an ES host and an SEV-only host → always the ES host',
    why: 'An SEV-only host (no ES ASIDs) cannot launch ES guests even though it has SEV slots.',
    fact: 'nova-sev.md §2.3 (32.0.0+ required trait); sev-hardware.md §1.4',
    novaScenario: [51],
    novaZed: 'fails',
    ops: ['reportHost', 'validateRequest', 'schedule'],
    given: { request: SEV_ES },
    appliesTo: needsSevEs,
    expect: (t) => ({
      kind: 'schedule',
      fleet: [{ name: 'es', profile: 'this' }, { name: 'sev-only', profile: 'rome-7002' }],
      steps: Array.from({ length: Math.min(2, t.maxESGuests) }, () => ({ boot: 'sev-es' as const, expect: { hostIn: ['es'] } })),
    }),
  },
  {
    id: 'scheduling.thousand-host-fleet',
    area: 'scheduling',
    title: 'A 1,000-host fleet with every SEV slot taken but one (and one more on the host under test): SEV guests go only there, never to a host whose free slot has no memory behind it; the next is NO_VALID_HOST; a release frees the slot it held',
    why: 'At fleet scale a slot counted twice, an allocation ignored or an over-reported inventory puts an encrypted guest on a host that cannot launch it; one free slot among thousands of taken ones is where that shows.',
    fact: 'nova-sev.md §2.2 (one MEM_ENCRYPTION_CONTEXT per guest, total = the host\'s slots) and §9 scenarios 30–31, at fleet size',
    novaScenario: [30, 31],
    ops: ['reportHost', 'schedule', 'release'],
    given: { request: SEV },
    appliesTo: fleetJudgeable,
    expect: (t) => {
      const hostFree = t.sevUsableAtStart ? 1 : 0;
      const free = hostFree + standingSevSlotsFor(STANDARD_FLAVOR.memoryMiB);
      // Every free slot taken, one more refused, one given back and taken again.
      const steps: FleetStep[] = [...Array.from({ length: free + 1 }, () => ({ boot: 'sev' as const })), { release: 'oldest' }, { boot: 'sev' }];
      return { kind: 'fleet-schedule', fleet: STANDING_FLEET, hostSevSlotsFree: hostFree, steps };
    },
  },
]);

/**
 * The fleet case judges the host under test by its exact slot count: where SEV's state or count
 * is hidden from every driver, no one free slot can be told apart from the others.
 */
function fleetJudgeable(t: ProfileTruth): Applicability {
  if (t.staleCache) return 'libvirt capability cache is stale at start (judged in faults.stale-capability-cache)';
  if (t.sevEmptyUnseen) return UNSEEN;
  if (t.sevUsableAtStart && !slotsKnowable(t)) return 'the SEV slot count is not knowable here (libvirt < 8.0, kernel < 5.13), so no one free slot can be told apart';
  return true;
}

/** Scenarios that fill a host need at least two SEV slots on a host with a fresh capability cache. */
function twoSevSlots(t: Parameters<typeof needsFreshCacheSev>[0]): true | string {
  const base = needsFreshCacheSev(t);
  return base !== true ? base : t.maxGuests >= 2 ? true : 'host has fewer than 2 SEV slots';
}
