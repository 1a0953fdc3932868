/**
 * The model side of migration version 3 (virsh migrate): Begin, Perform and Confirm on the
 * source, Prepare and Finish on the destination. The fake moves no memory: Finish starts the guest
 * here from the definition Prepare received, Confirm stops it on the source. SEV guests carry
 * QEMU's migration blocker, which also refuses save (a migration to a file).
 */
import { VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { TypedParam } from '../../src/libvirt/typed-params.ts';
import { formatDomainXml } from '../libvirt/domain-format.ts';
import { EventDetail, ShutoffReason } from '../libvirt/states.ts';
import { isActive, refOf, type DomainRef } from './domain-registry.ts';
import type { DomainLifecycle } from './domain-lifecycle.ts';
import { notRunning, opInvalid, qemuErr, type HostContext, type Obj } from './host-context.ts';
import type { DomainHandle } from './libvirt-backend.ts';
import { migrationPrepare, migrationXml, type PreparedMigration } from './migration-params.ts';

/** qemuMigrationSrcIsAllowed: SEV guests carry QEMU's migration blocker. */
export function checkMigratable(o: Obj): void {
  if (o.runtime?.sev) {
    throw opInvalid(VirErrorDomain.QEMU, `cannot migrate domain: ${o.runtime.migrationBlocker}`);
  }
}

export class DomainMigration {
  constructor(
    private readonly ctx: HostContext,
    private readonly lifecycle: DomainLifecycle,
  ) {}

  /** Source side of Begin3: refuses SEV guests, else the domain XML to send (the caller's destination XML if given). */
  migrateBegin(ref: DomainHandle, params: readonly TypedParam[] = []): string {
    const o = this.ctx.obj(ref);
    if (!isActive(o)) throw notRunning();
    checkMigratable(o);
    return migrationXml(params) ?? formatDomainXml(o.def, {});
  }

  /** Destination side of Prepare3: the XML to start from and the URI the source sends to. */
  migratePrepare(params: readonly TypedParam[]): PreparedMigration {
    return migrationPrepare(params, this.ctx.profile.libvirt.hostname);
  }

  /** Source side of Perform3: the fake moves no memory; the guest must still run. */
  migratePerform(ref: DomainHandle): void {
    if (!isActive(this.ctx.obj(ref))) throw notRunning();
  }

  /** Destination side of Finish3: the guest Prepare received (else the destination XML in `params`) runs here, unless cancelled. */
  migrateFinish(prepared: string | null, params: readonly TypedParam[], cancelled: boolean): DomainRef {
    const xml = prepared ?? migrationXml(params);
    if (cancelled) throw qemuErr(VirErrorNumber.OPERATION_FAILED, 'migration job: was cancelled');
    if (xml === null) throw qemuErr(VirErrorNumber.OPERATION_INVALID, 'no incoming migration was prepared on this connection');
    return this.migrateIncoming(xml);
  }

  /** Destination side of Prepare3 + Finish3 in one: the incoming guest runs here. */
  migrateIncoming(xml: string): DomainRef {
    const def = this.ctx.parse(xml);
    const existing = this.ctx.domains.checkAdd(def, { refuseActive: true });
    const o = existing ?? this.ctx.domains.add(def, false);
    this.lifecycle.start(o, 0, 'migrated');
    return refOf(o);
  }

  /** Source side of Confirm3: the guest now runs elsewhere; a cancelled migration leaves it running here. */
  migrateConfirm(ref: DomainHandle, cancelled = false): void {
    if (cancelled) return;
    const o = this.ctx.obj(ref);
    if (!isActive(o)) return;
    this.lifecycle.stop(o, ShutoffReason.MIGRATED, EventDetail.STOPPED_MIGRATED);
  }
}
