/** Host detection: when a driver must, and must not, consider a host SEV-capable. */
import { fault } from '../../fakelibvirt/control/fault.ts';
import { foreignGuestArch } from '../../fakelibvirt/views/machines.ts';
import { profileTruth, slotsKnowable, type ProfileTruth } from '../truth.ts';
import { SEV, PLAIN } from './requests.ts';
import { SEV_ES_TRAIT, SEV_TRAIT, always, area, needsFreshCacheSev, needsSev } from './helpers.ts';
import type { Applicability, Expectation } from './types.ts';

const noSev = { kind: 'detection', sev: false } as const;

/** Hardware and kernel allow SEV, but libvirt cannot probe it (and the cache is not merely stale). */
function libvirtBlind(t: ProfileTruth): Applicability {
  if (!t.kernel.sevEnabled) return 'kernel has SEV off';
  if (t.sev !== null) return 'libvirt reports SEV';
  return true;
}

/** SEV detected, with the C-bit position and address reduction libvirt reports for the host. */
const sevDetectedWithFacts = (t: ProfileTruth): Expectation[] => [
  { kind: 'detection', sev: true },
  { kind: 'sev-facts', cbitpos: t.cbitpos ?? -1, reducedPhysBits: t.reducedPhysBits ?? -1 },
];

