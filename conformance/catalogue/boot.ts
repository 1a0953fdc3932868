/** Boot on the host: a spawned SEV guest really runs encrypted, with the right ASID range and policy. */
import { decodeCpuid } from '../../fakelibvirt/profile/derive.ts';
import { extraRegionsKiB } from '../../src/sev/qemu-regions.ts';
import type { ProfileTruth } from '../truth.ts';
import { SEV, SEV_ES, STANDARD_FLAVOR } from './requests.ts';
import { POLICY, area, needsFreshCacheSev, needsNoSev, needsSevEs, noSevHostAlternatives } from './helpers.ts';
import type { NumberRange } from './types.ts';

/** ASIDs plain SEV guests get: [min_sev_asid, max_sev_asid]; ES guests: [1, min_sev_asid − 1]. */
export function asidRange(t: ProfileTruth, kind: 'sev' | 'sev-es'): NumberRange {
  const c = decodeCpuid(t.profile);
  if (!c) return { min: 0, max: -1 };
  return kind === 'sev' ? { min: c.minSevAsid, max: c.maxSevAsid } : { min: 1, max: c.minSevAsid - 1 };
}

/** What the standard guest pins at least: its RAM plus QEMU's UEFI regions. */
export const STANDARD_PINNED_KIB = STANDARD_FLAVOR.memoryMiB * 1024 + extraRegionsKiB('uefi');

export const BOOT = area('boot', [
  {
    id: 'boot.sev-guest-runs-encrypted',
    area: 'boot',
    title: 'Spawned SEV guest runs with an SEV ASID, debug and key sharing off, memory pinned',
    why: 'Valid XML is not enough: the firmware must have launched the guest encrypted on this host.',
    fact: 'sev-hardware.md §2.4, §3.1, §5.1',
    novaScenario: [34],
    ops: ['reportHost', 'buildGuestXml', 'spawn'],
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: (t) => ({
      kind: 'boot',
      asidKind: 'sev',
      asidRange: asidRange(t, 'sev'),
      policy: { set: POLICY.NODBG | POLICY.NOKS, clear: POLICY.ES },
      pinnedKiBAtLeast: STANDARD_PINNED_KIB,
      firmwareState: 'RUNNING',
    }),
  },
  {
    id: 'boot.sev-es-guest-runs-encrypted',
    area: 'boot',
    title: 'Spawned SEV-ES guest runs with an ES ASID (below min_sev_asid) and the ES policy bit',
    why: 'ES guests take ASIDs only from the ES range; a plain-SEV launch of an "ES" request leaves register state in the clear.',
    fact: 'sev-hardware.md §1.4, §2.4, §3.1',
    novaScenario: [51],
    novaZed: 'fails',
    ops: ['reportHost', 'buildGuestXml', 'spawn'],
    given: { request: SEV_ES },
    appliesTo: needsSevEs,
    expect: (t) => ({
      kind: 'boot',
      asidKind: 'sev-es',
      asidRange: asidRange(t, 'sev-es'),
      policy: { set: POLICY.NODBG | POLICY.NOKS | POLICY.ES, clear: 0 },
      pinnedKiBAtLeast: STANDARD_PINNED_KIB,
      firmwareState: 'RUNNING',
    }),
  },
  {
    id: 'boot.no-sev-host-refuses-spawn',
    area: 'boot',
    title: 'spawn of an SEV request on a host without SEV → NO_SEV_HOST, nothing started',
    why: 'The last line of defence against a silently unencrypted guest is the spawn itself.',
    fact: 'nova-sev.md §3.1',
    novaScenario: [38],
    novaZed: 'differs',
    ops: ['spawn'],
    given: { request: SEV },
    appliesTo: needsNoSev,
    expect: (t) => ({ kind: 'refusal', op: 'spawn', code: 'NO_SEV_HOST', alternatives: ['NO_SLOTS', ...noSevHostAlternatives(t)] }),
  },
]);
