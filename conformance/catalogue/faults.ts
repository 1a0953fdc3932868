/** Fault handling: firmware errors on launch, stale capability caches, SEV turned off underneath, /dev/sev gone or locked. */
import { fault } from '../../fakelibvirt/control/fault.ts';
import type { Expectation } from './types.ts';
import { SEV } from './requests.ts';
import { SEV_TRAIT, area, needsFreshCacheSev, needsSev } from './helpers.ts';

/** What a host that lost SEV under the driver shows once the driver restarts: no SEV, no SEV inventory, spawn refused. */
const noSevAfterRestart = (): Expectation => ({
  kind: 'all',
  of: [
    { kind: 'detection', sev: false },
    { kind: 'inventory', model: 'amd-sev', total: null },
    { kind: 'refusal', op: 'spawn', code: 'NO_SEV_HOST', alternatives: ['NO_SLOTS', 'HOST_FAULT'] },
  ],
});

export const FAULTS = area('faults', [
  {
    id: 'faults.firmware-error-on-launch',
    area: 'faults',
    title: 'LAUNCH_START fails with RESOURCE_LIMIT → spawn refused with HOST_FAULT, no ASID or slot leaked, next spawn works',
    why: 'A failed launch must leave the host as it was; a leaked slot or ASID shrinks capacity for good.',
    fact: 'sev-hardware.md §2.4 step 6, §3.3',
    ops: ['reportHost', 'spawn'],
    given: { request: SEV, host: [{ do: 'fault', fault: fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 }) }] },
    appliesTo: needsFreshCacheSev,
    expect: () => ({
      kind: 'all',
      of: [
        { kind: 'refusal', op: 'spawn', code: 'HOST_FAULT' },
        { kind: 'host-unharmed', asidsLeaked: 0, slotsRestored: true },
      ],
    }),
  },
  {
    id: 'faults.stale-cache-reports-no-sev',
    area: 'faults',
    title: "libvirt's capability cache predates SEV → the host is reported without SEV",
    why: 'libvirt < 6.5 keeps capabilities probed before SEV was enabled; until they are refreshed libvirt cannot launch SEV guests.',
    fact: 'nova-sev.md §1.3; fakelibvirt/views/libvirt-sev.ts',
    ops: ['reportHost'],
    appliesTo: (t) => (t.staleCache ? true : 'the capability cache is fresh at start'),
    expect: () => ({
      kind: 'all',
      of: [{ kind: 'detection', sev: false }, { kind: 'traits', includes: [], excludes: [SEV_TRAIT] }],
    }),
  },
  {
    id: 'faults.stale-cache-refreshed',
    area: 'faults',
    title: 'Capability cache refreshed (libvirtd restart) and service restart → SEV reported',
    why: 'Once libvirt has re-probed, the host is an ordinary SEV host.',
    fact: 'nova-sev.md §1.3',
    ops: ['reportHost'],
    given: { host: [{ do: 'fault', fault: fault.cacheRefresh() }, { do: 'restart-driver' }] },
    appliesTo: (t) => (t.staleCache && t.sevUsable ? true : 'the capability cache is fresh at start'),
    expect: () => ({ kind: 'all', of: [{ kind: 'detection', sev: true }, { kind: 'traits', includes: [SEV_TRAIT], excludes: [] }] }),
  },
  {
    id: 'faults.cache-goes-stale',
    area: 'faults',
    title: 'libvirt stops reporting SEV (stale cache) and the service restarts → no SEV, and SEV spawn refused',
    why: 'The driver must follow what libvirt can launch now, not what it remembers.',
    fact: 'nova-sev.md §1.2',
    ops: ['reportHost', 'spawn'],
    given: { request: SEV, host: [{ do: 'fault', fault: fault.cacheStale() }, { do: 'restart-driver' }] },
    appliesTo: needsFreshCacheSev,
    expect: () => ({
      kind: 'all',
      of: [{ kind: 'detection', sev: false }, { kind: 'refusal', op: 'spawn', code: 'NO_SEV_HOST', alternatives: ['NO_SLOTS'] }],
    }),
  },
  {
    id: 'faults.kernel-param-off',
    area: 'faults',
    title: 'kvm_amd sev turned off (module reload) → no SEV after restart, even where libvirt < 6.5 still claims it',
    why: 'Old libvirt does not re-probe and keeps advertising SEV; only the kernel parameter tells the truth.',
    fact: 'nova-sev.md §1.1, §1.2 step 3; fakelibvirt/profile/derive.ts',
    novaScenario: [1, 15],
    ops: ['reportHost', 'spawn'],
    given: { request: SEV, host: [{ do: 'fault', fault: fault.kernelParam('sev', false) }, { do: 'restart-driver' }] },
    appliesTo: needsSev,
    expect: noSevAfterRestart,
  },
  {
    id: 'faults.dev-sev-missing',
    area: 'faults',
    title: '/dev/sev removed and the service restarts → no SEV, and SEV spawn refused, even where libvirt < 6.5 still claims it',
    why: 'QEMU opens /dev/sev for every SEV launch; libvirt ≥ 6.5 notices the node is gone and re-probes, older libvirt keeps its cached <sev>, so only the device node tells the truth.',
    fact: "libvirt-protocol.md §10.2 (the cache is re-validated on kvm_amd sev and /dev/sev existence; libvirt 9.0 virQEMUCapsIsValid, since 6.5); fakelibvirt/control/host-state.ts",
    ops: ['reportHost', 'spawn'],
    given: { request: SEV, host: [{ do: 'fault', fault: fault.devSev('missing') }, { do: 'restart-driver' }] },
    appliesTo: needsFreshCacheSev,
    expect: noSevAfterRestart,
  },
  {
    id: 'faults.dev-sev-unopenable',
    area: 'faults',
    title: '/dev/sev left in place but unopenable by QEMU (mode 0000) while libvirt still reports SEV → no SEV after restart, SEV spawn refused',
    why: "libvirt only checks that /dev/sev exists and probes QEMU with CAP_DAC_OVERRIDE, so every libvirt keeps <sev supported='yes'>; QEMU runs as the qemu user (libvirt chowns the node to it, the mode stays) and fails to open it, so every SEV launch fails.",
    fact: "sev-hardware.md §2.7 (0600 root:root, permission fixes), §4.2 check 4 (\"Failed to open /dev/sev\"); libvirt-protocol.md §10.2 (existence only), §12 (DAC labelling); libvirt 9.0 qemu_process.c (the probe keeps CAP_DAC_OVERRIDE)",
    ops: ['reportHost', 'spawn'],
    given: { request: SEV, host: [{ do: 'fault', fault: fault.devSev('eacces') }, { do: 'restart-driver' }] },
    appliesTo: needsFreshCacheSev,
    expect: noSevAfterRestart,
  },
]);
