/**
 * Defining and running domains (virDomainDefineXML, Undefine, Create, CreateXML, Destroy,
 * Shutdown, Reboot, Reset, Suspend, Resume): the QEMU driver's state machine over the domain list,
 * with its flag checks, refusals and lifecycle events. Starting and stopping QEMU itself is
 * qemu/process.ts; save/restore and migration start and stop guests through `start` and `stop`.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { checkFlags } from '../libvirt/check-flags.ts';
import type { DomainDef } from '../libvirt/domain-def.ts';
import { domainContext } from '../libvirt/domain/context.ts';
import { checkDefineName, checkNameStorable } from '../libvirt/domain/general.ts';
import { withMemory } from '../libvirt/domain-resize.ts';
import { validateAtStart } from '../libvirt/qemu-validate.ts';
import { DomainState, EventDetail, LifecycleEvent, PausedReason, RunningReason, ShutoffReason } from '../libvirt/states.ts';
import type { GuestRuntime } from '../qemu/process.ts';
import { isActive, refOf, type DomainRef } from './domain-registry.ts';
import { notRunning, opInvalid, qemuErr, type HostContext, type Obj } from './host-context.ts';
import type { DomainHandle } from './libvirt-backend.ts';

/** VIR_ERR_AGENT_UNRESPONSIVE (virerror.h); the shared table does not carry it. */
const VIR_ERR_AGENT_UNRESPONSIVE = 86;

/** How a guest came to run: the reason and event detail libvirt reports for it. */
export type StartKind = 'booted' | 'restored' | 'migrated';

/** qemuDomainAgentAvailable's refusal for a guest whose agent never connects. */
export function agentUnavailable(o: Obj): LibvirtError {
  if (o.state !== DomainState.RUNNING) return opInvalid(VirErrorDomain.QEMU, 'domain is not running');
  const channel = (o.liveDef ?? o.def).tree.children
    .find((c) => c.name === 'devices')
    ?.children.some((d) => d.name === 'channel' && d.children.some((t) => t.name === 'target' && t.attrs.name === 'org.qemu.guest_agent.0'));
  if (channel) {
    return new LibvirtError({ code: VIR_ERR_AGENT_UNRESPONSIVE as VirErrorNumber, domain: VirErrorDomain.QEMU, message: 'Guest agent is not responding: QEMU guest agent is not connected' });
  }
  return qemuErr(VirErrorNumber.ARGUMENT_UNSUPPORTED, 'QEMU guest agent is not configured');
}

/**
 * Shutdown and reboot with the GUEST_AGENT flag try the agent first; the fake guest never runs
 * one, so the call fails when the agent alone was asked for and falls back to ACPI otherwise.
 */
function guestAgentFirst(o: Obj, flags: number): void {
  if (flags & DomainFlags.POWER_GUEST_AGENT && !(flags & DomainFlags.POWER_ACPI)) throw agentUnavailable(o);
}

export class DomainLifecycle {
  constructor(private readonly ctx: HostContext) {}

  defineXML(xml: string): DomainRef {
    return this.defineParsed(this.ctx.parse(xml));
  }

  /** defineXML after its pure parse (which the daemon may run on a worker thread with the profile and sectypes()). */
  defineParsed(def: DomainDef): DomainRef {
    const { ctx } = this;
    checkDefineName(def.name);
    const existing = ctx.domains.checkAdd(def, { refuseActive: false });
    // A brand-new definition is written to the configuration directory under its name.
    if (!existing) checkNameStorable(def.name);
    if (existing) {
      const wasPersistent = existing.persistent;
      existing.persistent = true;
      if (isActive(existing)) existing.pendingDef = def;
      else existing.def = def;
      ctx.emit(existing, LifecycleEvent.DEFINED, wasPersistent ? EventDetail.DEFINED_UPDATED : EventDetail.DEFINED_ADDED);
      return refOf(existing);
    }
    const o = ctx.domains.add(def, true);
    ctx.emit(o, LifecycleEvent.DEFINED, EventDetail.DEFINED_ADDED);
    return refOf(o);
  }