export const DETECT = area('detect', [
  {
    id: 'detect.kernel-param-missing',
    area: 'detect',
    title: 'No kvm_amd sev parameter file → not SEV-capable',
    why: 'Without kvm_amd (Intel, or no SVM) the sysfs file does not exist; the driver must treat that as "no SEV", not as an error.',
    fact: 'nova-sev.md §1.1',
    novaScenario: [1],
    ops: ['reportHost'],
    appliesTo: (t) => (t.kernel.sysfs.sev === undefined ? true : 'the kvm_amd sev parameter file exists'),
    expect: () => noSev,
  },
  {
    id: 'detect.kernel-param-off',
    area: 'detect',
    title: 'kvm_amd sev parameter reads 0 / N → not SEV-capable',
    why: 'A kernel booted without SEV (or on a part without SEV ASIDs) prints 0 or N; nothing else on the host may override that.',
    fact: 'nova-sev.md §1.1; sev-hardware.md §2.1',
    novaScenario: [2],
    ops: ['reportHost'],
    appliesTo: (t) => (t.kernel.sysfs.sev !== undefined && !t.kernel.sevEnabled ? true : 'the sev parameter is on or absent'),
    expect: () => noSev,
  },
  {
    id: 'detect.kernel-param-forms',
    area: 'detect',
    title: 'kvm_amd sev parameter reads 1 (int, kernel < 5.13) or Y (bool, 5.13+) → SEV-capable',
    why: "Kernels changed the parameter from int to bool; nova before Zed accepted only '1' and missed every newer host (bug #1975686).",
    fact: 'nova-sev.md §1.1; sev-hardware.md §2.1',
    novaScenario: [2],
    ops: ['reportHost'],
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'detection', sev: true }),
  },
  {
    id: 'detect.non-x86-host',
    area: 'detect',
    title: 'A non-x86_64 host (aarch64) → not SEV-capable, no trait, no slots',
    why: 'SEV is an AMD x86 feature; an ARM host has no kvm_amd and its domcaps no <sev>, and the host arch alone must settle it before any sysfs read (nova #1873012).',
    fact: 'nova-sev.md §1.2 step 2',
    novaScenario: [5],
    ops: ['reportHost'],
    appliesTo: (t) => (t.profile.arch !== 'x86_64' ? true : 'host is x86_64'),
    expect: () => ({
      kind: 'all',
      of: [
        noSev,
        { kind: 'traits', includes: [], excludes: [SEV_TRAIT, SEV_ES_TRAIT] },
        { kind: 'inventory', model: 'amd-sev', total: null },
      ],
    }),
  },
  {
    id: 'detect.foreign-arch-domcaps-fails',
    area: 'detect',
    title: "Domain capabilities fail for the host's 32-bit guest arch → that arch is skipped, SEV still detected",
    why: 'A compute host lists several guest arches; a broken or removed emulator for one of them (qemu-system-i386) must not hide SEV on x86_64 or stop the service.',
    fact: 'nova-sev.md §1.3 (a libvirtError drops that arch)',
    novaScenario: [7],
    ops: ['reportHost'],
    given: (t) => ({ host: [{ do: 'fault', fault: fault.domcaps(foreignGuestArch(t.profile).arch) }, { do: 'restart-driver' }] }),
    appliesTo: needsFreshCacheSev,
    expect: (t) => ({
      kind: 'all',
      of: [
        ...sevDetectedWithFacts(t),
        { kind: 'traits', includes: [SEV_TRAIT], excludes: [] },
        { kind: 'inventory', model: 'amd-sev', total: slotsKnowable(t) ? t.maxGuests : 'present' },
      ],
    }),
  },
  {
    id: 'detect.libvirt-cannot-probe',
    area: 'detect',
    title: 'Kernel has SEV but libvirt reports no <sev> domain capability → not SEV-capable',
    why: 'libvirt ≤ 5.0 probes QEMU as a user that cannot open a 0600 /dev/sev, so domcaps lack SEV; such a host cannot launch SEV guests.',
    fact: 'nova-sev.md §1.2 step 4; sev-hardware.md §2.7',
    novaScenario: [3, 4],
    ops: ['reportHost'],
    appliesTo: libvirtBlind,
    expect: () => ({ kind: 'all', of: [noSev, { kind: 'traits', includes: [], excludes: [SEV_TRAIT] }] }),
  },
  {
    id: 'detect.sev-facts-from-domcaps',
    area: 'detect',
    title: 'SEV host: cbitpos and reducedPhysBits come from domain capabilities',
    why: 'The C-bit is 47 on Naples/Rome and 51 from Milan on; a hard-coded value makes QEMU refuse to start the guest.',
    fact: 'nova-sev.md §1.4; sev-hardware.md §1.5',
    novaScenario: [6],
    ops: ['reportHost'],
    appliesTo: needsFreshCacheSev,
    expect: (t) => ({ kind: 'all', of: sevDetectedWithFacts(t) }),
  },
  {
    id: 'detect.sev-es',
    area: 'detect',
    title: 'SEV-ES is detected only with ES ASIDs, kernel sev_es on and SNP off',
    why: 'SEV-ES needs its own ASID range (BIOS minimum SEV ASID > 1); offering it elsewhere makes every ES launch fail.',
    fact: 'nova-sev.md §1.6; sev-hardware.md §1.4',
    novaScenario: [51],
    novaZed: 'fails',
    ops: ['reportHost'],
    appliesTo: always,
    // Where the empty plain-SEV range cannot be seen, either answer about plain SEV is honest.
    expect: (t) => ({ kind: 'detection', ...(!t.sevEmptyUnseen && { sev: t.sevUsableAtStart }), sevEs: t.sevEsUsable && t.sevAtStart !== null }),
  },
  {
    id: 'detect.sev-es-off-when-snp',
    area: 'detect',
    title: 'SNP enabled in the kernel → SEV-ES reported unsupported',
    why: 'Firmware with the CVE-2025-48514 fix disables SEV-ES once SNP is initialised; ES and SNP are exclusive per host.',
    fact: 'nova-sev.md §1.6 (bug #2157891)',
    novaScenario: [52],
    novaZed: 'fails',
    ops: ['reportHost'],
    appliesTo: (t) => (t.kernel.snpEnabled ? true : 'SNP is not enabled in the kernel'),
    // Plain SEV stays as it is (absent where the BIOS gave every ASID to SEV-ES/SNP).
    expect: (t) => ({ kind: 'all', of: [{ kind: 'detection', sev: t.sevUsableAtStart, sevEs: false }, { kind: 'traits', includes: [], excludes: [SEV_ES_TRAIT] }] }),
  },
  {
    id: 'detect.redetect-after-restart',
    area: 'detect',
    title: 'After the kernel turns SEV off and the service restarts, SEV is no longer reported',
    why: 'Detection may be cached for the life of the service, but a restart must see the new state, or SEV guests get scheduled to a host that cannot start them.',
    fact: 'nova-sev.md §1.2 (memoized per process), §2.1',
    novaScenario: [15, 16],
    ops: ['reportHost'],
    given: { request: PLAIN, host: [{ do: 'fault', fault: fault.kernelParam('sev', false) }, { do: 'restart-driver' }] },
    appliesTo: needsSev,
    expect: () => ({
      kind: 'all',
      of: [noSev, { kind: 'traits', includes: [], excludes: [SEV_TRAIT] }, { kind: 'inventory', model: 'amd-sev', total: null }],
    }),
  },
  {
    id: 'detect.gain-sev-after-restart',
    area: 'detect',
    title: 'Kernel SEV turned on (module reload, libvirt re-probe) and restart → trait and slots appear',
    why: 'An operator enabling SEV on a running fleet expects the host to offer it after a service restart.',
    fact: 'nova-sev.md §2.1, §9',
    novaScenario: [14],
    ops: ['reportHost'],
    given: {
      request: SEV,
      host: [{ do: 'fault', fault: fault.kernelParam('sev', true) }, { do: 'fault', fault: fault.cacheRefresh() }, { do: 'restart-driver' }],
    },
    appliesTo: (t) => {
      if (t.kernel.sevEnabled) return 'kernel SEV is already on';
      const after = profileTruth(t.profile, { sev: true });
      return after.sevUsable ? true : 'turning the kernel parameter on does not give this host SEV';
    },
    expect: (t) => {
      const after = profileTruth(t.profile, { sev: true });
      return {
        kind: 'all',
        of: [
          { kind: 'detection', sev: true },
          { kind: 'traits', includes: [SEV_TRAIT], excludes: [] },
          { kind: 'inventory', model: 'amd-sev', total: slotsKnowable(after) ? after.maxGuests : 'present' },
        ],
      };
    },
  },
]);
