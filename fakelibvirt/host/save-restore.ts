/**
 * virDomainManagedSave, virDomainSave and virDomainRestore: a guest stopped into an image (by the
 * domain for managed save, by path otherwise) and started from it again. Saving is a migration to
 * a file, so SEV guests refuse it with QEMU's migration blocker.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { EventDetail, ShutoffReason } from '../libvirt/states.ts';
import { isActive, refOf, type DomainRef } from './domain-registry.ts';
import type { DomainLifecycle } from './domain-lifecycle.ts';
import { checkMigratable } from './domain-migration.ts';
import { notRunning, opInvalid, type HostContext } from './host-context.ts';
import type { DomainHandle } from './libvirt-backend.ts';

export class SaveRestore {
  constructor(
    private readonly ctx: HostContext,
    private readonly lifecycle: DomainLifecycle,
  ) {}

  managedSave(ref: DomainHandle): void {
    const o = this.ctx.obj(ref);
    if (!o.persistent) throw opInvalid(VirErrorDomain.QEMU, 'cannot do managed save for transient domain');
    if (!isActive(o)) throw notRunning();
    checkMigratable(o);
    o.hasManagedSave = true;
    this.lifecycle.stop(o, ShutoffReason.SAVED, EventDetail.STOPPED_SAVED);
  }

  managedSaveRemove(ref: DomainHandle): void {
    this.ctx.obj(ref).hasManagedSave = false;
  }

  save(ref: DomainHandle, path: string): void {
    const o = this.ctx.obj(ref);
    if (!isActive(o)) throw notRunning();
    checkMigratable(o);
    this.ctx.saveImages.set(path, o.def);
    this.lifecycle.stop(o, ShutoffReason.SAVED, EventDetail.STOPPED_SAVED);
  }

  restore(path: string): DomainRef {
    const def = this.ctx.saveImages.get(path);
    if (!def) {
      throw new LibvirtError({ code: VirErrorNumber.SYSTEM_ERROR, domain: VirErrorDomain.QEMU, message: `Failed to open file '${path}': No such file or directory` });
    }
    const existing = this.ctx.domains.checkAdd(def, { refuseActive: true });
    const o = existing ?? this.ctx.domains.add(def, false);
    this.lifecycle.start(o, 0, 'restored');
    this.ctx.saveImages.delete(path);
    return refOf(o);
  }
}
