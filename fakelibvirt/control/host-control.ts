/**
 * `host.control`: the one test-control surface of a fake host, msw's vocabulary over faults as
 * data. `use()` prepends handlers (the newest answers first), `resetHandlers()` drops them all and
 * restores the host exactly as its profile made it, `listHandlers()` shows them with the uses left,
 * `boundary(fn)` scopes whatever `fn` adds. `inspect()` looks inside (ASIDs, pinned memory, guest
 * firmware states, events); `reset()` also drops every guest, definition and event.
 *
 * The control plane never touches the host's internals itself: FakeHost hands it a seam.
 */
import type { OverrideList } from '../firmware/overrides.ts';
import type { CommandLogEntry, FirmwareSnapshot, SevFirmware } from '../firmware/sev-firmware.ts';
import type { SnpReportRequest } from '../firmware/snp/guest-request.ts';
import type { AsidKind } from '../kvm/asid-pool.ts';
import type { MiscResource } from '../kvm/misc-cgroup.ts';
import type { GuestRuntime } from '../qemu/process.ts';
import type { InjectedSecret } from '../qemu/sev-secret.ts';
import type { DomcapsFaults } from '../host/domcaps-faults.ts';
import type { HostEvent } from '../host/host-events.ts';
import type { HostSnapshot } from '../host/host-snapshot.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import type { KernelParamOverrides } from '../profile/derive.ts';
import { armRule, describeFault, FaultError, foldState, isRuleFault, parseFault, type Fault, type StateFault } from './fault.ts';
import type { ArmedRule } from './fault-kinds.ts';
import type { HostRuntimeState } from './host-state.ts';

/** What FakeHost lends its control plane. */
export interface ControlSeam {
  readonly base: HardwareProfile;
  readonly kernelOverrides: KernelParamOverrides;
  readonly firmwareRules: OverrideList;
  readonly domcapsRules: DomcapsFaults;
  readonly hasFirmware: boolean;
  runtime(): HostRuntimeState;
  /** Puts the host in this state; throws FaultError when kvm_amd would reload under running SEV guests. */
  setRuntime(next: HostRuntimeState): void;
  /** Every guest, definition, save image, firmware context and event dropped: the host as built. */
  resetToProfile(): void;
  inspect(): HostSnapshot;
  /** The AMD-SP firmware as it is now (null: the host has none); rebuilt by reset. */
  firmware(): SevFirmware | null;
  events(): readonly HostEvent[];
  record(message: string): void;
  guest(name: string): GuestRuntime | null;
  asidRange(kind: AsidKind): { min: number; max: number } | null;
  miscCgroupUsage(resource: MiscResource, path: string): number;
  launchSecrets(name: string): readonly InjectedSecret[];
  snpGuestReport(name: string, reportData: Uint8Array, req: SnpReportRequest): Buffer;
}

/** The firmware seen from a test: a host without SEV firmware answers empty, never null. */
export interface FirmwareProbe {
  /** Whether the host has an AMD-SP with SEV firmware at all. */
  readonly present: boolean;
  /** Every command the firmware ran (or refused), oldest first. */
  commandLog(): readonly CommandLogEntry[];
  /** The plaintexts LAUNCH_SECRET decrypted for a guest handle. */
  injectedSecrets(handle: number): readonly Buffer[];
  snapshot(): FirmwareSnapshot | null;
}

/** One applied fault as `listHandlers()` shows it. */
export interface HandlerInfo {
  readonly id: number;
  readonly fault: Fault;
  /** `fault` in one line, as `sevharness ctl list` prints it. */
  readonly description: string;
  /** Uses left for rules ('always' never runs out); null for host states, which last until reset. */
  readonly remaining: number | 'always' | null;
  /** A rule whose uses are spent (it stays listed until reset, as msw's used `once` handlers do). */
  readonly used: boolean;
}

export interface ControlSnapshot extends HostSnapshot {
  readonly firmware: FirmwareSnapshot | null;
  readonly events: readonly HostEvent[];
  readonly handlers: readonly HandlerInfo[];
  readonly devSev: HardwareProfile['devSev'];
  readonly cmdline: string;
  readonly defaultMemlockKiB: number;
}

interface Handler {
  readonly id: number;
  readonly fault: Fault;
  /** The armed rule for rule faults (its list counts its uses). */
  rule: ArmedRule | null;
}

/** The host-state faults of a newest-first handler list, in the order they apply (the newest wins). */
function stateFaultsOldestFirst(handlers: readonly Handler[]): StateFault[] {
  return [...handlers].reverse().flatMap((h) => (isRuleFault(h.fault) ? [] : [h.fault]));
}

export class HostControl {
  /** Newest first, as they are consulted. */
  private handlers: Handler[] = [];
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

  /** The host's firmware as tests look at it: `host.control.firmware.commandLog()`. */
  readonly firmware: FirmwareProbe;

  constructor(private readonly seam: ControlSeam) {
    this.firmware = {
      get present() {
        return seam.firmware() !== null;
      },
      commandLog: () => seam.firmware()?.commandLog() ?? [],
      injectedSecrets: (handle) => seam.firmware()?.injectedSecrets(handle) ?? [],
      snapshot: () => seam.firmware()?.inspect() ?? null,
    };
  }

