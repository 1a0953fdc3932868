/**
 * libvirt's domain object list (virDomainObjList): lookups by name, UUID and ID with the QEMU
 * driver's "not found" texts, and the name/UUID conflict rules applied when a domain is added.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { DomainDef } from '../libvirt/domain-def.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { DomainState, type DomainState as State } from '../libvirt/states.ts';
import type { BootShape } from '../qemu/process.ts';

/** What a caller names a domain by; the wire's domain reference carries all three. */
export interface DomainRef {
  readonly name: string;
  readonly uuid: string;
  readonly id: number;
}

export interface DomainObj<Runtime> {
  /** The persistent (inactive) definition, or the transient one. */
  def: DomainDef;
  /** The definition the running guest uses, with the values libvirt fills in at start. */
  liveDef: DomainDef | null;
  /** A redefinition made while running, applied when the domain next stops. */
  pendingDef: DomainDef | null;
  persistent: boolean;
  id: number;
  state: State;
  reason: number;
  hasManagedSave: boolean;
  autostart: boolean;
  runtime: Runtime | null;
  /** What the last start derived from its definition (qemu/process.ts), for the next start of the same one. */
  bootShape: BootShape | null;
}

export function isActive(o: DomainObj<unknown>): boolean {
  return o.id !== -1;
}

export function refOf(o: DomainObj<unknown>): DomainRef {
  return { name: o.def.name, uuid: o.def.uuid, id: o.id };
}

const noDomain = (detail: string) => LibvirtError.of(VirErrorNumber.NO_DOMAIN, VirErrorDomain.QEMU, detail);

export class DomainRegistry<Runtime> {
  private readonly byUuid = new Map<string, DomainObj<Runtime>>();
  /**
   * Name index: a domain keeps its name for life (a redefinition under its UUID must carry the
   * same name, checkAdd), so lookups by name stay O(1) on hosts running a thousand guests.
   */
  private readonly byName = new Map<string, DomainObj<Runtime>>();
  private nextId = 1;

  get size(): number {
    return this.byUuid.size;
  }

  all(): DomainObj<Runtime>[] {
    return [...this.byUuid.values()];
  }

  findByUUID(uuid: string): DomainObj<Runtime> | undefined {
    return this.byUuid.get(uuid);
  }

  findByName(name: string): DomainObj<Runtime> | undefined {
    return this.byName.get(name);
  }

  lookupByName(name: string): DomainObj<Runtime> {
    const o = this.findByName(name);
    if (!o) throw noDomain(`no domain with matching name '${name}'`);
    return o;
  }

  lookupByUUID(uuid: string): DomainObj<Runtime> {
    const o = this.byUuid.get(uuid);
    if (!o) throw noDomain(`no domain with matching uuid '${uuid}'`);
    return o;
  }

  lookupById(id: number): DomainObj<Runtime> {
    for (const o of this.byUuid.values()) if (o.id === id && id !== -1) return o;
    throw noDomain(`no domain with matching id ${id}`);
  }

  /** Resolves a wire reference the way qemuDomainObjFromDomain does: by UUID. */
  resolve(ref: Pick<DomainRef, 'uuid' | 'name'>): DomainObj<Runtime> {
    const o = this.byUuid.get(ref.uuid);
    if (!o) throw noDomain(`no domain with matching uuid '${ref.uuid}' (${ref.name})`);
    return o;
  }

  /**
   * Checks whether `def` may be added: the same UUID under another name, or the same name under
   * another UUID, is refused (virDomainObjListAddLocked). Returns the existing object to update.
   */
  checkAdd(def: DomainDef, opts: { refuseActive: boolean }): DomainObj<Runtime> | undefined {
    const same = this.byUuid.get(def.uuid);
    if (same) {
      if (same.def.name !== def.name) {
        throw LibvirtError.of(VirErrorNumber.OPERATION_FAILED, VirErrorDomain.DOMAIN, `domain '${same.def.name}' is already defined with uuid ${def.uuid}`);
      }
      if (opts.refuseActive && isActive(same)) {
        throw LibvirtError.of(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.DOMAIN, `domain '${def.name}' is already active`);
      }
      return same;
    }
    const byName = this.findByName(def.name);
    if (byName) {
      throw LibvirtError.of(VirErrorNumber.OPERATION_FAILED, VirErrorDomain.DOMAIN, `domain '${def.name}' already exists with uuid ${byName.def.uuid}`);
    }
    return undefined;
  }

  add(def: DomainDef, persistent: boolean): DomainObj<Runtime> {
    const o: DomainObj<Runtime> = {
      def,
      liveDef: null,
      pendingDef: null,
      persistent,
      id: -1,
      state: DomainState.SHUTOFF,
      reason: 0,
      hasManagedSave: false,
      autostart: false,
      runtime: null,
      bootShape: null,
    };
    this.byUuid.set(def.uuid, o);
    this.byName.set(def.name, o);
    return o;
  }

  remove(o: DomainObj<Runtime>): void {
    this.byUuid.delete(o.def.uuid);
    if (this.byName.get(o.def.name) === o) this.byName.delete(o.def.name);
  }

  /** A fresh positive ID for a start, as libvirt hands out (never reused while the daemon runs). */
  allocateId(): number {
    return this.nextId++;
  }

  /** virConnectListAllDomains filtering for the ACTIVE/INACTIVE/PERSISTENT/TRANSIENT groups. */
  list(flags: number): DomainObj<Runtime>[] {
    return this.all().filter((o) => {
      const active = isActive(o);
      if (flags & (DomainFlags.LIST_ACTIVE | DomainFlags.LIST_INACTIVE)) {
        if (!((flags & DomainFlags.LIST_ACTIVE && active) || (flags & DomainFlags.LIST_INACTIVE && !active))) return false;
      }
      if (flags & (DomainFlags.LIST_PERSISTENT | DomainFlags.LIST_TRANSIENT)) {
        if (!((flags & DomainFlags.LIST_PERSISTENT && o.persistent) || (flags & DomainFlags.LIST_TRANSIENT && !o.persistent))) return false;
      }
      return true;
    });
  }
}
