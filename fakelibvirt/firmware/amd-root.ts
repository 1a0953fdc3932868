/**
 * A clearly fake AMD root of trust: the ARK (self-signed) and the ASK it signs, RSA keys in AMD's
 * own certificate format (sev-hardware.md §7.1; layout per AMD's SEV API spec appendix as the virtee
 * `ca` certificates decode it). The keys come from a seeded prime search, so every run and every
 * machine has the same fake root per CPU generation; nothing here chains to AMD's real ARK.
 *
 * The primes are 1024 bits (RSA-2048): real ASK/ARKs are RSA-4096 from Rome on, but a seeded
 * 2048-bit prime search takes ~2 s per key, too slow for a lazy first call. Where the search for a
 * generation's primes lands is kept as data (PRIME_OFFSETS), so deriving a root costs one primality
 * check per prime; a wrong or missing offset falls back to the search, which gives the same key.
 */
import { checkPrimeSync, createHash, createHmac, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, constants, type KeyObject } from 'node:crypto';
import { bigToBuffer } from './ecc-p384.ts';

export const AMD_ROOT_MODULUS_BITS = 2048;
const PUB_EXP = 65537n;
/** Key usages of AMD's root certificates (the same numbering as SEV certificates). */
export const AMD_KEY_USAGE = { ARK: 0x0000, ASK: 0x0013 } as const;

export interface RsaKey {
  readonly n: bigint;
  readonly d: bigint;
  readonly private: KeyObject;
  readonly public: KeyObject;
}

const toBig = (b: Buffer): bigint => BigInt(`0x${b.toString('hex')}`);

function stream(seed: string, label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let off = 0, i = 0; off < length; i++) off += createHmac('sha512', seed).update(`${label}:${i}`).digest().copy(out, off);
  return out;
}

const SIEVE: readonly number[] = (() => {
  const ps: number[] = [];
  for (let p = 3; ps.length < 2000; p += 2) if (ps.every((q) => q * q > p || p % q !== 0)) ps.push(p);
  return ps;
})();

/** Distance from each seeded start to the first prime the search accepts (measured by running it). */
const PRIME_OFFSETS: Readonly<Record<string, number>> = {
  'naples/ARK/p': 286, 'naples/ARK/q': 564, 'naples/ASK/p': 846, 'naples/ASK/q': 1950,
  'rome/ARK/p': 22, 'rome/ARK/q': 874, 'rome/ASK/p': 202, 'rome/ASK/q': 156,
  'milan/ARK/p': 1032, 'milan/ARK/q': 274, 'milan/ASK/p': 62, 'milan/ASK/q': 402,
  'genoa/ARK/p': 1058, 'genoa/ARK/q': 546, 'genoa/ASK/p': 368, 'genoa/ASK/q': 224,
  'turin/ARK/p': 870, 'turin/ARK/q': 1044, 'turin/ASK/p': 1056, 'turin/ASK/q': 226,
};

const acceptable = (c: bigint) => c % PUB_EXP !== 1n && checkPrimeSync(c, { checks: 24 });

