/** Lifecycle refusals and allowances for a running SEV guest. */
import type { LifecycleOperation } from '../contract.ts';
import { SEV } from './requests.ts';
import { area, needsFreshCacheSev } from './helpers.ts';
import type { Case, Expectation } from './types.ts';

const OPS = ['reportHost', 'spawn', 'lifecycle'] as const;

function refused(op: LifecycleOperation, novaName: string, scenario: number, why: string): Case & { area: 'lifecycle' } {
  return {
    id: `lifecycle.${op}-refused`,
    area: 'lifecycle',
    title: `${op} of an SEV guest → OPERATION_NOT_SUPPORTED_FOR_SEV (nova: '${novaName}', HTTP 400)`,
    why,
    fact: 'nova-sev.md §4',
    novaScenario: [scenario],
    ops: OPS,
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'lifecycle', operation: op, outcome: 'OPERATION_NOT_SUPPORTED_FOR_SEV' }),
  };
}

function allowed(op: LifecycleOperation, why: string, scenario?: number, encryptedAfter = true): Case & { area: 'lifecycle' } {
  return {
    id: `lifecycle.${op}-allowed`,
    area: 'lifecycle',
    title: `${op} of an SEV guest is allowed${encryptedAfter ? ' and the guest stays encrypted' : ''}`,
    why,
    fact: 'nova-sev.md §4 (non-limitations)',
    ...(scenario !== undefined && { novaScenario: [scenario] }),
    ops: OPS,
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: (): Expectation => ({ kind: 'lifecycle', operation: op, outcome: 'ok', encryptedAfter }),
  };
}

export const LIFECYCLE = area('lifecycle', [
  refused('suspend', 'suspend', 43, 'Saving an SEV guest to disk needs firmware SEND/RECEIVE support that nova-style drivers do not drive.'),
  refused('live-migrate', 'live-migration', 44, 'Live migration of SEV guests needs the firmware migration flow (not implemented by libvirt/QEMU for SEV).'),
  allowed('pause', 'Pausing keeps the guest in memory; the encryption context is untouched.', 45),
  allowed('resume', 'Resuming a paused SEV guest continues it under the same context.', 45),
  allowed('hard-reboot', 'A hard reboot relaunches the guest with a fresh measurement; Zed once broke this (#1928063).', 45),
  allowed('cold-migrate', 'The destination launches the guest anew and takes a slot there.', 45),
  allowed('rebuild', 'Rebuilding onto another SEV-valid image keeps launchSecurity.', 45),
  allowed('shelve', 'Shelving stops the guest and frees its slot; documented as supported.'),
  allowed('unshelve', 'Unshelving launches the guest anew on a host with a free slot.'),
  allowed('snapshot', 'Snapshots read the disk, not encrypted memory.'),
  {
    id: 'lifecycle.resize-to-plain',
    area: 'lifecycle',
    title: 'Resize to a flavor without SEV → allowed; the guest loses launchSecurity and its slot',
    why: 'The new flavor governs; keeping the slot would leak capacity, keeping launchSecurity would ignore the user.',
    fact: 'nova-sev.md §4',
    novaScenario: [46],
    ops: OPS,
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'lifecycle', operation: 'resize', outcome: 'ok', encryptedAfter: false }),
  },
  {
    id: 'lifecycle.rebuild-revalidates',
    area: 'lifecycle',
    title: 'Rebuild of an SEV guest onto a BIOS image → UEFI_REQUIRED',
    why: 'Rebuild swaps the image, so the image rules apply again.',
    fact: 'nova-sev.md §2.4 (create, rebuild, resize)',
    novaScenario: [28],
    ops: OPS,
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'lifecycle', operation: 'rebuild', outcome: 'UEFI_REQUIRED' }),
  },
  ...(['volume', 'interface'] as const).map((what) => hotPlugIommuCase(what)),
  {
    id: 'lifecycle.sev-disabled-with-guests',
    area: 'lifecycle',
    title: 'Operator disables SEV (cap 0) while an SEV guest runs → the guest keeps running and the report warns',
    why: 'Zed crashed nova-compute on start-up (InventoryInUse); master refuses to start. The guest must survive and the operator must be told.',
    fact: 'nova-sev.md §4, §9 scenario 47',
    novaScenario: [47],
    novaZed: 'differs',
    ops: ['reportHost', 'spawn'],
    given: { request: SEV, host: [{ do: 'boot', count: 1 }, { do: 'set-config', config: { maxEncryptedGuests: 0 } }, { do: 'restart-driver' }] },
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'warning', code: 'GUESTS_EXCEED_SLOTS' }),
  },
]);

/** Hot-plugged virtio devices need the DMA API as much as boot-time ones (bug #1930734). */
function hotPlugIommuCase(what: 'volume' | 'interface'): Case {
  return {
    id: `lifecycle.attach-${what}-iommu`,
    area: 'lifecycle',
    title: `A virtio ${what === 'volume' ? 'volume' : 'NIC'} hot-plugged into an SEV guest gets <driver iommu="on"/>`,
    why: 'Hot-plugged virtio devices need the DMA API as much as boot-time ones (bug #1930734).',
    fact: 'nova-sev.md §3.1',
    novaScenario: [37],
    ops: OPS,
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: (t) => ({
      kind: 'all',
      of: [
        { kind: 'lifecycle', operation: `attach-${what}`, outcome: 'ok', encryptedAfter: true },
        { kind: 'xml', rules: [], devices: [{ rule: 'iommu-on-every-virtio-device', strict: !t.qemuAutoIommu }] },
      ],
    }),
  };
}
