/**
 * The SEV launch measurement (SEV API §6.5 LAUNCH_MEASURE, as sevctl and virtee compute it) and
 * the LAUNCH_SECRET packet's MAC (virtee `session`). Both the firmware model and a guest owner's
 * verification use these functions, so the formula exists once.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';

/** LAUNCH_MEASURE's context byte: the first byte HMAC'd into MEASURE. */
export const MEASURE_CONTEXT = 0x04;
/** LAUNCH_SECRET's context byte for the packet MAC. */
export const SECRET_CONTEXT = 0x01;
export const MEASURE_LEN = 32;
export const MNONCE_LEN = 16;
/** MEASURE ‖ MNONCE, as `query-sev-launch-measure` returns it (base64). */
export const MEASUREMENT_BLOB_LEN = MEASURE_LEN + MNONCE_LEN;

/**
 * The launch digest GCTX.LD, fed incrementally: SHA-256 over every LAUNCH_UPDATE_DATA buffer and
 * then (SEV-ES) every LAUNCH_UPDATE_VMSA buffer, in submission order.
 */
export class LaunchDigest {
  private hash: Hash = createHash('sha256');
  private fresh = true;
  private finished: Buffer | null = null;

  update(chunk: Buffer): void {
    if (this.finished) throw new Error('launch digest already finalised by LAUNCH_MEASURE');
    const first = this.fresh;
    this.fresh = false;
    // Every guest's digest starts with the same firmware image: resume from the hash state after
    // it instead of hashing 64 KiB again. Only buffers their owner declared unchanging qualify.
    if (first && UNCHANGING.has(chunk)) {
      const after = PREFIX_STATES.get(chunk);
      if (after) {
        this.hash = after.copy();
        return;
      }
      this.hash.update(chunk);
      PREFIX_STATES.set(chunk, this.hash.copy());
      return;
    }
    this.hash.update(chunk);
  }

  /** Finalises once; later calls return the same digest. */
  digest(): Buffer {
    this.finished ??= this.hash.digest();
    return this.finished;
  }
}

const UNCHANGING = new WeakSet<Buffer>();
const PREFIX_STATES = new WeakMap<Buffer, Hash>();

/**
 * Declares that `buf` will never be written again (a firmware image cached by its loader path),
 * so a launch digest starting with it may reuse the hash state computed the first time.
 */
export function markUnchanging(buf: Buffer): Buffer {
  UNCHANGING.add(buf);
  return buf;
}

export function launchDigest(chunks: readonly Buffer[]): Buffer {
  const d = new LaunchDigest();
  for (const c of chunks) d.update(c);
  return d.digest();
}

export interface MeasurementInput {
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly build: number;
  /** The 32-bit SEV policy word. */
  readonly policy: number;
  /** GCTX.LD, 32 bytes. */
  readonly digest: Buffer;
  /** The firmware's 16-byte nonce. */
  readonly mnonce: Buffer;
  /** The guest's transport integrity key. */
  readonly tik: Buffer;
}

function expectLen(name: string, b: Buffer, len: number): void {
  if (b.length !== len) throw new RangeError(`${name} must be ${len} bytes (got ${b.length})`);
}

/** MEASURE = HMAC-SHA256(TIK, 0x04 ‖ api_major ‖ api_minor ‖ build ‖ policy(u32 LE) ‖ LD ‖ MNONCE). */
export function launchMeasure(input: MeasurementInput): Buffer {
  expectLen('digest', input.digest, 32);
  expectLen('mnonce', input.mnonce, MNONCE_LEN);
  const header = Buffer.alloc(8);
  header.writeUInt8(MEASURE_CONTEXT, 0);
  header.writeUInt8(input.apiMajor, 1);
  header.writeUInt8(input.apiMinor, 2);
  header.writeUInt8(input.build, 3);
  header.writeUInt32LE(input.policy >>> 0, 4);
  return createHmac('sha256', input.tik).update(header).update(input.digest).update(input.mnonce).digest();
}

/** The 48-byte LAUNCH_MEASURE blob: MEASURE ‖ MNONCE. */
export function launchMeasurement(input: MeasurementInput): Buffer {
  return Buffer.concat([launchMeasure(input), input.mnonce]);
}

/**
 * A guest owner's check of a LAUNCH_MEASURE blob against the digest it expects: the mnonce is taken
 * from the blob, everything else from what the owner knows.
 */
export function verifyMeasurement(expected: Omit<MeasurementInput, 'mnonce'>, blob: Buffer): boolean {
  if (blob.length !== MEASUREMENT_BLOB_LEN) return false;
  const mnonce = blob.subarray(MEASURE_LEN);
  const want = launchMeasure({ ...expected, mnonce });
  return timingSafeEqual(want, blob.subarray(0, MEASURE_LEN));
}

/** LAUNCH_SECRET's packet header: flags u32 ‖ iv(16) ‖ mac(32). */
export interface SecretHeader {
  readonly flags: number;
  readonly iv: Buffer;
  readonly mac: Buffer;
}

export interface SecretMacInput {
  readonly tik: Buffer;
  readonly flags: number;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  /** MEASURE (32 bytes, without the mnonce) from LAUNCH_MEASURE. */
  readonly measure: Buffer;
  /** Length of the guest region; the transport length is always the ciphertext's. */
  readonly guestLen?: number;
}

/**
 * mac = HMAC-SHA256(TIK, 0x01 ‖ flags(u32 LE) ‖ iv ‖ guest_len(u32 LE) ‖ trans_len(u32 LE) ‖
 * ciphertext ‖ MEASURE): binding the secret to this launch's measurement is what stops a host
 * replaying a secret into a different image.
 */
export function secretMac(input: SecretMacInput): Buffer {
  expectLen('iv', input.iv, 16);
  expectLen('measure', input.measure, MEASURE_LEN);
  const head = Buffer.alloc(5);
  head.writeUInt8(SECRET_CONTEXT, 0);
  head.writeUInt32LE(input.flags >>> 0, 1);
  const lens = Buffer.alloc(8);
  lens.writeUInt32LE(input.guestLen ?? input.ciphertext.length, 0);
  lens.writeUInt32LE(input.ciphertext.length, 4);
  return createHmac('sha256', input.tik)
    .update(head)
    .update(input.iv)
    .update(lens)
    .update(input.ciphertext)
    .update(input.measure)
    .digest();
}

export function verifySecretMac(input: SecretMacInput, mac: Buffer): boolean {
  const want = secretMac(input);
  return mac.length === want.length && timingSafeEqual(want, mac);
}
