/**
 * NIST P-384 as the AMD-SP uses it for the platform keys (PEK, OCA, CEK sign with ECDSA; the PDH
 * does ECDH): keys derived from a seed, so a profile's identity is the same on every run, and
 * ECDSA signatures with a nonce derived from the key and the digest (RFC 6979's idea, not its exact
 * construction), so certificates are byte-stable too. Verification uses node's OpenSSL.
 */
import { createECDH, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';

export const P384_BYTES = 48;
/** The group order n of P-384 (FIPS 186-4 D.1.2.4). */
export const P384_ORDER = BigInt('0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973');

export interface EcKeyPair {
  /** The private scalar d, 48 bytes big-endian. */
  readonly d: Buffer;
  /** The public point's coordinates, 48 bytes big-endian each. */
  readonly x: Buffer;
  readonly y: Buffer;
}

export interface EcdsaSignature {
  readonly r: Buffer;
  readonly s: Buffer;
}

const toBig = (b: Buffer): bigint => BigInt(`0x${b.toString('hex') || '0'}`);

export function bigToBuffer(v: bigint, len: number): Buffer {
  const hex = v.toString(16).padStart(len * 2, '0');
  if (hex.length > len * 2) throw new RangeError(`value does not fit in ${len} bytes`);
  return Buffer.from(hex, 'hex');
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n;
  let b = base % m;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
  }
  return r;
}

/** n is prime, so the inverse is a^(n-2) (Fermat). */
const invModN = (a: bigint) => modPow(((a % P384_ORDER) + P384_ORDER) % P384_ORDER, P384_ORDER - 2n, P384_ORDER);

/** k·G as the uncompressed point's coordinates (OpenSSL does the scalar multiplication). */
function multiplyBase(k: Buffer): { x: Buffer; y: Buffer } {
  const ecdh = createECDH('secp384r1');
  ecdh.setPrivateKey(k);
  const pub = ecdh.getPublicKey();
  return { x: pub.subarray(1, 1 + P384_BYTES), y: pub.subarray(1 + P384_BYTES) };
}

/** A scalar in [1, n-1] from 64 bytes of HMAC output (the 128 extra bits make the bias negligible). */
function scalarFrom(key: Buffer | string, ...parts: (Buffer | string)[]): Buffer {
  const wide = Buffer.concat([0, 1].map((i) => {
    const h = createHmac('sha512', key);
    for (const p of parts) h.update(p);
    return h.update(String(i)).digest();
  }));
  return bigToBuffer((toBig(wide) % (P384_ORDER - 1n)) + 1n, P384_BYTES);
}

/** The key pair for `label` under `seed`: the same seed and label always give the same key. */
export function deriveKeyPair(seed: string, label: string): EcKeyPair {
  const d = scalarFrom(`sevharness-p384:${seed}`, label);
  return { d, ...multiplyBase(d) };
}

export function keyPairFromPrivate(d: Buffer): EcKeyPair {
  return { d: Buffer.from(d), ...multiplyBase(d) };
}

/** ECDSA over a digest no longer than the order (SHA-256 or SHA-384), with a derived nonce. */
export function ecdsaSign(key: EcKeyPair, digest: Buffer): EcdsaSignature {
  const e = toBig(digest.subarray(0, P384_BYTES));
  const d = toBig(key.d);
  for (let attempt = 0; ; attempt++) {
    const k = scalarFrom(key.d, digest, `nonce:${attempt}`);
    const r = toBig(multiplyBase(k).x) % P384_ORDER;
    if (r === 0n) continue;
    const s = (invModN(toBig(k)) * ((e + r * d) % P384_ORDER)) % P384_ORDER;
    if (s === 0n) continue;
    return { r: bigToBuffer(r, P384_BYTES), s: bigToBuffer(s, P384_BYTES) };
  }
}

export function publicKeyObject(x: Buffer, y: Buffer): KeyObject {
  const b64 = (b: Buffer) => b.toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: b64(x), y: b64(y) }, format: 'jwk' });
}

/** Checks an ECDSA signature over `message` hashed with `hash`; a point off the curve fails. */
export function ecdsaVerify(x: Buffer, y: Buffer, hash: 'sha256' | 'sha384', message: Buffer, sig: EcdsaSignature): boolean {
  try {
    return verify(hash, message, { key: publicKeyObject(x, y), dsaEncoding: 'ieee-p1363' }, Buffer.concat([sig.r, sig.s]));
  } catch {
    return false;
  }
}

const PRIVATE_KEYS = new WeakMap<EcKeyPair, KeyObject>();

/** The pair as an OpenSSL key, made once per pair (ECDH then costs one scalar multiplication). */
function privateKeyObject(k: EcKeyPair): KeyObject {
  let key = PRIVATE_KEYS.get(k);
  if (!key) {
    const b64 = (b: Buffer) => b.toString('base64url');
    key = createPrivateKey({ key: { kty: 'EC', crv: 'P-384', d: b64(k.d), x: b64(k.x), y: b64(k.y) }, format: 'jwk' });
    PRIVATE_KEYS.set(k, key);
  }
  return key;
}

/** A fresh random key pair (the guest owner's DH key). */
export function randomKeyPair(): EcKeyPair {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = privateKey.export({ format: 'jwk' });
  const pair = { d: Buffer.from(jwk.d!, 'base64url'), x: Buffer.from(jwk.x!, 'base64url'), y: Buffer.from(jwk.y!, 'base64url') };
  PRIVATE_KEYS.set(pair, privateKey);
  return pair;
}

/**
 * ECDH: the shared point's x-coordinate, big-endian (what the SEV KDF takes as Z). Throws when the
 * peer's point is not on P-384.
 */
export function ecdhSharedX(own: EcKeyPair, peerX: Buffer, peerY: Buffer): Buffer {
  return diffieHellman({ privateKey: privateKeyObject(own), publicKey: publicKeyObject(peerX, peerY) });
}
