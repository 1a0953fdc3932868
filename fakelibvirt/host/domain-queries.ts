/**
 * Finding and describing domains (virDomainLookupBy*, virConnectListAllDomains and the legacy
 * listings, virDomainGetState/Info/XMLDesc and the small is/has/get calls): reads only, with the
 * QEMU driver's flag checks and "not found" answers.
 */
import { VirErrorDomain } from '../../src/libvirt/errors.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import type { TypedParam } from '../../src/libvirt/typed-params.ts';
import { checkFlags } from '../libvirt/check-flags.ts';
import { formatDomainXml } from '../libvirt/domain-format.ts';
import { memoryOf, vcpusOf } from '../libvirt/domain-resize.ts';
import { isActive, refOf, type DomainRef } from './domain-registry.ts';
import type { HostContext } from './host-context.ts';
import type { DomainHandle, DomainInfo, DomainJobInfo } from './libvirt-backend.ts';
import { SECURITY_LABEL } from './node-views.ts';

/** VIR_DOMAIN_JOB_NONE with every counter zero: the fake's operations finish within their call. */
const NO_JOB: DomainJobInfo = {
  type: 0,
  timeElapsed: 0n,
  timeRemaining: 0n,
  dataTotal: 0n,
  dataProcessed: 0n,
  dataRemaining: 0n,
  memTotal: 0n,
  memProcessed: 0n,
  memRemaining: 0n,
  fileTotal: 0n,
  fileProcessed: 0n,
  fileRemaining: 0n,
};

export class DomainQueries {
  constructor(private readonly ctx: HostContext) {}

  lookupByName(name: string): DomainRef {
    return refOf(this.ctx.domains.lookupByName(name));
  }

  lookupByUUID(uuid: string): DomainRef {
    return refOf(this.ctx.domains.lookupByUUID(uuid));
  }

  lookupById(id: number): DomainRef {
    return refOf(this.ctx.domains.lookupById(id));
  }

  listAllDomains(flags = 0): DomainRef[] {
    return this.ctx.domains.list(flags).map(refOf);
  }

  numOfDomains(): number {
    return this.ctx.domains.all().filter(isActive).length;
  }

  /** virConnectListDomains: the IDs of running domains. */
  listDomains(): number[] {
    return this.ctx.domains.list(DomainFlags.LIST_ACTIVE).map((o) => o.id);
  }

  numOfDefinedDomains(): number {
    return this.ctx.domains.list(DomainFlags.LIST_INACTIVE).length;
  }

  /** virConnectListDefinedDomains: the names of defined, inactive domains. */
  listDefinedDomains(): string[] {
    return this.ctx.domains.list(DomainFlags.LIST_INACTIVE).map((o) => o.def.name);
  }

  getState(ref: DomainHandle, flags = 0): { state: number; reason: number } {
    checkFlags(flags, 0, 'qemuDomainGetState', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    return { state: o.state, reason: o.reason };
  }

  getInfo(ref: DomainHandle): DomainInfo {
    const o = this.ctx.obj(ref);
    const def = this.ctx.currentDef(o);
    const mem = memoryOf(def);
    return {
      state: o.state,
      maxMemKiB: BigInt(mem.totalKiB),
      memoryKiB: BigInt(mem.currentKiB),
      nrVirtCpu: vcpusOf(def).current,
      cpuTimeNs: o.runtime ? this.ctx.qemu.cpuTimeNs(o.runtime) : 0n,
    };
  }

  getXMLDesc(ref: DomainHandle, flags = 0): string {
    // SECURE | INACTIVE | UPDATE_CPU | MIGRATABLE
    checkFlags(flags, 0xf, 'qemuDomainGetXMLDesc', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    const inactive = (flags & DomainFlags.XML_INACTIVE) !== 0;
    if (isActive(o) && !inactive && o.liveDef) return formatDomainXml(o.liveDef, { id: o.id });
    return formatDomainXml(this.ctx.persistentDef(o), {});
  }

  isActive(ref: DomainHandle): boolean {
    return isActive(this.ctx.obj(ref));
  }

  isPersistent(ref: DomainHandle): boolean {
    return this.ctx.obj(ref).persistent;
  }

  /** virDomainIsUpdated: the fake never holds a live change not yet in the config. */
  isUpdated(ref: DomainHandle): boolean {
    this.ctx.obj(ref);
    return false;
  }

  getAutostart(ref: DomainHandle): boolean {
    return this.ctx.obj(ref).autostart;
  }

  getOSType(ref: DomainHandle): string {
    return this.ctx.obj(ref).def.os.type;
  }

  hasManagedSaveImage(ref: DomainHandle): boolean {
    return this.ctx.obj(ref).hasManagedSave;
  }

  /** Security driver "none": an empty label, not enforcing. */
  getSecurityLabel(ref: DomainHandle): { readonly label: string; readonly enforcing: number } {
    this.ctx.obj(ref);
    return SECURITY_LABEL;
  }

  /** virDomainGetMessages: the fake's guests taint nothing and leave no deprecation messages. */
  getMessages(ref: DomainHandle): string[] {
    this.ctx.obj(ref);
    return [];
  }

  /** virDomainSnapshotNum: the fake keeps no snapshots. */
  snapshotNum(ref: DomainHandle): number {
    this.ctx.obj(ref);
    return 0;
  }

  getJobInfo(ref: DomainHandle): DomainJobInfo {
    this.ctx.obj(ref);
    return NO_JOB;
  }

  getJobStats(ref: DomainHandle): { readonly type: number; readonly params: TypedParam[] } {
    this.ctx.obj(ref);
    return { type: 0, params: [] };
  }
}
