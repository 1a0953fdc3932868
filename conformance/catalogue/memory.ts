/** Memory pinning and OOM: SEV guests pin all their memory, so it cannot be overcommitted. */
import type { ProfileTruth } from '../truth.ts';
import { SEV, sevFlavor } from './requests.ts';
import { STANDARD_PINNED_KIB } from './boot.ts';
import { POLICY, area, needsFreshCacheSev } from './helpers.ts';

/** A guest size of which exactly one fits in the host's pinnable memory. */
export function bigGuestMiB(t: ProfileTruth): number {
  return Math.floor((t.pinnableKiB * 0.6) / 1024);
}

export const MEMORY = area('memory', [
  {
    id: 'memory.locked-backing',
    area: 'memory',
    title: 'SEV and SEV-ES guests get <memoryBacking><locked/> (or a hard limit covering RAM and QEMU regions)',
    why: 'KVM pins every encrypted page; without locked memory QEMU hits RLIMIT_MEMLOCK and the launch fails.',
    fact: 'nova-sev.md §3.1; sev-hardware.md §5.1, §5.2',
    novaScenario: [34],
    ops: ['reportHost', 'buildGuestXml'],
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    // Either form the title allows: libvirt lifts RLIMIT_MEMLOCK for <locked/> and sets it to the
    // hard limit otherwise, so a hard limit covering what QEMU pins is as good (sev-hardware.md §5.2).
    expect: () => ({ kind: 'xml', rules: [], devices: [{ rule: 'memory-pinnable' }] }),
  },
  {
    id: 'memory.pinned-covers-regions',
    area: 'memory',
    title: "A running SEV guest pins its RAM plus QEMU's extra regions (10832 KiB for UEFI)",
    why: 'Capacity planning must count the extra regions, or the host runs out of pinnable memory before it looks full.',
    fact: 'sev-hardware.md §5.3',
    ops: ['reportHost', 'buildGuestXml', 'spawn'],
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: () => ({
      kind: 'boot',
      asidKind: 'sev',
      asidRange: { min: 1, max: Number.MAX_SAFE_INTEGER },
      policy: { set: POLICY.NODBG, clear: 0 },
      pinnedKiBAtLeast: STANDARD_PINNED_KIB,
      firmwareState: 'RUNNING',
    }),
  },
  {
    id: 'memory.no-overcommit',
    area: 'memory',
    title: 'Two SEV guests of 60 % of host memory: the first runs, the second is refused and the first survives',
    why: 'Pinned memory cannot be swapped; overcommitting wakes the OOM killer, which kills the largest QEMU — usually a running guest.',
    fact: 'sev-hardware.md §5.1',
    ops: ['reportHost', 'schedule', 'spawn'],
    given: { request: { flavor: sevFlavor() } },
    appliesTo: needsFreshCacheSev,
    expect: (t) => ({
      kind: 'memory',
      guestMiB: bigGuestMiB(t),
      fit: 1,
      then: ['NO_VALID_HOST', 'HOST_FAULT'],
      othersSurvive: true,
    }),
  },
]);
