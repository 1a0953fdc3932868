/**
 * Slot counting as nova Zed did it: maxGuests / maxESGuests are never read; a model's slots are the
 * operator's setting, or 2147483647 ("unlimited") when there is none. Traits, inventory and the
 * driver's own spawn checks all follow from that count.
 *
 * Who catches it: the cases that compare the slot inventory with the hardware —
 * inventory.slots-from-domcaps where maxGuests is knowable (milan-7003-253) and
 * inventory.es-slots-from-domcaps on an ES host (milan-7003-all-es) — and, on milan-7003-all-es,
 * detect.sev-es and inventory.slots-from-domcaps: every ASID there belongs to SEV-ES (maxGuests 0), yet libvirt still says
 * `<sev supported='yes'>`, so this driver offers unlimited plain-SEV slots where none exist and
 * reports SEV as usable. The exhaustion cases do not catch it:
 * past the ASID pool the host itself refuses the launch, which the contract allows at spawn level
 * ("or its spawn fails without harming others"); the small-fleet scheduling cases cap the hosts at
 * 2 slots, an operator setting this driver honours. scheduling.thousand-host-fleet caps nothing: to
 * this driver every full host of the fleet has slots to spare, so its first SEV guest goes to one
 * of them (a Genoa, the most free memory), or its second to the full host under test. On
 * naples-7001 the slot count is not knowable (libvirt 6.0, kernel 5.4), so no case there may
 * insist on it: the control.
 */
import { type HostReport, NO_PLAIN_SEV_ASIDS, ReferenceSevDriver } from '../../../src/driver/index.ts';
import { withModels } from '../broken-reference.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** nova Zed's placeholder for "no limit known". */
export const UNLIMITED = 2147483647;

function slotsWithoutHardware(r: HostReport, configured: { sev?: number; es?: number }): HostReport {
  // Never reading maxGuests, it cannot know that the BIOS left no plain-SEV ASIDs: libvirt's
  // <sev supported='yes'> is all it goes by.
  const blind = (m: HostReport['sev'], model: 'sev' | 'sevEs') => (model === 'sev' && m.reason === NO_PLAIN_SEV_ASIDS ? { ...m, available: true, reason: undefined } : m);
  return withModels(r, (m, model) => {
    const seen = blind(m, model);
    return seen.available ? { ...seen, slots: (model === 'sev' ? configured.sev : configured.es) ?? UNLIMITED } : seen;
  });
}

class UnlimitedSlotsDriver extends ReferenceSevDriver {
  protected override async detect(): Promise<HostReport> {
    return slotsWithoutHardware(await super.detect(), { sev: this.config.num_memory_encrypted_guests, es: this.config.num_memory_encrypted_es_guests });
  }
}

export const UNLIMITED_SLOTS: BrokenDriverSpec = {
  name: 'unlimited-slots',
  bug: 'never reads maxGuests/maxESGuests and reports 2147483647 slots unless the operator sets a number (nova Zed)',
  variant: (h) => new UnlimitedSlotsDriver(h.libvirt, h.files, h.config),
  runs: [
    { profiles: ['naples-7001', 'intel-xeon'] },
    { profiles: ['milan-7003-253'], cases: ['detect', 'inventory', 'slots', 'scheduling'] },
    // all-es's SEV-ES exhaustion boots 509 guests; milan-7003-253's exhaustion cases stand for it.
    { profiles: ['milan-7003-all-es'], cases: ['detect', 'inventory', 'scheduling'] },
  ],
  expectedFailures: [
    {
      cases: ['inventory.slots-from-domcaps', 'detect.foreign-arch-domcaps-fails'],
      profiles: ['milan-7003-253'],
      why: 'the SEV inventory is 2147483647, not maxGuests (253)',
    },
    { cases: ['inventory.es-slots-from-domcaps'], profiles: ['milan-7003-all-es'], why: 'the SEV-ES inventory is 2147483647, not maxESGuests (509)' },
    { cases: ['detect.sev-es'], profiles: ['milan-7003-all-es'], why: 'plain SEV offered with unlimited slots on a host with no plain-SEV ASIDs' },
    // Added with the catalogue audit (issue 14): slots-from-domcaps now applies on the all-ES host,
    // where the right SEV inventory is none; this driver reports 2147483647 plain-SEV slots there.
    { cases: ['inventory.slots-from-domcaps'], profiles: ['milan-7003-all-es'], why: 'the SEV inventory is 2147483647 on a host whose every ASID is SEV-ES (none expected)' },
    {
      cases: ['scheduling.thousand-host-fleet'],
      profiles: ['intel-xeon', 'milan-7003-253', 'milan-7003-all-es'],
      why: "every full SEV host of the 1,000-host fleet reports 2147483647 slots: an SEV guest is placed on one whose slots are all allocated",
    },
  ],
};
