/**
 * A scheduler that acts as if it were the only one placing guests: it drops the allocations
 * placement hands it with each candidate (guests placed before it, by anyone) and counts only its
 * own claims. Detection, inventory and XML are the reference driver's; only placement differs.
 *
 * Who catches it: scheduling.thousand-host-fleet on every profile it judges — the fleet's hosts
 * are full by placement's allocations, so to this scheduler all of them look empty — and
 * slots.cap-below-usage, where the guests already booted hold the slots the lowered cap allows.
 * The small-fleet scheduling cases cannot: their hosts start with nothing allocated.
 */
import { ReferenceSevDriver } from '../../../src/driver/index.ts';
import type { SevDriver } from '../../contract.ts';
import type { BrokenDriverSpec } from '../types.ts';

function withoutPlacementsAllocations(d: SevDriver): SevDriver {
  const schedule = d.schedule!;
  return { ...d, schedule: (p) => schedule({ ...p, hosts: p.hosts.map((h) => ({ ...h, allocations: {} })) }) };
}

export const IGNORES_ALLOCATIONS: BrokenDriverSpec = {
  name: 'ignores-allocations',
  bug: "schedules as if it were the only placer: placement's allocations on each candidate are dropped, only its own claims count",
  variant: (h) => new ReferenceSevDriver(h.libvirt, h.files, h.config),
  wrap: withoutPlacementsAllocations,
  runs: [
    { profiles: ['naples-7001', 'intel-xeon'] },
    { profiles: ['milan-7003-253'], cases: ['slots', 'scheduling'] },
  ],
  expectedFailures: [
    {
      cases: ['scheduling.thousand-host-fleet'],
      profiles: ['intel-xeon', 'milan-7003-253'],
      why: "the fleet's full hosts look empty without placement's allocations: the first SEV guest goes to a full Genoa",
    },
    {
      cases: ['slots.cap-below-usage'],
      profiles: ['naples-7001', 'milan-7003-253'],
      why: 'the two guests booted before the cap was lowered to 1 are not counted: a third is placed',
    },
  ],
};
