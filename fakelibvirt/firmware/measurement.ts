/**
 * The SEV launch measurement (SEV API §6.5 LAUNCH_MEASURE, as sevctl and virtee compute it) and
 * the LAUNCH_SECRET packet's MAC (virtee `session`). Both the firmware model and a guest owner's
 * verification use these functions, so the formula exists once.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { OnFirstUse } from './on-first-use.ts';

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
 *
 * Every guest of a host feeds the same firmware image and the same reset VMSAs, all buffers their
 * owners declared unchanging. While only such buffers arrive, the digest just walks a chain shared
 * by all digests (one link per buffer, by identity) and hashes nothing; the chain keeps the hash
 * state after each image and the final digest of each sequence, so a repeated launch costs a few
 * map lookups. The first other buffer resumes hashing from the chain's state: the bytes are
 * SHA-256 of the same input either way.
 */
export class LaunchDigest {
  private link: ChainLink | null = CHAIN_ROOT;
  private hash: Hash | null = null;
  private sealed = false;
  private finished: Buffer | null = null;

  update(chunk: Buffer): void {
    if (this.sealed) throw new Error('launch digest already finalised by LAUNCH_MEASURE');
    if (this.link) {
      if (UNCHANGING.has(chunk)) {
        this.link = this.link.next(chunk);
        return;
      }
      this.hash = this.link.hashState();
      this.link = null;
    }
    this.hash!.update(chunk);
  }

  /** No more buffers: what was fed so far is the digest, computed when first asked for. */
  seal(): void {
    this.sealed = true;
  }

  /** Finalises once; later calls return the same digest. */
  digest(): Buffer {
    this.sealed = true;
    // A copy of the chain's shared digest: the caller owns what it gets.
    this.finished ??= this.link ? Buffer.from(this.link.digest()) : this.hash!.digest();
    return this.finished;
  }
}

const UNCHANGING = new WeakSet<Buffer>();

/**
 * A position in a sequence of unchanging buffers. Links hang off their buffer in a WeakMap, so a
 * sequence whose buffers are dropped (an image leaving its cache) goes with them.
 */
class ChainLink {
  private readonly after = new WeakMap<Buffer, ChainLink>();
  /** Hash state after this link; kept for the first buffer (the image, the big one). */
  private state: Hash | null = null;
  private final: Buffer | null = null;

  constructor(
    private readonly parent: ChainLink | null,
    private readonly chunk: Buffer | null,
  ) {}

  next(chunk: Buffer): ChainLink {
    let l = this.after.get(chunk);
    if (!l) {
      l = new ChainLink(this, chunk);
      this.after.set(chunk, l);
    }
    return l;
  }

  /** A fresh hash holding the state after this link's buffer, for the caller to go on with. */
  hashState(): Hash {
    if (this.state) return this.state.copy();
    if (!this.parent || !this.chunk) return createHash('sha256');
    const h = this.parent.hashState().update(this.chunk);
    if (this.parent === CHAIN_ROOT) this.state = h.copy();
    return h;
  }

  digest(): Buffer {
    this.final ??= this.hashState().digest();
    return this.final;
  }
}

const CHAIN_ROOT = new ChainLink(null, null);

/**
 * Declares that `buf` will never be written again (a firmware image cached by its loader path, a
 * shared reset VMSA), so launch digests may share the hashing of sequences made of such buffers.
 */
export function markUnchanging(buf: Buffer): Buffer {
  UNCHANGING.add(buf);
  return buf;
}

/** SHA-256 of an unchanging buffer (hex): the same hashing a launch digest starting with it resumes from. */
export function unchangingSha256(buf: Buffer): string {
  if (!UNCHANGING.has(buf)) return createHash('sha256').update(buf).digest('hex');
  return CHAIN_ROOT.next(buf).digest().toString('hex');
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

/**
 * LAUNCH_MEASURE's answer, computed on first read. Every input is fixed when the command runs: the
 * policy and API version are the context's and the firmware's, the digest is sealed, the TIK never
 * changes after LAUNCH_START, and the nonce (like the TIK, when the firmware made it) comes from
 * the CSPRNG, which nobody can watch being drawn earlier or later. So the first read gives the bytes
 * an eager LAUNCH_MEASURE would have given, and every read after it the same bytes; a guest whose
 * measurement nobody asks for costs no HMAC.
 */
export class DeferredMeasurement {
  private readonly nonce: OnFirstUse<Buffer>;
  private mac: Buffer | null = null;
  private blob: Buffer | null = null;

  constructor(
    private readonly input: Omit<MeasurementInput, 'mnonce' | 'tik' | 'digest'> & {
      readonly tik: () => Buffer;
      /** The sealed launch digest's value. */
      readonly digest: () => Buffer;
    },
    mnonce: Buffer | (() => Buffer),
  ) {
    this.nonce = new OnFirstUse(mnonce);
  }

  get mnonce(): Buffer {
    return this.nonce.get();
  }

  /** MEASURE alone, 32 bytes. */
  get measure(): Buffer {
    const { apiMajor, apiMinor, build, policy } = this.input;
    this.mac ??= launchMeasure({ apiMajor, apiMinor, build, policy, digest: this.input.digest(), tik: this.input.tik(), mnonce: this.mnonce });
    return this.mac;
  }

  /** MEASURE ‖ MNONCE, 48 bytes: what QEMU returns base64 from query-sev-launch-measure. */
  get measurement(): Buffer {
    this.blob ??= Buffer.concat([this.measure, this.mnonce]);
    return this.blob;
  }
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
