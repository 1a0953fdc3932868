/**
 * The AMD Secure Processor's SEV firmware for one host: the platform state machine, one context
 * per guest handle with the guest state machine, ASID activation and DF_FLUSH bookkeeping, the
 * launch measurement and secret injection. Pure and synchronous; every refusal is a
 * `SevFirmwareError` carrying the status code the real firmware returns.
 *
 * Facts from sev-hardware.md §3.1, §3.3–3.6, §4.3–4.4. Rules marked [inference] are the spec's
 * intent as the kernel relies on it, not observed firmware behaviour.
 */
import {
  COMMAND_IDS,
  GUEST_ALLOWED,
  GUEST_COMMAND_PLATFORM_STATES,
  GUEST_TRANSITIONS,
  PLATFORM_ALLOWED,
  PLATFORM_STATES,
  type FirmwareCommand,
  type PlatformState,
} from './commands.ts';
import {
  transportKeySlot, decryptSecret, newGuestContext, seededTransportKeys, snapshotGuest,
  type GuestContext, type TransportKeys,
} from './guest-context.ts';
import { DeferredMeasurement, verifySecretMac, type SecretHeader } from './measurement.ts';
import { OverrideList, type FirmwareOverride } from './overrides.ts';
import {
  PLATFORM_FLAG_CONFIG_ES,
  type CommandLogEntry, type FirmwareSnapshot, type GuestStatus, type LaunchMeasureResult,
  type LaunchStartOptions, type PlatformStatus,
} from './command-buffers.ts';
import { GuestPolicy, SEV_POLICY_RESERVED_MASK } from './policy.ts';
import type { EcKeyPair } from './ecc-p384.ts';
import { openSession } from './session.ts';
import { pooledRandomBytes } from './random-pool.ts';
import { SevFirmwareError, SevStatus, statusName } from './status.ts';

export type {
  CommandLogEntry, FirmwareSnapshot, GuestStatus, LaunchMeasureResult, LaunchStartOptions, PlatformStatus,
} from './command-buffers.ts';

/** LAUNCH_SECRET's answer when the packet MAC does not verify under the guest's TIK [spec]. */
export const SECRET_MAC_FAILURE_STATUS = SevStatus.BAD_MEASUREMENT;

export interface SevFirmwareOptions {
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly build: number;
  /** INIT enables SEV-ES (the kernel passes the ES option and a TMR when the CPU supports ES). */
  readonly esInitialised: boolean;
  /** SNP_INIT has run (SNP enabled in the BIOS and by the kernel). */
  readonly snpInitialised: boolean;
  /** Derive each guest's TEK/TIK from this seed and the handle instead of at random. */
  readonly tikSeed?: Buffer;
  /**
   * State at power-on. Default INIT: the ccp driver initialises the platform at probe time (or KVM
   * at load), so a host with KVM loaded normally reads INIT before any guest exists.
   */
  readonly initialState?: 'UNINIT' | 'INIT';
  /** Source of mnonces and random keys; tests pass a deterministic one. */
  readonly random?: (bytes: number) => Buffer;
  /** Injected statuses to consult; the host's control plane passes its own list (fakelibvirt/control/). */
  readonly overrides?: OverrideList;
  /** The PDH's private key (asked for on first use): LAUNCH_START with a guest owner's session does ECDH with it. */
  readonly pdhKey?: () => EcKeyPair;
}

export type PlatformCommand = 'PEK_GEN' | 'PEK_CSR' | 'PEK_CERT_IMPORT' | 'PDH_GEN' | 'PDH_CERT_EXPORT' | 'GET_ID' | 'PLATFORM_RESET' | 'DOWNLOAD_FIRMWARE';

const fail = (command: FirmwareCommand, status: number, detail?: string): never => {
  throw new SevFirmwareError(command, status, detail);
};

/** Commands the firmware's log keeps (each guest start issues about six). */
export const COMMAND_LOG_MAX = 10_000;

