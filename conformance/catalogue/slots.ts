/** Key-slot capacity: how many encrypted guests a host runs at once, and reuse after delete. */
import { EXTRA_REGIONS_PADDING_KIB, EXTRA_REGIONS_UEFI_KIB } from '../../src/sev/qemu-regions.ts';
import type { ProfileTruth } from '../truth.ts';
import { SEV, SEV_ES } from './requests.ts';
import { area, needsFreshCacheSev, needsSevEs } from './helpers.ts';
import type { Applicability } from './types.ts';

/** The size of the guests the slot cases boot (runner/judges/slots.ts): small, so key slots run out first. */
export const SLOT_GUEST_MIB = 128;
/** What one such guest may pin at most: RAM, QEMU's UEFI regions, a display's 16 MiB and padding. */
const SLOT_GUEST_PIN_KIB = SLOT_GUEST_MIB * 1024 + EXTRA_REGIONS_UEFI_KIB + 16 * 1024 + EXTRA_REGIONS_PADDING_KIB;

/** The host can pin `count` slot guests at once; otherwise its memory, not its ASIDs, sets the limit (memory.no-overcommit judges that). */
function memoryHolds(t: ProfileTruth, count: number): Applicability {
  return t.pinnableKiB >= count * SLOT_GUEST_PIN_KIB ? true : `host memory runs out before its ${count} key slots (${Math.floor(t.pinnableKiB / 1024)} MiB pinnable)`;
}

const FULL = ['NO_SLOTS', 'NO_VALID_HOST'] as const;

export const SLOTS = area('slots', [
  {
    id: 'slots.sev-exhaustion',
    area: 'slots',
    title: 'Exactly maxGuests SEV guests run at once; the next is refused, not crashed',
    why: 'Beyond the ASID pool KVM fails the launch (EBUSY); Zed advertised unlimited slots and let guests fail at boot.',
    fact: 'sev-hardware.md §1.5, §2.4; nova-sev.md §1.5',
    novaScenario: [30],
    novaZed: 'fails',
    ops: ['reportHost', 'spawn'],
    given: { request: SEV },
    appliesTo: (t) => {
      const base = needsFreshCacheSev(t);
      return base !== true ? base : t.maxGuests > 0 ? memoryHolds(t, t.maxGuests) : 'host has no SEV slots';
    },
    expect: (t) => ({ kind: 'slots', model: 'sev', total: t.maxGuests, then: FULL, reuseAfterDelete: false }),
  },
  {
    id: 'slots.sev-es-exhaustion',
    area: 'slots',
    title: 'Exactly maxESGuests SEV-ES guests run at once; the next is refused',
    why: 'The ES range is often tiny (a BIOS ES limit of 8 gives 7 guests); it must be counted apart from the SEV range.',
    fact: 'sev-hardware.md §1.4, §2.4',
    novaScenario: [51],
    novaZed: 'fails',
    ops: ['reportHost', 'spawn'],
    given: { request: SEV_ES },
    appliesTo: (t) => {
      const base = needsSevEs(t);
      return base !== true ? base : memoryHolds(t, t.maxESGuests);
    },
    expect: (t) => ({ kind: 'slots', model: 'sev-es', total: t.maxESGuests, then: FULL, reuseAfterDelete: false }),
  },
  {
    id: 'slots.reuse-after-delete',
    area: 'slots',
    title: 'With every SEV slot taken, deleting one guest lets the next SEV guest boot',
    why: 'KVM only recycles a freed ASID after a flush on exhaustion; a driver must neither leak the slot nor assume instant reuse fails.',
    fact: 'sev-hardware.md §2.4 step 4; nova-sev.md §9',
    novaScenario: [31],
    ops: ['reportHost', 'spawn', 'lifecycle'],
    given: { request: SEV },
    // Its first steps are slots.sev-exhaustion's: filling every SEV slot once serves both.
    continues: 'slots.sev-exhaustion',
    appliesTo: (t) => {
      const base = needsFreshCacheSev(t);
      return base !== true ? base : t.maxGuests > 0 ? memoryHolds(t, t.maxGuests) : 'host has no SEV slots';
    },
    expect: (t) => ({ kind: 'slots', model: 'sev', total: t.maxGuests, then: FULL, reuseAfterDelete: true }),
  },
  {
    id: 'slots.cap-below-usage',
    area: 'slots',
    title: 'Operator cap lowered below current usage → running guests stay, new SEV boots refused',
    why: 'Lowering the cap must not kill or orphan running guests, yet must stop new ones.',
    fact: 'nova-sev.md §9 scenario 33',
    novaScenario: [33],
    ops: ['reportHost', 'spawn', 'schedule'],
    given: { request: SEV, host: [{ do: 'boot', count: 2 }, { do: 'set-config', config: { maxEncryptedGuests: 1 } }, { do: 'restart-driver' }] },
    appliesTo: (t) => {
      const base = needsFreshCacheSev(t);
      return base !== true ? base : t.maxGuests >= 2 ? true : 'host has fewer than 2 SEV slots';
    },
    expect: () => ({
      kind: 'all',
      of: [
        { kind: 'inventory', model: 'amd-sev', total: 1 },
        { kind: 'schedule', fleet: [{ name: 'sev', profile: 'this', maxEncryptedGuests: 1 }], steps: [{ boot: 'sev', expect: { refusal: 'NO_VALID_HOST' } }] },
      ],
    }),
  },
]);
