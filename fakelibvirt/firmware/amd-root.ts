/**
 * A clearly fake AMD root of trust: the ARK (self-signed) and the ASK it signs, RSA keys in AMD's
 * own certificate format (sev-hardware.md §7.1; layout per AMD's SEV API spec appendix as the virtee
 * `ca` certificates decode it). Nothing here chains to AMD's real ARK.
 *
 * On real hardware a generation has one ARK and one ASK: the SEV-format certificates
 * (ask_ark_{naples,rome,milan,…}.cert) and the KDS's X.509 cert_chain carry the same keys. The fake
 * does the same: both formats use the fixed fake keys in ../kds/keys/ (RSA-4096 from Rome on,
 * RSA-2048 for Naples, as AMD's), so a verifier that pins the KDS ARK also accepts the SEV chain.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, constants, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bigToBuffer } from './ecc-p384.ts';
import { packageFile } from '../../src/fs/package-files.ts';

const PUB_EXP = 65537n;
/** Key usages of AMD's root certificates (the same numbering as SEV certificates). */
export const AMD_KEY_USAGE = { ARK: 0x0000, ASK: 0x0013 } as const;

export interface RsaKey {
  readonly n: bigint;
  readonly d: bigint;
  readonly bits: number;
  readonly private: KeyObject;
  readonly public: KeyObject;
}

const toBig = (b: Buffer): bigint => BigInt(`0x${b.toString('hex')}`);

function stream(seed: string, label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let off = 0, i = 0; off < length; i++) off += createHmac('sha512', seed).update(`${label}:${i}`).digest().copy(out, off);
  return out;
}

/** Generations with a fake root: the key files the fake KDS also signs with. */
export const ROOT_GENERATIONS = ['naples', 'rome', 'milan', 'genoa', 'turin'] as const;

/** The fixed fake key of `role` for `generation` (../kds/keys/ROLE-GENERATION.fake.pem). */
export function fixedRootKey(role: 'ark' | 'ask', generation: string): RsaKey {
  if (!(ROOT_GENERATIONS as readonly string[]).includes(generation)) {
    throw new Error(`no fake AMD root for generation '${generation}' (${ROOT_GENERATIONS.join(', ')})`);
  }
  const priv = createPrivateKey(readFileSync(packageFile('fakelibvirt', 'kds', 'keys', `${role}-${generation}.fake.pem`), 'utf8'));
  const jwk = priv.export({ format: 'jwk' });
  const big = (v: string | undefined) => toBig(Buffer.from(v ?? '', 'base64url'));
  return { n: big(jwk.n), d: big(jwk.d), bits: priv.asymmetricKeyDetails?.modulusLength ?? 0, private: priv, public: createPublicKey(priv) };
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
  const k = key.bits / 8;
  const mHash = createHash(hash).update(message).digest();
  const hLen = mHash.length;
  const salt = createHmac(hash, bigToBuffer(key.d, k)).update(message).digest();
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const emLen = k; // emBits = modBits - 1 (moduli are whole bytes): the top bit is cleared below.
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
    // Raw RSA takes exactly modulus-length input: a signature read with its zero top bytes cut is padded back.
    const k = (pub.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    if (signatureBE.length > k) return false;
    const sig = signatureBE.length < k ? Buffer.concat([Buffer.alloc(k - signatureBE.length), signatureBE]) : signatureBE;
    const em = publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, sig);
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

/**
 * version ‖ key_id ‖ certifying_id ‖ usage ‖ reserved(16) ‖ exp bits ‖ modulus bits ‖ exp ‖ modulus.
 * The exponent field is written as wide as the modulus [unverified against AMD's published certs].
 */
function amdCertBody(c: Omit<AmdRootCert, 'signature'> & { readonly bits: number }): Buffer {
  const bits = c.bits;
  const bytes = bits / 8;
  const head = Buffer.alloc(4 + 16 + 16 + 4 + 16 + 8);
  head.writeUInt32LE(1, 0);
  c.keyId.copy(head, 4);
  c.certifyingId.copy(head, 20);
  head.writeUInt32LE(c.usage, 36);
  head.writeUInt32LE(bits, 56);
  head.writeUInt32LE(bits, 60);
  return Buffer.concat([head, le(c.pubExp, bytes), le(c.modulus, bytes)]);
}

export function encodeAmdCert(c: AmdRootCert & { readonly bits: number }): Buffer {
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
  const ark = fixedRootKey('ark', generation);
  const ask = fixedRootKey('ask', generation);
  const arkId = stream(seed, 'ark-id', 16);
  const askId = stream(seed, 'ask-id', 16);
  const arkFields = { keyId: arkId, certifyingId: arkId, usage: AMD_KEY_USAGE.ARK, modulus: ark.n, pubExp: PUB_EXP, bits: ark.bits };
  const askFields = { keyId: askId, certifyingId: arkId, usage: AMD_KEY_USAGE.ASK, modulus: ask.n, pubExp: PUB_EXP, bits: ask.bits };
  root = {
    ark, ask, askKeyId: askId,
    arkCert: encodeAmdCert({ ...arkFields, signature: pssSign(ark, amdCertBody(arkFields)) }),
    askCert: encodeAmdCert({ ...askFields, signature: pssSign(ark, amdCertBody(askFields)) }),
  };
  ROOTS.set(generation, root);
  return root;
}