export class SevFirmware {
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly build: number;
  readonly esInitialised: boolean;
  readonly snpInitialised: boolean;
  private initialised: boolean;
  private readonly guests = new Map<number, GuestContext>();
  /** Active contexts by ASID (guests sharing a key share one): ACTIVATE and DEACTIVATE look here. */
  private readonly onAsid = new Map<number, Set<GuestContext>>();
  private readonly awaitingFlush = new Set<number>();
  private readonly overrides: OverrideList;
  private readonly log: CommandLogEntry[] = [];
  private readonly random: (bytes: number) => Buffer;
  /**
   * The CSPRNG is the source: keys and nonces may be drawn when first used (nobody can tell). A
   * caller's own source may be deterministic, so its values are drawn in command order.
   */
  private readonly randomOnUse: boolean;
  private readonly tikSeed: Buffer | undefined;
  private readonly pdhKey: (() => EcKeyPair) | undefined;
  private nextHandle = 1;
  private seq = 0;
  private flushes = 0;
  /** Bumped by PEK_GEN / PDH_GEN so callers can tell that certificates changed. */
  pekGeneration = 0;
  pdhGeneration = 0;

  constructor(opts: SevFirmwareOptions) {
    this.apiMajor = opts.apiMajor;
    this.apiMinor = opts.apiMinor;
    this.build = opts.build;
    this.esInitialised = opts.esInitialised;
    this.snpInitialised = opts.snpInitialised;
    this.tikSeed = opts.tikSeed && Buffer.from(opts.tikSeed);
    this.pdhKey = opts.pdhKey;
    this.random = opts.random ?? pooledRandomBytes;
    this.randomOnUse = opts.random === undefined;
    this.overrides = opts.overrides ?? new OverrideList();
    this.initialised = (opts.initialState ?? 'INIT') === 'INIT';
  }

  get state(): PlatformState {
    if (!this.initialised) return 'UNINIT';
    return this.guests.size > 0 ? 'WORKING' : 'INIT';
  }

  get guestCount(): number {
    return this.guests.size;
  }

  get dfFlushCount(): number {
    return this.flushes;
  }

  // ---- fault injection ----

  /** @deprecated inject through the host's control plane: `host.control.use(fault.firmware(…))`. */
  use(...overrides: FirmwareOverride[]): void {
    this.overrides.use(...overrides);
  }

  resetOverrides(): void {
    this.overrides.reset();
  }

  // ---- platform commands ----

  init(): void {
    this.run('INIT', null, () => {
      this.requirePlatform('INIT');
      this.initialised = true;
    });
  }

  /** Allowed in INIT and WORKING; every guest context (and its key) is lost. Returns their handles. */
  shutdown(): number[] {
    return this.run('SHUTDOWN', null, () => {
      this.requirePlatform('SHUTDOWN');
      const dropped = [...this.guests.keys()];
      this.guests.clear();
      this.onAsid.clear();
      this.awaitingFlush.clear();
      this.initialised = false;
      return dropped;
    });
  }

  platformStatus(): PlatformStatus {
    return this.run('PLATFORM_STATUS', null, () => {
      const state = this.state;
      const flags = this.esInitialised && state !== 'UNINIT' ? PLATFORM_FLAG_CONFIG_ES : 0;
      return {
        apiMajor: this.apiMajor, apiMinor: this.apiMinor, build: this.build,
        state, stateCode: PLATFORM_STATES.indexOf(state), flags, guestCount: this.guests.size,
      };
    });
  }

  /** Certificate and identity commands: only the platform state table applies to them here. */
  platformCommand(command: PlatformCommand): void {
    this.run(command, null, () => {
      this.requirePlatform(command);
      if (command === 'PEK_GEN') { this.pekGeneration++; this.pdhGeneration++; }
      if (command === 'PDH_GEN') this.pdhGeneration++;
      if (command === 'PLATFORM_RESET') { this.pekGeneration = 0; this.pdhGeneration = 0; }
    });
  }

  /** DF_FLUSH: makes every deactivated ASID activatable again. Returns the ASIDs it released. */
  dfFlush(): number[] {
    return this.run('DF_FLUSH', null, () => {
      this.requirePlatform('DF_FLUSH');
      const released = [...this.awaitingFlush].sort((a, b) => a - b);
      this.awaitingFlush.clear();
      this.flushes++;
      return released;
    });
  }

  // ---- guest commands ----

