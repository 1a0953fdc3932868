/**
 * A domain's memory and vCPUs (qemuDomainSetMemoryFlags, qemuDomainGetVcpusFlags,
 * qemuDomainSetVcpusFlags and their older forms): which definitions a call changes, the balloon
 * and maximum-memory rules, vCPU hot-plug and unplug.
 */
import { VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { DeviceModifyFlags, DomainFlags } from '../../src/libvirt/flags.ts';
import { exclusiveFlags, memoryArg, nonZeroArg, requireFlag } from '../libvirt/api-args.ts';
import { checkFlags } from '../libvirt/check-flags.ts';
import type { DomainDef } from '../libvirt/domain-def.ts';
import { modificationImpact } from '../libvirt/device-modify.ts';
import {
  checkBalloonDevice,
  checkBalloonTarget,
  memoryOf,
  resizeText,
  setMaxMemoryConfig,
  setMaxVcpusConfig,
  setVcpuCount,
  vcpusOf,
  withMemory,
} from '../libvirt/domain-resize.ts';
import { isActive } from './domain-registry.ts';
import { agentUnavailable } from './domain-lifecycle.ts';
import { qemuErr, type HostContext, type Obj } from './host-context.ts';
import type { DomainHandle } from './libvirt-backend.ts';

const { AFFECT_LIVE: LIVE, AFFECT_CONFIG: CONFIG } = DeviceModifyFlags;

export class DomainResources {
  constructor(private readonly ctx: HostContext) {}

  /** virDomainObjGetDefs: the live and persistent definitions a call with these flags changes. */
  private defsFor(o: Obj, flags: number, fn: string): { live: DomainDef | null; config: DomainDef | null } {
    const impact = modificationImpact(flags & (LIVE | CONFIG), { active: isActive(o), persistent: o.persistent }, fn);
    return { live: impact.live ? this.ctx.currentDef(o) : null, config: impact.config ? this.ctx.persistentDef(o) : null };
  }

  getMaxMemory(ref: DomainHandle): bigint {
    return BigInt(memoryOf(this.ctx.currentDef(this.ctx.obj(ref))).totalKiB);
  }

  /**
   * virDomainSetMemoryFlags. MEM_MAXIMUM changes the persistent size only; otherwise the balloon
   * target is set. The fake guest runs no balloon driver, so a live change leaves its memory as it
   * was (as a TCG guest without an OS measured); the persistent current size is written.
   */
  setMemoryFlags(ref: DomainHandle, kib: number | bigint, flags: number, api = 'virDomainSetMemoryFlags'): void {
    const n = memoryArg(kib, api);
    checkFlags(flags, LIVE | CONFIG | DomainFlags.MEM_MAXIMUM, 'qemuDomainSetMemoryFlags', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    const { live, config } = this.defsFor(o, flags, 'qemuDomainSetMemoryFlags');
    if (flags & DomainFlags.MEM_MAXIMUM) {
      if (live) throw qemuErr(VirErrorNumber.OPERATION_INVALID, resizeText.maxMemoryLive);
      if (config) this.ctx.setPersistentDef(o, setMaxMemoryConfig(config, n));
      return;
    }
    checkBalloonTarget(n, live, config);
    if (live) checkBalloonDevice(live);
    if (config) this.ctx.setPersistentDef(o, withMemory(config, { totalKiB: config.memoryKiB, currentKiB: n }));
  }

  setMemory(ref: DomainHandle, kib: number | bigint): void {
    this.setMemoryFlags(ref, kib, LIVE, 'virDomainSetMemory');
  }

  setMaxMemory(ref: DomainHandle, kib: number | bigint): void {
    this.setMemoryFlags(ref, kib, DomainFlags.MEM_MAXIMUM, 'virDomainSetMaxMemory');
  }

  /** virDomainGetVcpusFlags; the guest-agent count needs an agent the fake guest never runs. */
  getVcpusFlags(ref: DomainHandle, flags = 0): number {
    exclusiveFlags(flags, LIVE, 'VIR_DOMAIN_AFFECT_LIVE', CONFIG, 'VIR_DOMAIN_AFFECT_CONFIG');
    checkFlags(flags, LIVE | CONFIG | DomainFlags.VCPU_MAXIMUM | DomainFlags.VCPU_GUEST, 'qemuDomainGetVcpusFlags', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    const { live, config } = this.defsFor(o, flags, 'qemuDomainGetVcpusFlags');
    const def = (live ?? config) as DomainDef;
    if (flags & DomainFlags.VCPU_GUEST) {
      if (!isActive(o)) throw qemuErr(VirErrorNumber.INVALID_ARG, 'vCPU count provided by the guest agent can only be requested for live domains');
      throw agentUnavailable(o);
    }
    const v = vcpusOf(def);
    return flags & DomainFlags.VCPU_MAXIMUM ? v.max : v.current;
  }

  getMaxVcpus(ref: DomainHandle): number {
    return this.getVcpusFlags(ref, LIVE | DomainFlags.VCPU_MAXIMUM);
  }

  /**
   * virDomainSetVcpusFlags. A live change hot-plugs vCPUs; only those plugged since start can be
   * unplugged (libvirt leaves the boot vCPUs without a hot-plug alias), and QEMU refuses the
   * unplug on a machine started without ACPI.
   */
  setVcpusFlags(ref: DomainHandle, nvcpus: number, flags: number, api = 'virDomainSetVcpusFlags'): void {
    requireFlag(flags, DomainFlags.VCPU_MAXIMUM, 'VIR_DOMAIN_VCPU_MAXIMUM', CONFIG, 'VIR_DOMAIN_AFFECT_CONFIG');
    exclusiveFlags(flags, DomainFlags.VCPU_GUEST, 'VIR_DOMAIN_VCPU_GUEST', CONFIG, 'VIR_DOMAIN_AFFECT_CONFIG');
    nonZeroArg(nvcpus, 'nvcpus', api);
    const known = LIVE | CONFIG | DomainFlags.VCPU_MAXIMUM | DomainFlags.VCPU_GUEST | DomainFlags.VCPU_HOTPLUGGABLE;
    checkFlags(flags, known, 'qemuDomainSetVcpusFlags', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    const { live, config } = this.defsFor(o, flags, 'qemuDomainSetVcpusFlags');
    if (flags & DomainFlags.VCPU_GUEST) throw agentUnavailable(o);
    if (flags & DomainFlags.VCPU_MAXIMUM) {
      if (live) throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, resizeText.maxVcpusLive);
      if (config) this.ctx.setPersistentDef(o, setMaxVcpusConfig(config, nvcpus));
      return;
    }
    const newLive = live && setVcpuCount(live, nvcpus, 'live');
    const newConfig = config && setVcpuCount(config, nvcpus, 'persistent');
    if (live && newLive && o.runtime) {
      const current = vcpusOf(live).current;
      const plugged = this.ctx.hotplugged.get(o.runtime) ?? 0;
      if (current - nvcpus > plugged) throw qemuErr(VirErrorNumber.CONFIG_UNSUPPORTED, resizeText.noHotplugVcpus);
      if (nvcpus < current && !live.features.has('acpi')) throw qemuErr(VirErrorNumber.INTERNAL_ERROR, resizeText.unplugNoAcpi);
      this.ctx.hotplugged.set(o.runtime, plugged + nvcpus - current);
      o.liveDef = newLive;
    }
    if (newConfig) this.ctx.setPersistentDef(o, newConfig);
  }

  setVcpus(ref: DomainHandle, nvcpus: number): void {
    this.setVcpusFlags(ref, nvcpus, LIVE, 'virDomainSetVcpus');
  }
}