  /**
   * Applies faults (validated first; plain JSON is welcome). Host states take effect at once; rules
   * wait for matching calls. Nothing is applied when any fault is invalid or cannot apply now.
   */
  use(...faults: readonly unknown[]): void {
    const parsed = faults.map(parseFault);
    for (const f of parsed) {
      if (f.kind === 'firmware' && !this.seam.hasFirmware) throw new FaultError(`this host has no SEV firmware to fail ${f.command}`, true);
    }
    // Like `server.use(a, b)`: a is consulted before b, and both before older handlers.
    const added: Handler[] = parsed.map((fault) => ({ id: this.nextId++, fault, rule: null }));
    const next = [...added, ...this.handlers];
    if (parsed.some((f) => !isRuleFault(f))) this.seam.setRuntime(this.fold(stateFaultsOldestFirst(next)));
    for (const h of [...added].reverse()) this.arm(h, undefined);
    this.handlers = next;
    for (const f of parsed) this.seam.record(`control: use ${describeFault(f)}`);
    this.changed();
  }

  /** Drops every handler and puts the host back exactly as its profile made it (guests stay). */
  resetHandlers(): void {
    this.restore([]);
    this.seam.record('control: handlers reset');
    this.changed();
  }

  listHandlers(): HandlerInfo[] {
    return this.handlers.map((h) => {
      if (!h.rule) return { id: h.id, fault: h.fault, description: describeFault(h.fault), remaining: null, used: false };
      const left = this.remainingOf(h);
      return { id: h.id, fault: h.fault, description: describeFault(h.fault), remaining: left === Infinity ? 'always' : left, used: left === 0 };
    });
  }

  /**
   * `fn` wrapped so that handlers it adds or resets last only while it runs (until its promise
   * settles): afterwards the handlers and the host state are what they were before.
   */
  boundary<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const saved = this.handlers.map((h) => ({ h, left: h.rule ? this.remainingOf(h) : null }));
      const restore = () => {
        this.restore(saved.map((s) => s.h), new Map(saved.map((s) => [s.h, s.left])));
        this.changed();
      };
      let out: R;
      try {
        out = fn(...args);
      } catch (e) {
        restore();
        throw e;
      }
      if (out instanceof Promise) return out.finally(restore) as R;
      restore();
      return out;
    };
  }

  inspect(): ControlSnapshot {
    const { profile } = this.seam.runtime();
    return {
      ...this.seam.inspect(),
      firmware: this.firmware.snapshot(),
      events: this.seam.events(),
      handlers: this.listHandlers(),
      devSev: profile.devSev,
      cmdline: profile.kernel.cmdline,
      defaultMemlockKiB: profile.memory.defaultMemlockKiB,
    };
  }

  /** The host's record of what happened below libvirt (kernel, QEMU, firmware, harness), oldest first. */
  events(): readonly HostEvent[] {
    return this.seam.events();
  }

  /** The runtime record of a guest QEMU runs (ASID, firmware handle, pinned memory, faults); null when it does not run. */
  guest(name: string): GuestRuntime | null {
    return this.seam.guest(name);
  }

  /** The ASID range KVM draws guests of this kind from (min > max: empty); null on a host without SEV in the CPU. */
  asidRange(kind: AsidKind): { min: number; max: number } | null {
    return this.seam.asidRange(kind);
  }

  /** ASIDs charged to a misc cgroup (`misc.current`), the root by default. */
  miscCgroupUsage(resource: MiscResource, path = '/'): number {
    return this.seam.miscCgroupUsage(resource, path);
  }

  /** Rule uses armed and not yet spent (firmware statuses and domain-capabilities failures). */
  pendingRules(): number {
    return (this.seam.firmware()?.inspect().pendingOverrides ?? 0) + this.seam.domcapsRules.pending;
  }

  /** What LAUNCH_SECRET wrote into a guest's memory (address, plaintext, OVMF secret entries). */
  launchSecrets(name: string): readonly InjectedSecret[] {
    return this.seam.launchSecrets(name);
  }

  /**
   * SNP_GUEST_REQUEST MSG_REPORT_REQ from inside a running SNP guest: its ATTESTATION_REPORT with
   * `reportData` (64 bytes), signed with the chip's VCEK. Other guests, stopped or paused ones are
   * refused with an SnpGuestRequestError.
   */
  snpGuestReport(name: string, reportData: Uint8Array, req: SnpReportRequest = {}): Buffer {
    return this.seam.snpGuestReport(name, reportData, req);
  }

  /** The whole host back to its profile: handlers dropped, guests and definitions gone, events cleared. */
  reset(): void {
    this.seam.firmwareRules.reset();
    this.seam.domcapsRules.reset();
    this.handlers = [];
    this.seam.resetToProfile();
    this.changed();
  }

  /** Called after every change of handlers or host state (e.g. to rewrite a sysroot). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- machinery ----

  private fold(faults: readonly StateFault[]): HostRuntimeState {
    return foldState(this.seam.base, this.seam.kernelOverrides, faults);
  }

  /** Registers a rule handler with its list; `times` overrides the fault's own count (when restoring). */
  private arm(h: Handler, times: number | undefined): void {
    if (isRuleFault(h.fault)) h.rule = armRule(h.fault, { firmware: this.seam.firmwareRules, domcaps: this.seam.domcapsRules }, times);
  }

  private remainingOf(h: Handler): number {
    return h.rule ? h.rule.remaining() : 0;
  }

  /** Back to exactly these handlers (rules with these uses left), host state folded again. */
  private restore(keep: readonly Handler[], left: ReadonlyMap<Handler, number | null> = new Map()): void {
    const next = this.fold(stateFaultsOldestFirst(keep));
    this.seam.setRuntime(next);
    this.seam.firmwareRules.reset();
    this.seam.domcapsRules.reset();
    const kept: Handler[] = [];
    for (const h of [...keep].reverse()) {
      if (isRuleFault(h.fault)) {
        const n = left.get(h) ?? null;
        // A rule spent before the boundary stays listed as used; it answers nothing.
        if (n === 0) {
          kept.unshift(h);
          continue;
        }
        this.arm(h, n ?? undefined);
      }
      kept.unshift(h);
    }
    this.handlers = kept;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