  /**
   * LAUNCH_START. As the kernel does on first use (KVM_SEV_INIT), an UNINIT platform is INIT'ed
   * first; that INIT is logged, and can be made to fail, as a command of its own.
   */
  launchStart(policy: GuestPolicy | number, opts: LaunchStartOptions = {}): number {
    if (!this.initialised) this.init();
    return this.run('LAUNCH_START', null, () => {
      this.requireGuestPlatform('LAUNCH_START');
      // A raw word with reserved bits set never becomes a context [inference: INVALID_PARAM].
      if (typeof policy === 'number' && (policy & SEV_POLICY_RESERVED_MASK) !== 0) fail('LAUNCH_START', SevStatus.INVALID_PARAM, 'reserved policy bits set');
      const p = typeof policy === 'number' ? GuestPolicy.parse(policy) : policy;
      let owner: GuestContext | null = null;
      if (opts.shareWith) {
        owner = this.guests.get(opts.shareWith) ?? fail('LAUNCH_START', SevStatus.INVALID_GUEST, `no guest ${opts.shareWith} to share a key with`);
        if (owner.policy.noks || p.noks) fail('LAUNCH_START', SevStatus.POLICY_FAILURE, 'key sharing forbidden by NOKS');
      }
      if (p.es && !this.esInitialised) fail('LAUNCH_START', SevStatus.POLICY_FAILURE, 'policy requires SEV-ES but the platform was not initialised for SEV-ES');
      if (!p.allowsFirmware(this.apiMajor, this.apiMinor)) {
        fail('LAUNCH_START', SevStatus.POLICY_FAILURE, `policy requires firmware API ${p.apiMajor}.${p.apiMinor}, have ${this.apiMajor}.${this.apiMinor}`);
      }
      const fromOwner = opts.ownerSession && !owner ? this.unwrapSession(opts.ownerSession, p.value) : null;
      const handle = this.nextHandle++;
      const given = fromOwner ?? opts.session;
      const keys = owner ? owner.keys : transportKeySlot(given ?? this.newKeys(handle));
      const state = GUEST_TRANSITIONS.LAUNCH_START ?? 'LUPDATE';
      this.guests.set(handle, newGuestContext(handle, p, state, owner ? owner.keyOwner : handle, keys));
      return handle;
    });
  }

  /**
   * ACTIVATE: bind the guest's key to an ASID. ES guests need an ASID from the ES range and plain
   * SEV guests one from the SEV range (INVALID_ASID); an ASID in use by a guest with another key
   * is ASID_OWNED; a deactivated ASID needs DF_FLUSH first [inference: DFFLUSH_REQUIRED], which is
   * why the kernel only recycles ASIDs after a flush.
   */
  activate(handle: number, asid: number, asidIsEsRange: boolean): void {
    this.guestCommand('ACTIVATE', handle, (g) => {
      if (!Number.isInteger(asid) || asid < 1) fail('ACTIVATE', SevStatus.INVALID_ASID, `ASID ${asid}`);
      if (g.policy.es !== asidIsEsRange) {
        fail('ACTIVATE', SevStatus.INVALID_ASID, `${g.policy.es ? 'SEV-ES' : 'SEV'} guest given an ${asidIsEsRange ? 'SEV-ES' : 'SEV'}-range ASID ${asid}`);
      }
      if (g.asid === asid) return;
      if (g.asid !== null) fail('ACTIVATE', SevStatus.ACTIVE, `already active on ASID ${g.asid}`);
      const holder = this.holderOf(asid);
      if (holder && holder.keyOwner !== g.keyOwner) fail('ACTIVATE', SevStatus.ASID_OWNED, `ASID ${asid} belongs to guest ${holder.handle}`);
      if (!holder && this.awaitingFlush.has(asid)) fail('ACTIVATE', SevStatus.DFFLUSH_REQUIRED, `ASID ${asid}`);
      g.asid = asid;
      const bound = this.onAsid.get(asid);
      if (bound) bound.add(g);
      else this.onAsid.set(asid, new Set([g]));
    });
  }

  /** DEACTIVATE: unbinds the ASID, which then awaits DF_FLUSH. A no-op on an inactive guest. */
  deactivate(handle: number): void {
    this.guestCommand('DEACTIVATE', handle, (g) => {
      if (g.asid === null) return;
      const asid = g.asid;
      g.asid = null;
      const bound = this.onAsid.get(asid);
      bound?.delete(g);
      if (bound?.size === 0) this.onAsid.delete(asid);
      if (!this.holderOf(asid)) this.awaitingFlush.add(asid);
    });
  }

  /** DECOMMISSION: deletes the context; an active guest must be deactivated first (ACTIVE). */
  decommission(handle: number): void {
    this.guestCommand('DECOMMISSION', handle, (g) => {
      if (g.asid !== null) fail('DECOMMISSION', SevStatus.ACTIVE, `guest ${handle} still active on ASID ${g.asid}`);
      this.guests.delete(handle);
    });
  }