/** The first prime at or after a seeded odd start (top two bits set so p·q has the full length). */
function seededPrime(seed: string, label: string, bits: number, knownOffset?: number): bigint {
  const start = toBig(stream(seed, label, bits / 8)) | (3n << BigInt(bits - 2)) | 1n;
  // A recorded offset is taken as is (a primality check costs ~40 ms per prime here): a wrong
  // entry gives a key whose signatures do not verify, which the chain tests of every generation catch.
  if (knownOffset !== undefined) return start + BigInt(knownOffset);
  const rems = SIEVE.map((p) => Number(start % BigInt(p)));
  for (let delta = 0; ; delta += 2) {
    if (!SIEVE.every((p, i) => (rems[i]! + delta) % p !== 0)) continue;
    const c = start + BigInt(delta);
    if (acceptable(c)) return c;
  }
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

export function seededRsaKey(seed: string, label: string, bits = AMD_ROOT_MODULUS_BITS, offsets: (label: string) => number | undefined = () => undefined): RsaKey {
  const p = seededPrime(seed, `${label}/p`, bits / 2, offsets(`${label}/p`));
  const q = seededPrime(seed, `${label}/q`, bits / 2, offsets(`${label}/q`));
  const n = p * q;
  const d = modInverse(PUB_EXP, (p - 1n) * (q - 1n));
  const len = bits / 8;
  const b64 = (v: bigint, l: number) => bigToBuffer(v, l).toString('base64url');
  const jwk = {
    kty: 'RSA', n: b64(n, len), e: b64(PUB_EXP, 3), d: b64(d, len),
    p: b64(p, len / 2), q: b64(q, len / 2), dp: b64(d % (p - 1n), len / 2), dq: b64(d % (q - 1n), len / 2), qi: b64(modInverse(q, p), len / 2),
  };
  const priv = createPrivateKey({ key: jwk, format: 'jwk' });
  return { n, d, private: priv, public: createPublicKey(priv) };
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 48 < length + 64; i++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(i);
    out.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * RSASSA-PSS (RFC 8017 §9.1) with SHA-384, MGF1-SHA-384 and a 48-byte salt derived from the key
 * and message, so signing is repeatable; any PSS verifier accepts it. Returns big-endian bytes.
 */
export function pssSign(key: RsaKey, message: Buffer, hash = 'sha384'): Buffer {
  const k = AMD_ROOT_MODULUS_BITS / 8;
  const mHash = createHash(hash).update(message).digest();
  const hLen = mHash.length;
  const salt = createHmac(hash, bigToBuffer(key.d, k)).update(message).digest();
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const emLen = k; // emBits = modBits - 1 = 2047: the top bit is cleared below.
  const db = Buffer.concat([Buffer.alloc(emLen - hLen - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, db.length, hash);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0x7f;
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  // Raw RSA with the private key: privateDecrypt without padding computes em^d mod n.
  return privateDecrypt({ key: key.private, padding: constants.RSA_NO_PADDING }, em);
}

export function pssVerify(pub: KeyObject, message: Buffer, signatureBE: Buffer, hash = 'sha384'): boolean {
  try {
    const em = publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, signatureBE);
    if (em[em.length - 1] !== 0xbc) return false;
    const mHash = createHash(hash).update(message).digest();
    const hLen = mHash.length;
    const db = Buffer.from(em.subarray(0, em.length - hLen - 1));
    const h = em.subarray(em.length - hLen - 1, em.length - 1);
    const mask = mgf1(h, db.length, hash);
    for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
    db[0]! &= 0x7f;
    const one = db.indexOf(1);
    if (one < 0 || db.subarray(0, one).some((b) => b !== 0)) return false;
    const salt = db.subarray(one + 1);
    return createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest().equals(h);
  } catch {
    return false;
  }
}

/** AMD's certificate format for the ARK and ASK: fields little-endian, sizes in bits. */
export interface AmdRootCert {
  readonly keyId: Buffer;
  readonly certifyingId: Buffer;
  readonly usage: number;
  readonly modulus: bigint;
  readonly pubExp: bigint;
  /** Big-endian signature bytes (stored reversed in the certificate). */
  readonly signature: Buffer;
}

const reversed = (b: Buffer) => Buffer.from(b).reverse();
const le = (v: bigint, len: number) => reversed(bigToBuffer(v, len));

/** version ‖ key_id ‖ certifying_id ‖ usage ‖ reserved(16) ‖ exp bits ‖ modulus bits ‖ exp ‖ modulus. */
function amdCertBody(c: Omit<AmdRootCert, 'signature'>): Buffer {
  const bytes = AMD_ROOT_MODULUS_BITS / 8;
  const head = Buffer.alloc(4 + 16 + 16 + 4 + 16 + 8);
  head.writeUInt32LE(1, 0);
  c.keyId.copy(head, 4);
  c.certifyingId.copy(head, 20);
  head.writeUInt32LE(c.usage, 36);
  head.writeUInt32LE(AMD_ROOT_MODULUS_BITS, 56);
  head.writeUInt32LE(AMD_ROOT_MODULUS_BITS, 60);
  return Buffer.concat([head, le(c.pubExp, bytes), le(c.modulus, bytes)]);
}

export function encodeAmdCert(c: AmdRootCert): Buffer {
  return Buffer.concat([amdCertBody(c), reversed(c.signature)]);
}

export function decodeAmdCert(buf: Buffer): AmdRootCert & { readonly body: Buffer } {
  const expBits = buf.readUInt32LE(56);
  const modBits = buf.readUInt32LE(60);
  const off = 64;
  const exp = reversed(buf.subarray(off, off + expBits / 8));
  const mod = reversed(buf.subarray(off + expBits / 8, off + expBits / 8 + modBits / 8));
  const sigOff = off + expBits / 8 + modBits / 8;
  return {
    keyId: buf.subarray(4, 20), certifyingId: buf.subarray(20, 36), usage: buf.readUInt32LE(36),
    pubExp: toBig(exp), modulus: toBig(mod), signature: reversed(buf.subarray(sigOff, sigOff + modBits / 8)),
    body: buf.subarray(0, sigOff),
  };
}

export function rsaPublicKey(modulus: bigint, pubExp: bigint): KeyObject {
  const bytes = Math.ceil(modulus.toString(16).length / 2);
  return createPublicKey({ key: { kty: 'RSA', n: bigToBuffer(modulus, bytes).toString('base64url'), e: bigToBuffer(pubExp, 3).toString('base64url') }, format: 'jwk' });
}

export interface AmdRoot {
  readonly ark: RsaKey;
  readonly ask: RsaKey;
  readonly arkCert: Buffer;
  readonly askCert: Buffer;
  readonly askKeyId: Buffer;
}

const ROOTS = new Map<string, AmdRoot>();

/** The fake ARK and ASK of a CPU generation, made on first use and kept for the process. */
export function fakeAmdRoot(generation: string): AmdRoot {
  let root = ROOTS.get(generation);
  if (root) return root;
  const seed = `sevharness FAKE AMD root (not AMD's): ${generation}`;
  const offsets = (l: string) => PRIME_OFFSETS[`${generation}/${l}`];
  const ark = seededRsaKey(seed, 'ARK', AMD_ROOT_MODULUS_BITS, offsets);
  const ask = seededRsaKey(seed, 'ASK', AMD_ROOT_MODULUS_BITS, offsets);
  const arkId = stream(seed, 'ark-id', 16);
  const askId = stream(seed, 'ask-id', 16);
  const arkFields = { keyId: arkId, certifyingId: arkId, usage: AMD_KEY_USAGE.ARK, modulus: ark.n, pubExp: PUB_EXP };
  const askFields = { keyId: askId, certifyingId: arkId, usage: AMD_KEY_USAGE.ASK, modulus: ask.n, pubExp: PUB_EXP };
  root = {
    ark, ask, askKeyId: askId,
    arkCert: encodeAmdCert({ ...arkFields, signature: pssSign(ark, amdCertBody(arkFields)) }),
    askCert: encodeAmdCert({ ...askFields, signature: pssSign(ark, amdCertBody(askFields)) }),
  };
  ROOTS.set(generation, root);
  return root;
}
