/**
 * Slot counting that pools both ASID ranges: the plain-SEV inventory is maxGuests + maxESGuests, as
 * if every ASID could take a plain SEV guest (ES guests' ASIDs 1 … EDX−1 cannot). Detection itself
 * is left honest (`models['amd-sev'].supported` as the reference reports it), so only the
 * inventory over-reports.
 *
 * Who catches it: inventory.slots-from-domcaps wherever the host has ES ASIDs and the counts are
 * knowable — milan-7003-es8 (509 reported, 502 real) and milan-7003-all-es, where it reports 509
 * plain slots on a host that has none. Before the audit slots-from-domcaps did not apply on the
 * all-ES host (no plain SEV there), so nothing on it could fail: the blind spot this driver proves
 * closed. detect.foreign-arch-domcaps-fails checks the same count on milan-7003-es8, and the
 * operator-cap cases there see the ES slots added on top of the cap. On the 1,000-host fleet
 * (scheduling.thousand-host-fleet) every full Milan with ES ASIDs seems to have 7 plain slots
 * left, so an SEV guest lands on one: on every profile, since the fleet is the same. naples-7001
 * (no ES ASIDs) is the control for the rest.
 */
import { type HostReport, MODELS, ReferenceSevDriver } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

class PooledSevSlots extends ReferenceSevDriver {
  protected override async detect(): Promise<HostReport> {
    const r = await super.detect();
    const pooled = r.sev.slots + r.sevEs.slots;
    const plain = r.inventories.find((i) => i.model === 'amd-sev');
    const others = r.inventories.filter((i) => i.model !== 'amd-sev');
    const template = plain ?? r.inventories.find((i) => i.model === 'amd-sev-es');
    if (!template || pooled === 0) return r;
    return { ...r, inventories: [...others, { ...template, model: 'amd-sev', provider: MODELS['amd-sev'].provider, trait: MODELS['amd-sev'].trait, total: pooled }] };
  }
}

export const OVERREPORTS_SEV_SLOTS: BrokenDriverSpec = {
  name: 'overreports-sev-slots',
  bug: 'reports maxGuests + maxESGuests plain-SEV slots (pools the SEV-ES range into the plain one)',
  variant: (h) => new PooledSevSlots(h.libvirt, h.files, h.config),
  runs: [
    { profiles: ['naples-7001', 'intel-xeon'] },
    { profiles: ['milan-7003-es8', 'milan-7003-all-es'], cases: ['detect', 'inventory', 'scheduling'] },
  ],
  expectedFailures: [
    {
      cases: ['inventory.slots-from-domcaps', 'detect.foreign-arch-domcaps-fails'],
      profiles: ['milan-7003-es8'],
      why: 'the SEV inventory is 509 (502 + 7), maxGuests is 502',
    },
    {
      cases: ['inventory.operator-cap', 'inventory.operator-zero', 'scheduling.mixed-fleet'],
      profiles: ['milan-7003-es8'],
      why: "the 7 ES slots are added on top of the operator's cap (16 → 23, 0 → 7, 2 → 9: a third SEV guest is placed)",
    },
    { cases: ['inventory.slots-from-domcaps'], profiles: ['milan-7003-all-es'], why: 'the host has no plain-SEV ASIDs, the driver reports 509 SEV slots' },
    {
      cases: ['scheduling.thousand-host-fleet'],
      profiles: ['intel-xeon', 'milan-7003-es8', 'milan-7003-all-es'],
      why: "the fleet's full milan-7003-es8 hosts report 509 slots for 502 allocated: an SEV guest is placed on one",
    },
  ],
};