  guestStatus(handle: number): GuestStatus {
    return this.guestCommand('GUEST_STATUS', handle, (g) => ({ handle, policy: g.policy.value, asid: g.asid ?? 0, state: g.state }));
  }

  launchUpdateData(handle: number, data: Buffer): void {
    this.guestCommand('LAUNCH_UPDATE_DATA', handle, (g) => {
      this.requireActive('LAUNCH_UPDATE_DATA', g);
      g.digest.update(data);
      g.dataBytes += data.length;
    });
  }

  /** LAUNCH_UPDATE_VMSA exists only for SEV-ES guests [inference: POLICY_FAILURE otherwise]. */
  launchUpdateVmsa(handle: number, vmsa: Buffer): void {
    this.guestCommand('LAUNCH_UPDATE_VMSA', handle, (g) => {
      if (!g.policy.es) fail('LAUNCH_UPDATE_VMSA', SevStatus.POLICY_FAILURE, 'guest policy is not SEV-ES');
      this.requireActive('LAUNCH_UPDATE_VMSA', g);
      g.digest.update(vmsa);
      g.vmsaCount++;
    });
  }

  launchMeasure(handle: number): LaunchMeasureResult {
    return this.guestCommand('LAUNCH_MEASURE', handle, (g) => {
      const mnonce = this.randomOnUse ? () => this.random(16) : this.random(16);
      const { keys, digest } = g;
      digest.seal();
      g.measured = new DeferredMeasurement({
        apiMajor: this.apiMajor, apiMinor: this.apiMinor, build: this.build,
        policy: g.policy.value, digest: () => digest.digest(), tik: () => keys.get().tik,
      }, mnonce);
      return g.measured;
    });
  }

  /**
   * LAUNCH_SECRET: checks the packet MAC under the guest's TIK and this launch's MEASURE, then
   * decrypts the secret with the TEK (AES-128-CTR) into guest memory (kept for inspection).
   */
  launchSecret(handle: number, header: SecretHeader, ciphertext: Buffer, guestLen?: number): void {
    this.guestCommand('LAUNCH_SECRET', handle, (g) => {
      this.requireActive('LAUNCH_SECRET', g);
      const measure = g.measured?.measure ?? fail('LAUNCH_SECRET', SevStatus.INVALID_GUEST_STATE);
      const { tek, tik } = g.keys.get();
      const ok = header.iv.length === 16 && verifySecretMac({ tik, flags: header.flags, iv: header.iv, ciphertext, measure, guestLen }, header.mac);
      if (!ok) fail('LAUNCH_SECRET', SECRET_MAC_FAILURE_STATUS, 'packet MAC does not verify');
      g.secrets.push(decryptSecret(tek, header.iv, ciphertext));
    });
  }

  launchFinish(handle: number): void {
    this.guestCommand('LAUNCH_FINISH', handle, () => undefined);
  }

  /** SEND_START: migration out; refused by the NOSEND policy bit. */
  sendStart(handle: number): void {
    this.guestCommand('SEND_START', handle, (g) => {
      if (g.policy.nosend) fail('SEND_START', SevStatus.POLICY_FAILURE, 'policy forbids SEND (NOSEND)');
    });
  }

  sendFinish(handle: number): void {
    this.guestCommand('SEND_FINISH', handle, () => undefined);
  }

  /** DBG_DECRYPT: refused by the NODBG policy bit; needs the key loaded (INACTIVE otherwise). */
  dbgDecrypt(handle: number): void {
    this.debug('DBG_DECRYPT', handle);
  }

  dbgEncrypt(handle: number): void {
    this.debug('DBG_ENCRYPT', handle);
  }

  /** Secrets LAUNCH_SECRET wrote into the guest, decrypted (what the guest would read). */
  injectedSecrets(handle: number): readonly Buffer[] {
    return this.guests.get(handle)?.secrets ?? [];
  }

  // ---- inspection ----

  /** The most recent COMMAND_LOG_MAX commands, oldest first (`seq` keeps counting across the ones dropped). */
  commandLog(): readonly CommandLogEntry[] {
    return this.log.slice(-COMMAND_LOG_MAX);
  }

  clearLog(): void {
    this.log.length = 0;
  }

  inspect(): FirmwareSnapshot {
    return {
      state: this.state,
      api: `${this.apiMajor}.${this.apiMinor} build ${this.build}`,
      esInitialised: this.esInitialised,
      snpInitialised: this.snpInitialised,
      guests: [...this.guests.values()].map(snapshotGuest),
      asidsAwaitingFlush: [...this.awaitingFlush].sort((a, b) => a - b),
      dfFlushCount: this.flushes,
      pendingOverrides: this.overrides.pending,
    };
  }

