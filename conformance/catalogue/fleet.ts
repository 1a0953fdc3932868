/**
 * The standing fleet the large scheduling case places on: a thousand hosts of a data centre's mix —
 * three EPYC generations with SEV, a Milan whose BIOS gave every ASID to SEV-ES, Intel hosts and
 * Rome hosts with SEV switched off — with placement's load already on it: every plain-SEV slot
 * allocated except on two hosts, one of which has no memory left for a guest.
 */
import type { StandingFleet } from './types.ts';

/**
 * 999 members; the case's own host makes a thousand. Every profile here lets a driver read its
 * exact slot count (libvirt ≥ 8.0 or the misc cgroup), so the full hosts are full by any honest report.
 */
export const STANDING_FLEET: StandingFleet = {
  spec: 'rome-7002:250,milan-7003-es8:200,milan-7003-253:100,milan-7003-all-es:49,genoa-9004:150,turin-9005:50,intel-xeon:150,rome-7002-sev-off:50@999',
  memoryUsed: [0.2, 0.45, 0.7, 0.95, 0.6],
  open: [
    // Deep in the list, with plenty of memory: the one plain-SEV slot the fleet has to give.
    { member: 'milan-7003-253-71', sevSlotsFree: 1, freeRamMiB: 65536 },
    // A free slot, but its memory is all allocated: placing a guest there overcommits the host.
    { member: 'turin-9005-33', sevSlotsFree: 3, freeRamMiB: 1024 },
  ],
};

/** Free plain-SEV slots of the standing fleet a guest of `memoryMiB` can use. */
export function standingSevSlotsFor(memoryMiB: number): number {
  return STANDING_FLEET.open.filter((o) => o.freeRamMiB >= memoryMiB).reduce((s, o) => s + o.sevSlotsFree, 0);
}
