/**
 * Slot counting as nova Zed did it: maxGuests / maxESGuests are never read; a model's slots are the
 * operator's setting, or 2147483647 ("unlimited") when there is none. Traits, inventory and the
 * driver's own spawn checks all follow from that count.
 *
 * Who catches it: the cases that compare the slot inventory with the hardware —
 * inventory.slots-from-domcaps where maxGuests is knowable (milan-7003-253) and
 * inventory.es-slots-from-domcaps on an ES host (milan-7003-all-es) — and, on milan-7003-all-es,
 * detect.sev-es: every ASID there belongs to SEV-ES (maxGuests 0), yet libvirt still says
 * `<sev supported='yes'>`, so this driver offers unlimited plain-SEV slots where none exist and
 * reports SEV as usable. The exhaustion cases do not catch it:
 * past the ASID pool the host itself refuses the launch, which the contract allows at spawn level
 * ("or its spawn fails without harming others"); the scheduling cases cap the hosts at 2 slots, an
 * operator setting this driver honours. On naples-7001 the slot count is not knowable (libvirt 6.0,
 * kernel 5.4), so no case there may insist on it: the control.
 */
import type { HostReport, ModelReport } from '../../../src/driver/detect.ts';
import { hostInventory, hostTraits } from '../../../src/driver/inventory.ts';
import { BrokenReferenceDriver } from '../broken-reference.ts';
import { overrideReport } from '../reference-core.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** nova Zed's placeholder for "no limit known". */
export const UNLIMITED = 2147483647;

function slotsWithoutHardware(r: HostReport, configured: { sev?: number; es?: number }): HostReport {
  const count = (m: ModelReport, cap: number | undefined): ModelReport => (m.available ? { ...m, slots: cap ?? UNLIMITED } : m);
  const sev = { ...r.sev, ...count(r.sev, configured.sev) };
  const sevEs = count(r.sevEs, configured.es);
  return { ...r, sev, sevEs, traits: hostTraits(sev, sevEs), inventories: hostInventory(sev, sevEs) };
}

export const UNLIMITED_SLOTS: BrokenDriverSpec = {
  name: 'unlimited-slots',
  bug: 'never reads maxGuests/maxESGuests and reports 2147483647 slots unless the operator sets a number (nova Zed)',
  create: () =>
    new BrokenReferenceDriver('unlimited-slots', {
      core: (core) =>
        overrideReport(core, (r) =>
          slotsWithoutHardware(r, { sev: core.config.num_memory_encrypted_guests, es: core.config.num_memory_encrypted_es_guests }),
        ),
    }),
  profiles: ['milan-7003-253', 'milan-7003-all-es', 'naples-7001'],
  expectedFailures: [
    { cases: ['inventory.slots-from-domcaps'], profiles: ['milan-7003-253'], why: 'the SEV inventory is 2147483647, not maxGuests (253)' },
    { cases: ['inventory.es-slots-from-domcaps'], profiles: ['milan-7003-all-es'], why: 'the SEV-ES inventory is 2147483647, not maxESGuests (509)' },
    { cases: ['detect.sev-es'], profiles: ['milan-7003-all-es'], why: 'plain SEV offered with unlimited slots on a host with no plain-SEV ASIDs' },
  ],
};
