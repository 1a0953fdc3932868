/**
 * One guest's firmware context (GCTX): its policy and state, the ASID its key is loaded on, the
 * transport keys the guest owner shares with the firmware (TEK for encryption, TIK for integrity),
 * and the running launch digest. `SevFirmware` owns the contexts; this module owns their shape and
 * the per-guest cryptography.
 */
import { createDecipheriv, createHmac } from 'node:crypto';
import type { GuestState } from './commands.ts';
import { LaunchDigest, type DeferredMeasurement } from './measurement.ts';
import { OnFirstUse } from './on-first-use.ts';
import type { GuestPolicy } from './policy.ts';

export interface TransportKeys {
  readonly tek: Buffer;
  readonly tik: Buffer;
}

/**
 * A guest's TEK/TIK: given at LAUNCH_START, or made on first use when nobody can tell when they
 * were made (drawn from the CSPRNG, or derived from a seed and the handle): see SevFirmware.
 * Guests sharing a key (LAUNCH_START's handle) share the slot.
 */
export type TransportKeySlot = OnFirstUse<TransportKeys>;

export function transportKeySlot(keys: TransportKeys | (() => TransportKeys)): TransportKeySlot {
  // The context keeps its own copies of given keys: the caller's buffers are theirs.
  return new OnFirstUse(typeof keys === 'function' ? keys : { tek: Buffer.from(keys.tek), tik: Buffer.from(keys.tik) });
}

export interface GuestContext {
  readonly handle: number;
  readonly policy: GuestPolicy;
  state: GuestState;
  asid: number | null;
  /** Handle of the guest whose key this one uses (itself unless LAUNCH_START shared a key). */
  readonly keyOwner: number;
  readonly keys: TransportKeySlot;
  readonly digest: LaunchDigest;
  dataBytes: number;
  vmsaCount: number;
  /** LAUNCH_MEASURE's result; LAUNCH_SECRET's MAC is bound to its MEASURE. */
  measured: DeferredMeasurement | null;
  /** Plaintexts LAUNCH_SECRET wrote into guest memory. */
  readonly secrets: Buffer[];
}

export interface GuestSnapshot {
  readonly handle: number;
  readonly policy: string;
  readonly state: GuestState;
  readonly asid: number | null;
  readonly keyOwner: number;
  readonly dataBytes: number;
  readonly vmsaCount: number;
  readonly secrets: number;
}

export function newGuestContext(handle: number, policy: GuestPolicy, state: GuestState, keyOwner: number, keys: TransportKeySlot): GuestContext {
  return {
    handle, policy, state, asid: null, keyOwner, keys,
    digest: new LaunchDigest(), dataBytes: 0, vmsaCount: 0, measured: null, secrets: [],
  };
}

/** Reproducible keys for tests: HMAC-SHA256(seed, "tek:<handle>") and "tik:<handle>", 16 bytes each. */
export function seededTransportKeys(seed: Buffer, handle: number): TransportKeys {
  const derive = (label: string) => createHmac('sha256', seed).update(`${label}:${handle}`).digest().subarray(0, 16);
  return { tek: derive('tek'), tik: derive('tik') };
}

/** The secret as the guest reads it: AES-128-CTR(TEK, iv) over the ciphertext. */
export function decryptSecret(tek: Buffer, iv: Buffer, ciphertext: Buffer): Buffer {
  const d = createDecipheriv('aes-128-ctr', tek, iv);
  return Buffer.concat([d.update(ciphertext), d.final()]);
}

export function snapshotGuest(g: GuestContext): GuestSnapshot {
  return {
    handle: g.handle, policy: g.policy.toHex(), state: g.state, asid: g.asid, keyOwner: g.keyOwner,
    dataBytes: g.dataBytes, vmsaCount: g.vmsaCount, secrets: g.secrets.length,
  };
}