  undefine(ref: DomainHandle, flags = 0): void {
    // MANAGED_SAVE | SNAPSHOTS_METADATA | NVRAM | KEEP_NVRAM | CHECKPOINTS_METADATA | TPM | KEEP_TPM (9.0)
    checkFlags(flags, 0x7f, 'qemuDomainUndefineFlags', VirErrorDomain.QEMU);
    if (flags & DomainFlags.UNDEFINE_NVRAM && flags & DomainFlags.UNDEFINE_KEEP_NVRAM) {
      throw opInvalid(VirErrorDomain.QEMU, 'cannot both keep and delete nvram');
    }
    const o = this.ctx.obj(ref);
    if (!o.persistent) throw opInvalid(VirErrorDomain.QEMU, 'cannot undefine transient domain');
    if (o.hasManagedSave && !(flags & DomainFlags.UNDEFINE_MANAGED_SAVE)) {
      throw opInvalid(VirErrorDomain.QEMU, 'Refusing to undefine while domain managed save image exists');
    }
    // libvirt keeps a per-domain NVRAM file for pflash firmware and will not silently drop it.
    if (o.def.os.nvram !== undefined && !(flags & (DomainFlags.UNDEFINE_NVRAM | DomainFlags.UNDEFINE_KEEP_NVRAM))) {
      throw opInvalid(VirErrorDomain.QEMU, 'cannot undefine domain with nvram');
    }
    o.hasManagedSave = false;
    this.ctx.emit(o, LifecycleEvent.UNDEFINED, EventDetail.UNDEFINED_REMOVED);
    if (isActive(o)) {
      o.persistent = false;
      o.pendingDef = null;
    } else {
      this.ctx.domains.remove(o);
    }
  }

  /** virDomainCreateWithFlags; `createXML` starts a transient domain the same way. */
  create(ref: DomainHandle, flags = 0): DomainRef {
    // PAUSED | AUTODESTROY | BYPASS_CACHE | FORCE_BOOT | RESET_NVRAM (VALIDATE is createXML's only)
    checkFlags(flags, 0x2f, 'qemuDomainCreateWithFlags', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    if (isActive(o)) throw opInvalid(VirErrorDomain.QEMU, 'domain is already running');
    const restoring = o.hasManagedSave;
    this.start(o, flags, restoring ? 'restored' : 'booted');
    if (restoring) o.hasManagedSave = false;
    return refOf(o);
  }

  createXML(xml: string, flags = 0): DomainRef {
    return this.createParsed(this.ctx.parse(xml), flags);
  }

  /** createXML after its pure parse. */
  createParsed(def: DomainDef, flags = 0): DomainRef {
    const { domains } = this.ctx;
    domains.checkAdd(def, { refuseActive: true });
    const o = domains.add(def, false);
    try {
      this.start(o, flags, 'booted');
    } catch (e) {
      domains.remove(o);
      throw e;
    }
    return refOf(o);
  }

  /** QEMU started for a domain object: its ID, live definition, state and events. */
  start(o: Obj, flags: number, how: StartKind): void {
    const { ctx } = this;
    const paused = (flags & DomainFlags.START_PAUSED) !== 0;
    // libvirt validates again at start, against the capabilities of this moment.
    validateAtStart(o.def, domainContext(ctx.profile, ctx.sectypes()));
    const started = ctx.qemu.start(o.def, { paused, sevView: ctx.sevCache, shape: o.bootShape });
    o.bootShape = started.shape;
    o.id = ctx.domains.allocateId();
    // The guest runs no balloon driver, so QEMU reports its whole memory as the balloon's actual
    // size and libvirt shows that as the live current memory (measured on a TCG guest).
    o.liveDef = withMemory(started.liveDef, { totalKiB: started.liveDef.memoryKiB, currentKiB: started.liveDef.memoryKiB });
    o.runtime = started.runtime;
    if (paused) ctx.setState(o, DomainState.PAUSED, PausedReason.USER);
    else ctx.setState(o, DomainState.RUNNING, how === 'restored' ? RunningReason.RESTORED : how === 'migrated' ? RunningReason.MIGRATED : RunningReason.BOOTED);
    const detail = how === 'restored' ? EventDetail.STARTED_RESTORED : how === 'migrated' ? EventDetail.STARTED_MIGRATED : EventDetail.STARTED_BOOTED;
    ctx.emit(o, LifecycleEvent.STARTED, detail);
    if (paused) ctx.emit(o, LifecycleEvent.SUSPENDED, EventDetail.SUSPENDED_PAUSED);
    // Memory limits act once QEMU runs: a memcg under the guest's need, or a host out of memory.
    for (const victim of ctx.qemu.enforceMemoryLimits(started.runtime)) this.crash(victim);
  }

  /** QEMU died underneath libvirt: monitor EOF without a guest shutdown. */
  private crash(runtime: GuestRuntime): void {
    const o = this.ctx.domains.all().find((d) => d.runtime === runtime);
    if (!o) return;
    this.stop(o, ShutoffReason.CRASHED, EventDetail.STOPPED_FAILED);
  }

  /** QEMU gone: the domain shut off with this reason; a pending redefinition applies; a transient one goes. */
  stop(o: Obj, reason: number, detail: number): void {
    const { ctx } = this;
    if (o.runtime) ctx.qemu.stop(o.runtime);
    o.runtime = null;
    o.id = -1;
    o.liveDef = null;
    ctx.setState(o, DomainState.SHUTOFF, reason);
    ctx.emit(o, LifecycleEvent.STOPPED, detail);
    if (o.pendingDef) {
      o.def = o.pendingDef;
      o.pendingDef = null;
    }
    if (!o.persistent) ctx.domains.remove(o);
  }

  destroy(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, 0x3, 'qemuDomainDestroyFlags', VirErrorDomain.QEMU); // GRACEFUL | REMOVE_LOGS
    const o = this.ctx.obj(ref);
    if (!isActive(o)) throw notRunning();
    this.stop(o, ShutoffReason.DESTROYED, EventDetail.STOPPED_DESTROYED);
  }

