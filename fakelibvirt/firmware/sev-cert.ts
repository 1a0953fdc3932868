/**
 * The SEV certificate v1 format (0x824 bytes, little-endian; sev-attestation.md "Certificates"):
 * encoding, decoding, signing a certificate's body and checking each signature slot. The body that
 * signatures cover is everything before the first slot (header and key area, 0x414 bytes).
 */
import { createHash } from 'node:crypto';
import { pssSign, pssVerify, type RsaKey } from './amd-root.ts';
import { P384_BYTES, ecdsaSign, ecdsaVerify, type EcKeyPair } from './ecc-p384.ts';
import type { KeyObject } from 'node:crypto';

export const CertUsage = { ARK: 0x0000, ASK: 0x0013, INVALID: 0x1000, OCA: 0x1001, PEK: 0x1002, PDH: 0x1003, CEK: 0x1004 } as const;
export const CertAlgo = { INVALID: 0, RSA_SHA256: 1, ECDSA_SHA256: 2, ECDH_SHA256: 3, RSA_SHA384: 0x101, ECDSA_SHA384: 0x102, ECDH_SHA384: 0x103 } as const;
export const CURVE_P384 = 2;

export const SEV_CERT_SIZE = 0x824;
export const SEV_CERT_BODY_SIZE = 0x414;
const KEY_OFFSET = 16;
/** ECC coordinates sit in 72-byte little-endian fields; P-384 fills 48 bytes of each. */
const ECC_FIELD = 72;
const SIG_SLOT = 8 + 512;

export interface SevSignature {
  readonly usage: number;
  readonly algo: number;
  /** ECDSA: r ‖ s big-endian (48 bytes each); RSA: the big-endian signature. Empty when unused. */
  readonly value: Buffer;
}

export interface SevCert {
  readonly version: number;
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly usage: number;
  readonly algo: number;
  readonly curve: number;
  /** Public point, big-endian. */
  readonly qx: Buffer;
  readonly qy: Buffer;
  readonly sigs: readonly [SevSignature, SevSignature];
}

export const NO_SIGNATURE: SevSignature = { usage: CertUsage.INVALID, algo: CertAlgo.INVALID, value: Buffer.alloc(0) };

const rev = (b: Buffer) => Buffer.from(b).reverse();

function writeLe(buf: Buffer, off: number, be: Buffer): void {
  rev(be).copy(buf, off);
}

export function encodeSevCert(c: SevCert): Buffer {
  const buf = Buffer.alloc(SEV_CERT_SIZE);
  buf.writeUInt32LE(c.version, 0);
  buf.writeUInt8(c.apiMajor, 4);
  buf.writeUInt8(c.apiMinor, 5);
  buf.writeUInt32LE(c.usage, 8);
  buf.writeUInt32LE(c.algo, 12);
  buf.writeUInt32LE(c.curve, KEY_OFFSET);
  writeLe(buf, KEY_OFFSET + 4, c.qx);
  writeLe(buf, KEY_OFFSET + 4 + ECC_FIELD, c.qy);
  c.sigs.forEach((s, i) => {
    const off = SEV_CERT_BODY_SIZE + i * SIG_SLOT;
    buf.writeUInt32LE(s.usage, off);
    buf.writeUInt32LE(s.algo, off + 4);
    if (s.value.length === 0) return;
    if (isEcdsa(s.algo)) {
      writeLe(buf, off + 8, s.value.subarray(0, P384_BYTES));
      writeLe(buf, off + 8 + ECC_FIELD, s.value.subarray(P384_BYTES));
    } else {
      writeLe(buf, off + 8, s.value);
    }
  });
  return buf;
}

const isEcdsa = (algo: number) => algo === CertAlgo.ECDSA_SHA256 || algo === CertAlgo.ECDSA_SHA384;
const isRsa = (algo: number) => algo === CertAlgo.RSA_SHA256 || algo === CertAlgo.RSA_SHA384;