  // ---- machinery ----

  /** Runs one command: injected status first, then the body; logs the outcome either way. */
  private run<T>(command: FirmwareCommand, handle: number | null, body: () => T): T {
    const injected = this.overrides.take(command, handle);
    try {
      if (injected !== null) fail(command, injected, 'injected');
      const out = body();
      this.record(command, handle, SevStatus.SUCCESS, false);
      return out;
    } catch (e) {
      if (e instanceof SevFirmwareError) this.record(command, handle, e.status, injected !== null);
      throw e;
    }
  }

  /** A guest command: platform initialised, handle known, state admits it; then the transition. */
  private guestCommand<T>(command: FirmwareCommand, handle: number, body: (g: GuestContext) => T): T {
    return this.run(command, handle, () => {
      this.requireGuestPlatform(command);
      const g = this.guests.get(handle) ?? fail(command, SevStatus.INVALID_GUEST, `no guest with handle ${handle}`);
      if (!GUEST_ALLOWED[g.state].includes(command)) fail(command, SevStatus.INVALID_GUEST_STATE, `guest ${handle} is ${g.state}`);
      const out = body(g);
      const next = GUEST_TRANSITIONS[command];
      if (next && this.guests.has(handle)) g.state = next;
      return out;
    });
  }

  private debug(command: 'DBG_DECRYPT' | 'DBG_ENCRYPT', handle: number): void {
    this.guestCommand(command, handle, (g) => {
      if (g.policy.nodbg) fail(command, SevStatus.POLICY_FAILURE, 'policy forbids debugging (NODBG)');
      this.requireActive(command, g);
    });
  }

  private requirePlatform(command: FirmwareCommand): void {
    if (!PLATFORM_ALLOWED[this.state].includes(command)) fail(command, SevStatus.INVALID_PLATFORM_STATE, `platform is ${this.state}`);
  }

  private requireGuestPlatform(command: FirmwareCommand): void {
    if (!GUEST_COMMAND_PLATFORM_STATES.includes(this.state)) fail(command, SevStatus.INVALID_PLATFORM_STATE, `platform is ${this.state}`);
  }

  /** Commands that touch guest memory need the guest's key loaded on an ASID [inference]. */
  private requireActive(command: FirmwareCommand, g: GuestContext): void {
    if (g.asid === null) fail(command, SevStatus.INACTIVE, `guest ${g.handle} is not activated`);
  }

  /** The earliest-started context active on `asid` (handles grow with LAUNCH_START). */
  private holderOf(asid: number): GuestContext | undefined {
    let first: GuestContext | undefined;
    for (const g of this.onAsid.get(asid) ?? []) if (!first || g.handle < first.handle) first = g;
    return first;
  }

  /** The session's TEK/TIK, or LAUNCH_START's refusal (INVALID_CERTIFICATE, BAD_MEASUREMENT …). */
  private unwrapSession(owner: { readonly dhCert: Buffer; readonly session: Buffer }, policy: number): TransportKeys {
    const pdh = this.pdhKey?.() ?? fail('LAUNCH_START', SevStatus.INVALID_CERTIFICATE, 'platform has no PDH');
    const r = openSession(pdh, owner.dhCert, owner.session, policy);
    return r.ok ? r.keys : fail('LAUNCH_START', r.status, r.detail);
  }

  /** A new guest's own TEK/TIK, or how to make them on first use when that is unobservable. */
  private newKeys(handle: number): TransportKeys | (() => TransportKeys) {
    const seed = this.tikSeed;
    // A seeded key is a function of the seed and the handle alone.
    if (seed) return () => seededTransportKeys(seed, handle);
    if (this.randomOnUse) return () => ({ tek: this.random(16), tik: this.random(16) });
    return { tek: this.random(16), tik: this.random(16) };
  }

  private record(command: FirmwareCommand, handle: number | null, status: number, injected: boolean): void {
    this.log.push({ seq: ++this.seq, command, id: COMMAND_IDS[command], handle, status, statusName: statusName(status), injected });
    // Bounded: a long-running daemon starting guests for days keeps only the recent history.
    if (this.log.length >= 2 * COMMAND_LOG_MAX) this.log.splice(0, this.log.length - COMMAND_LOG_MAX);
  }
}