  /**
   * ACPI shutdown; the fake guest honours it at once. A guest that never booted ignores it.
   * The ACPI path wants a running (not paused) guest and says so in the QEMU driver's words.
   */
  shutdown(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, DomainFlags.POWER_ACPI | DomainFlags.POWER_GUEST_AGENT, 'qemuDomainShutdownFlags', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    guestAgentFirst(o, flags);
    if (o.state !== DomainState.RUNNING) throw opInvalid(VirErrorDomain.QEMU, 'domain is not running');
    if (o.runtime && o.runtime.faults.length > 0) return;
    this.ctx.emit(o, LifecycleEvent.SHUTDOWN, EventDetail.SHUTDOWN_FINISHED);
    this.stop(o, ShutoffReason.SHUTDOWN, EventDetail.STOPPED_SHUTDOWN);
  }

  reboot(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, DomainFlags.POWER_ACPI | DomainFlags.POWER_GUEST_AGENT, 'qemuDomainReboot', VirErrorDomain.QEMU);
    const o = this.ctx.obj(ref);
    guestAgentFirst(o, flags);
    if (!isActive(o)) throw notRunning();
  }

  /** virDomainReset: QEMU's system_reset; the guest goes on in its state. */
  reset(ref: DomainHandle, flags = 0): void {
    checkFlags(flags, 0, 'qemuDomainReset', VirErrorDomain.QEMU);
    if (!isActive(this.ctx.obj(ref))) throw notRunning();
  }

  suspend(ref: DomainHandle): void {
    const o = this.ctx.obj(ref);
    if (!isActive(o)) throw notRunning();
    if (o.state === DomainState.PAUSED) return;
    this.ctx.setState(o, DomainState.PAUSED, PausedReason.USER);
    this.ctx.emit(o, LifecycleEvent.SUSPENDED, EventDetail.SUSPENDED_PAUSED);
  }

  resume(ref: DomainHandle): void {
    const o = this.ctx.obj(ref);
    if (!isActive(o)) throw notRunning();
    if (o.state === DomainState.RUNNING) throw opInvalid(VirErrorDomain.QEMU, 'domain is already running');
    if (o.state !== DomainState.PAUSED) return;
    // The first run of an SEV guest ends its launch: LAUNCH_FINISH.
    if (o.runtime) this.ctx.qemu.resume(o.runtime);
    this.ctx.setState(o, DomainState.RUNNING, RunningReason.UNPAUSED);
    this.ctx.emit(o, LifecycleEvent.RESUMED, EventDetail.RESUMED_UNPAUSED);
  }

  /** Every guest taken the way libvirt would (destroy, undefine), so event clients and a state directory hear of it. */
  dropAll(): void {
    for (const o of this.ctx.domains.all()) {
      const ref = refOf(o);
      try {
        if (isActive(o)) this.destroy(ref);
        if (o.persistent) this.undefine(ref, DomainFlags.UNDEFINE_MANAGED_SAVE | DomainFlags.UNDEFINE_NVRAM);
      } catch {
        // whatever remains goes with the registry when the host is rebuilt
      }
    }
  }
}