/** Decodes one certificate; throws RangeError when the buffer is too short. */
export function decodeSevCert(buf: Buffer): SevCert {
  if (buf.length < SEV_CERT_SIZE) throw new RangeError(`SEV certificate needs ${SEV_CERT_SIZE} bytes (got ${buf.length})`);
  const field = (off: number, len: number) => rev(buf.subarray(off, off + len));
  const sig = (i: number): SevSignature => {
    const off = SEV_CERT_BODY_SIZE + i * SIG_SLOT;
    const algo = buf.readUInt32LE(off + 4);
    const usage = buf.readUInt32LE(off);
    let value: Buffer = Buffer.alloc(0);
    if (isEcdsa(algo)) value = Buffer.concat([field(off + 8, P384_BYTES), field(off + 8 + ECC_FIELD, P384_BYTES)]);
    else if (isRsa(algo)) value = stripLeadingZeros(field(off + 8, 512));
    return { usage, algo, value };
  };
  return {
    version: buf.readUInt32LE(0), apiMajor: buf[4]!, apiMinor: buf[5]!,
    usage: buf.readUInt32LE(8), algo: buf.readUInt32LE(12), curve: buf.readUInt32LE(KEY_OFFSET),
    qx: field(KEY_OFFSET + 4, P384_BYTES), qy: field(KEY_OFFSET + 4 + ECC_FIELD, P384_BYTES),
    sigs: [sig(0), sig(1)],
  };
}

/** An RSA signature is as long as the modulus; the 512-byte slot pads it with zeros at the top. */
function stripLeadingZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 256 && b[i] === 0) i++;
  return b.subarray(i);
}

export const sevCertBody = (cert: Buffer) => cert.subarray(0, SEV_CERT_BODY_SIZE);

const hashOf = (algo: number) => (algo === CertAlgo.ECDSA_SHA384 || algo === CertAlgo.RSA_SHA384 ? 'sha384' : 'sha256');

/** A signature slot filled by an ECDSA signer over the certificate body. */
export function ecdsaSignature(signer: EcKeyPair, usage: number, body: Buffer, algo: number = CertAlgo.ECDSA_SHA256): SevSignature {
  const sig = ecdsaSign(signer, createHash(hashOf(algo)).update(body).digest());
  return { usage, algo, value: Buffer.concat([sig.r, sig.s]) };
}

export function rsaSignature(signer: RsaKey, usage: number, body: Buffer, algo: number = CertAlgo.RSA_SHA384): SevSignature {
  return { usage, algo, value: pssSign(signer, body, hashOf(algo)) };
}

/** Builds a certificate: its body first, then each signer signs that body. */
export function issueSevCert(
  fields: Omit<SevCert, 'sigs'>,
  signers: readonly ((body: Buffer) => SevSignature)[],
): Buffer {
  const body = sevCertBody(encodeSevCert({ ...fields, sigs: [NO_SIGNATURE, NO_SIGNATURE] }));
  const sigs = [0, 1].map((i) => signers[i]?.(body) ?? NO_SIGNATURE) as [SevSignature, SevSignature];
  return encodeSevCert({ ...fields, sigs });
}

/** The key that checks a signature: another SEV certificate (ECDSA) or an RSA key (the ASK). */
export type SignerKey = { readonly kind: 'ec'; readonly usage: number; readonly qx: Buffer; readonly qy: Buffer } | { readonly kind: 'rsa'; readonly usage: number; readonly key: KeyObject };

export function signerOf(certBytes: Buffer): SignerKey {
  const c = decodeSevCert(certBytes);
  return { kind: 'ec', usage: c.usage, qx: c.qx, qy: c.qy };
}

/** True when one of the certificate's slots names the signer's usage and verifies under its key. */
export function verifySevCertBy(cert: Buffer, signer: SignerKey): boolean {
  const c = decodeSevCert(cert);
  const body = sevCertBody(cert);
  return c.sigs.some((s) => {
    if (s.usage !== signer.usage || s.value.length === 0) return false;
    if (signer.kind === 'ec' && isEcdsa(s.algo)) {
      return ecdsaVerify(signer.qx, signer.qy, hashOf(s.algo), body, { r: s.value.subarray(0, P384_BYTES), s: s.value.subarray(P384_BYTES) });
    }
    if (signer.kind === 'rsa' && isRsa(s.algo)) return pssVerify(signer.key, body, s.value, hashOf(s.algo));
    return false;
  });
}
