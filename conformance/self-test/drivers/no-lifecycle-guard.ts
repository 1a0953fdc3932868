/**
 * A driver without the SEV lifecycle guard: suspend (a managed save) and live migration of an SEV
 * guest go straight to libvirt, as they would for any guest. libvirt refuses both (QEMU's SEV
 * migration blocker), so the caller gets a host fault after the fact instead of the up-front
 * OPERATION_NOT_SUPPORTED_FOR_SEV refusal.
 *
 * Who catches it: lifecycle.suspend-refused and lifecycle.live-migrate-refused on every host with
 * SEV (milan-7003-253 here). intel-xeon is the control: no SEV guest can be booted there, so no
 * lifecycle case applies and nothing else changes.
 */
import { ReferenceSevDriver, refuse, WireSource } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** virDomainMigrateFlags: VIR_MIGRATE_LIVE. */
const MIGRATE_LIVE = 1;

class UnguardedDriver extends ReferenceSevDriver {
  override async suspend(uuid: string): Promise<void> {
    const i = this.instance(uuid);
    await this.libvirt.managedSave(i.dom);
    i.state = 'stopped';
  }

  override async liveMigrate(uuid: string): Promise<never> {
    const i = this.instance(uuid);
    if (!(this.libvirt instanceof WireSource)) return refuse('NOT_IMPLEMENTED', 'live migration needs a libvirt connection');
    // The source's Begin phase is where libvirt checks whether the domain may migrate at all.
    const client = this.libvirt.client;
    await client.call('DOMAIN_MIGRATE_BEGIN3_PARAMS', { dom: await client.lookupByUUID(i.dom.uuid), params: [], flags: MIGRATE_LIVE });
    return refuse('NOT_IMPLEMENTED', 'this self-test driver stops after the Begin phase of a live migration');
  }
}

export const NO_LIFECYCLE_GUARD: BrokenDriverSpec = {
  name: 'no-lifecycle-guard',
  bug: 'suspends and live-migrates SEV guests like any other guest (no OPERATION_NOT_SUPPORTED_FOR_SEV guard)',
  variant: (h) => new UnguardedDriver(h.libvirt, h.files, h.config),
  runs: [{ profiles: ['milan-7003-253', 'intel-xeon'] }],
  expectedFailures: [
    {
      cases: ['lifecycle.suspend-refused', 'lifecycle.live-migrate-refused'],
      profiles: ['milan-7003-253'],
      why: 'the operation reaches libvirt, which refuses it: HOST_FAULT instead of OPERATION_NOT_SUPPORTED_FOR_SEV',
    },
  ],
};
