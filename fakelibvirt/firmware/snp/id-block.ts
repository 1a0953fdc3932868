/**
 * The guest owner's ID block and its authentication (SNP ABI SNP_LAUNCH_FINISH: ID_BLOCK, 0x60
 * bytes, and ID_AUTH_INFO, 0x1000 bytes; the layouts sev-snp-measure's snp-create-id-block writes):
 * the firmware accepts the launch only if the ID key signed the ID block, the author key (when
 * AUTHOR_KEY_EN) signed the ID key, and the block names this launch's digest and policy. Keys are
 * ECDSA P-384 in AMD's public-key layout (curve u32 = 2, Qx and Qy 72 bytes little-endian),
 * signatures r and s 72 bytes little-endian, SHA-384.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { SevStatus } from '../status.ts';

export const ID_BLOCK = { SIZE: 0x60, LD: 0x00, FAMILY_ID: 0x30, IMAGE_ID: 0x40, VERSION: 0x50, GUEST_SVN: 0x54, POLICY: 0x58 } as const;
export const ID_AUTH = { SIZE: 0x1000, ID_KEY_ALGO: 0x00, AUTH_KEY_ALGO: 0x04, ID_BLOCK_SIG: 0x40, ID_KEY: 0x240, ID_KEY_SIG: 0x680, AUTHOR_KEY: 0x880, KEY_SIZE: 0x404 } as const;
/** ID_KEY_ALGO / AUTH_KEY_ALGO: ECDSA P-384 with SHA-384. */
const ECDSA_P384_SHA384 = 1;
const CURVE_P384 = 2;
const COMPONENT = 72;
const P384_BYTES = 48;

/** A public key in AMD's layout, or null when it is not a P-384 point. */
function amdPublicKey(raw: Buffer) {
  if (raw.readUInt32LE(0) !== CURVE_P384) return null;
  const coord = (off: number) => Buffer.from(raw.subarray(off, off + P384_BYTES)).reverse().toString('base64url');
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: coord(4), y: coord(4 + COMPONENT) }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** Whether `sig` (AMD layout: r ‖ s, 72 bytes LE each) is `key`'s ECDSA P-384/SHA-384 signature of `data`. */
function amdSignatureValid(keyRaw: Buffer, sig: Buffer, data: Buffer): boolean {
  const key = amdPublicKey(keyRaw);
  if (!key) return false;
  const be = (off: number) => Buffer.from(sig.subarray(off, off + P384_BYTES)).reverse();
  if (sig.subarray(P384_BYTES, COMPONENT).some((b) => b !== 0) || sig.subarray(COMPONENT + P384_BYTES, 2 * COMPONENT).some((b) => b !== 0)) return false;
  return verify('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([be(0), be(COMPONENT)]));
}

export interface IdBlockLaunch {
  readonly idBlock: Buffer;
  readonly idAuth: Buffer;
  /** `authorKey='yes'`: the ID key must carry the author key's signature. */
  readonly authorKeyEnabled: boolean;
  /** The launch digest (MEASUREMENT) and policy the firmware holds for this guest. */
  readonly measurement: Buffer;
  readonly policy: bigint;
}

export interface IdBlockRefusal {
  readonly status: number;
  readonly reason: string;
}

/**
 * Why SNP_LAUNCH_FINISH refuses this ID block, or null when it accepts it. The checks run in the
 * order the ABI lists them: signatures first, then the digest and the policy [order: inference].
 */
export function idBlockRefusal(l: IdBlockLaunch): IdBlockRefusal | null {
  const { idBlock, idAuth } = l;
  if (idBlock.length !== ID_BLOCK.SIZE || idAuth.length !== ID_AUTH.SIZE) {
    return { status: SevStatus.INVALID_PARAM, reason: `the ID block must be ${ID_BLOCK.SIZE} bytes and its authentication ${ID_AUTH.SIZE}` };
  }
  const idKey = idAuth.subarray(ID_AUTH.ID_KEY, ID_AUTH.ID_KEY + ID_AUTH.KEY_SIZE);
  const algoOk = idAuth.readUInt32LE(ID_AUTH.ID_KEY_ALGO) === ECDSA_P384_SHA384;
  if (!algoOk || !amdSignatureValid(idKey, idAuth.subarray(ID_AUTH.ID_BLOCK_SIG, ID_AUTH.ID_KEY), idBlock)) {
    return { status: SevStatus.BAD_SIGNATURE, reason: 'the ID block is not signed by the ID key' };
  }
  if (l.authorKeyEnabled) {
    const authorKey = idAuth.subarray(ID_AUTH.AUTHOR_KEY, ID_AUTH.AUTHOR_KEY + ID_AUTH.KEY_SIZE);
    const authorAlgoOk = idAuth.readUInt32LE(ID_AUTH.AUTH_KEY_ALGO) === ECDSA_P384_SHA384;
    if (!authorAlgoOk || !amdSignatureValid(authorKey, idAuth.subarray(ID_AUTH.ID_KEY_SIG, ID_AUTH.AUTHOR_KEY), idKey)) {
      return { status: SevStatus.BAD_SIGNATURE, reason: 'the ID key is not signed by the author key' };
    }
  }
  if (!idBlock.subarray(ID_BLOCK.LD, ID_BLOCK.LD + P384_BYTES).equals(l.measurement)) {
    return { status: SevStatus.BAD_MEASUREMENT, reason: "the ID block's launch digest is not this launch's" };
  }
  if (idBlock.readBigUInt64LE(ID_BLOCK.POLICY) !== l.policy) {
    return { status: SevStatus.POLICY_FAILURE, reason: "the ID block's policy is not the guest's" };
  }
  return null;
}

/** ID_KEY_DIGEST / AUTHOR_KEY_DIGEST: SHA-384 of the key in AMD's 0x404-byte layout. */
export function keyDigest(idAuth: Buffer, which: 'id' | 'author'): Buffer {
  const off = which === 'id' ? ID_AUTH.ID_KEY : ID_AUTH.AUTHOR_KEY;
  return createHash('sha384').update(idAuth.subarray(off, off + ID_AUTH.KEY_SIZE)).digest();
}
