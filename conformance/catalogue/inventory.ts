/** Traits and inventory: what a host offers to the scheduler. */
import { noSevReason, slotsKnowable, type ProfileTruth } from '../truth.ts';
import { SEV } from './requests.ts';
import { SEV_ES_TRAIT, SEV_TRAIT, SLOT_SHAPE, UNSEEN, area, needsFreshCacheSev, needsNoSev, needsSevEs } from './helpers.ts';
import type { Applicability } from './types.ts';

/**
 * libvirt reports SEV (fresh cache) with the kernel's SEV on, and the count is knowable. Also where
 * the BIOS left no plain-SEV ASIDs (all to SEV-ES): there the right count is "none", and a driver
 * that pools the ES range into plain SEV must be caught there too.
 */
function sevWithKnowableSlots(t: ProfileTruth): Applicability {
  if (t.staleCache) return needsFreshCacheSev(t);
  if (t.sev === null || !t.kernel.sevEnabled) return noSevReason(t) ?? 'libvirt reports no SEV';
  return slotsKnowable(t) ? true : 'maxGuests not discoverable (libvirt < 8.0 and kernel < 5.13)';
}

const OPERATOR_CAP = 16;

export const INVENTORY = area('inventory', [
  {
    id: 'inventory.trait-on-sev-host',
    area: 'inventory',
    title: 'SEV host carries HW_CPU_X86_AMD_SEV',
    why: 'Users and the scheduler find SEV hosts by this trait.',
    fact: 'nova-sev.md §2.1',
    novaScenario: [13],
    ops: ['reportHost'],
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'traits', includes: [SEV_TRAIT], excludes: [] }),
  },
  {
    id: 'inventory.no-sev-on-plain-host',
    area: 'inventory',
    title: 'Host without SEV: no SEV trait, no encrypted-guest slots',
    why: 'A trait or slot on a host that cannot launch SEV guests sends SEV requests to certain failure.',
    fact: 'nova-sev.md §2.1, §2.2',
    novaScenario: [13],
    ops: ['reportHost'],
    appliesTo: (t) => (t.sevUsableAtStart || t.sevEsUsable ? 'host has SEV' : t.sevEmptyUnseen ? UNSEEN : true),
    expect: () => ({
      kind: 'all',
      of: [
        { kind: 'traits', includes: [], excludes: [SEV_TRAIT, SEV_ES_TRAIT] },
        { kind: 'inventory', model: 'amd-sev', total: null },
        { kind: 'inventory', model: 'amd-sev-es', total: null },
      ],
    }),
  },
  {
    id: 'inventory.slots-from-domcaps',
    area: 'inventory',
    title: 'SEV slots = maxGuests (ECX − EDX + 1), never an unlimited placeholder, none when every ASID is SEV-ES',
    why: 'Zed reported 2147483647 slots, so the scheduler sent guests beyond the ASID pool and they failed at launch; nova 29.0 reads maxGuests.',
    fact: 'nova-sev.md §1.5; sev-hardware.md §1.5',
    novaScenario: [8],
    novaZed: 'fails',
    ops: ['reportHost'],
    appliesTo: sevWithKnowableSlots,
    expect: (t) => ({ kind: 'inventory', model: 'amd-sev', total: t.maxGuests > 0 ? t.maxGuests : null, shape: SLOT_SHAPE }),
  },
  {
    id: 'inventory.es-slots-from-domcaps',
    area: 'inventory',
    title: 'SEV-ES slots = maxESGuests (EDX − 1), apart from the SEV slots',
    why: 'ES guests draw ASIDs from their own range; pooling both counts overcommits whichever range is smaller.',
    fact: 'nova-sev.md §1.5 (M), §2.2 (32.0.0+); sev-hardware.md §1.4',
    novaScenario: [51],
    novaZed: 'fails',
    ops: ['reportHost'],
    appliesTo: needsSevEs,
    expect: (t) => ({
      kind: 'all',
      of: [
        { kind: 'inventory', model: 'amd-sev-es', total: t.maxESGuests, shape: SLOT_SHAPE },
        { kind: 'traits', includes: [SEV_ES_TRAIT], excludes: [] },
      ],
    }),
  },
  {
    id: 'inventory.shape',
    area: 'inventory',
    title: 'Slot inventory shape: min 1, max 1, step 1, ratio 1.0, reserved 0',
    why: 'Each guest takes exactly one ASID and ASIDs cannot be overcommitted.',
    fact: 'nova-sev.md §2.2',
    novaScenario: [12],
    ops: ['reportHost'],
    appliesTo: (t) => (t.sevUsableAtStart && t.maxGuests > 0 ? true : 'host has no SEV slots'),
    expect: () => ({ kind: 'inventory', model: 'amd-sev', total: 'present', shape: SLOT_SHAPE }),
  },
  {
    id: 'inventory.operator-cap',
    area: 'inventory',
    title: `Operator cap of ${OPERATOR_CAP} → slots = min(${OPERATOR_CAP}, maxGuests), warning when the cap exceeds the hardware`,
    why: 'An operator may hold back slots but cannot create ASIDs; nova 29.0 takes the minimum and warns.',
    fact: 'nova-sev.md §1.5',
    novaScenario: [9],
    ops: ['reportHost'],
    given: { request: SEV, host: [{ do: 'set-config', config: { maxEncryptedGuests: OPERATOR_CAP } }] },
    appliesTo: needsFreshCacheSev,
    expect: (t) => {
      // Neither libvirt nor the kernel tells the count: trusting the operator is nova's answer; a
      // driver that knows the CPU generation's ASID total may lower the cap to it (sev-hardware.md §1.3).
      // Anything from the true count up to the cap is honest (e.g. the cap lowered to the generation's ASID total).
      if (!slotsKnowable(t)) {
        const low = Math.min(OPERATOR_CAP, t.maxGuests);
        return { kind: 'inventory', model: 'amd-sev', total: Array.from({ length: OPERATOR_CAP - low + 1 }, (_, i) => low + i) };
      }
      const total = Math.min(OPERATOR_CAP, t.maxGuests);
      return {
        kind: 'all',
        of: [
          { kind: 'inventory', model: 'amd-sev', total },
          OPERATOR_CAP > t.maxGuests ? { kind: 'warning', code: 'CAP_EXCEEDS_HOST' } : { kind: 'no-warning', code: 'CAP_EXCEEDS_HOST' },
        ],
      };
    },
  },
  {
    id: 'inventory.operator-zero',
    area: 'inventory',
    title: 'Operator cap 0 on an SEV host → trait kept, no slot inventory',
    why: 'The operator disabled SEV guests on this host; placement forbids an inventory with total 0.',
    fact: 'nova-sev.md §1.5, §2.2',
    novaScenario: [10],
    ops: ['reportHost'],
    given: { request: SEV, host: [{ do: 'set-config', config: { maxEncryptedGuests: 0 } }] },
    appliesTo: needsFreshCacheSev,
    expect: () => ({
      kind: 'all',
      of: [{ kind: 'traits', includes: [SEV_TRAIT], excludes: [] }, { kind: 'inventory', model: 'amd-sev', total: null }],
    }),
  },
  {
    id: 'inventory.cap-on-plain-host',
    area: 'inventory',
    title: `Operator cap ${OPERATOR_CAP} on a host without SEV → no slots and a warning`,
    why: 'A configured cap on a host that cannot run SEV is an operator mistake worth a warning, not slots.',
    fact: 'nova-sev.md §1.5',
    novaScenario: [11],
    ops: ['reportHost'],
    given: { host: [{ do: 'set-config', config: { maxEncryptedGuests: OPERATOR_CAP } }] },
    appliesTo: needsNoSev,
    expect: () => ({
      kind: 'all',
      of: [{ kind: 'inventory', model: 'amd-sev', total: null }, { kind: 'warning', code: 'CAP_WITHOUT_SEV' }],
    }),
  },
]);
