/**
 * The platform's SEV identity as PDH_CERT_EXPORT and GET_ID would return it: a PDH and the
 * [PEK, OCA, CEK] chain in the SEV certificate v1 layout (sev-hardware.md §7.1), and the chip id.
 * Keys and signatures are pseudo-random bytes from SHA-256 seeded with the host UUID, so every
 * profile has a stable, structurally valid identity; they do not verify cryptographically.
 */
import { createHash } from 'node:crypto';
import type { HardwareProfile } from '../profile/schema.ts';

export const CertUsage = { ARK: 0x0000, ASK: 0x0013, INVALID: 0x1000, OCA: 0x1001, PEK: 0x1002, PDH: 0x1003, CEK: 0x1004 } as const;
export const CertAlgo = { INVALID: 0, RSA_SHA256: 1, ECDSA_SHA256: 2, ECDH_SHA256: 3, RSA_SHA384: 0x101 } as const;
const CURVE_P384 = 2;

export const SEV_CERT_SIZE = 2084;
const PUBKEY_SIZE = 1028;
const SIG_SIZE = 512;
/** ECC components are little-endian in 72-byte fields; P-384 fills 48 of them. */
const ECC_FIELD = 72;
const P384_BYTES = 48;

/** Deterministic byte stream: SHA-256(seed ‖ label ‖ counter) blocks. */
export function seededBytes(seed: string, label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let off = 0, i = 0; off < length; i++) {
    const block = createHash('sha256').update(`${seed}\0${label}\0${i}`).digest();
    off += block.copy(out, off);
  }
  return out;
}

interface Signature {
  readonly usage: number;
  readonly algo: number;
}

interface CertSpec {
  readonly usage: number;
  readonly algo: number;
  readonly sig1: Signature;
  readonly sig2: Signature;
}

const NO_SIG: Signature = { usage: CertUsage.INVALID, algo: CertAlgo.INVALID };

/** Who signs whom: OCA self-signed; PEK by OCA and CEK; PDH by PEK; CEK by the ASK (RSA). */
const CERTS: Record<'pdh' | 'pek' | 'oca' | 'cek', CertSpec> = {
  pdh: { usage: CertUsage.PDH, algo: CertAlgo.ECDH_SHA256, sig1: { usage: CertUsage.PEK, algo: CertAlgo.ECDSA_SHA256 }, sig2: NO_SIG },
  pek: {
    usage: CertUsage.PEK,
    algo: CertAlgo.ECDSA_SHA256,
    sig1: { usage: CertUsage.OCA, algo: CertAlgo.ECDSA_SHA256 },
    sig2: { usage: CertUsage.CEK, algo: CertAlgo.ECDSA_SHA256 },
  },
  oca: { usage: CertUsage.OCA, algo: CertAlgo.ECDSA_SHA256, sig1: { usage: CertUsage.OCA, algo: CertAlgo.ECDSA_SHA256 }, sig2: NO_SIG },
  cek: { usage: CertUsage.CEK, algo: CertAlgo.ECDSA_SHA256, sig1: { usage: CertUsage.ASK, algo: CertAlgo.RSA_SHA384 }, sig2: NO_SIG },
};

function writeSignature(buf: Buffer, off: number, sig: Signature, seed: string, label: string): void {
  buf.writeUInt32LE(sig.usage, off);
  buf.writeUInt32LE(sig.algo, off + 4);
  if (sig.usage === CertUsage.INVALID) return;
  const body = off + 8;
  if (sig.algo === CertAlgo.ECDSA_SHA256) {
    seededBytes(seed, `${label}/r`, P384_BYTES).copy(buf, body);
    seededBytes(seed, `${label}/s`, P384_BYTES).copy(buf, body + ECC_FIELD);
  } else {
    seededBytes(seed, label, SIG_SIZE).copy(buf, body);
  }
}

/** One SEV v1 certificate (2084 bytes, little-endian). */
export function buildSevCert(name: keyof typeof CERTS, seed: string, apiMajor: number, apiMinor: number): Buffer {
  const spec = CERTS[name];
  const buf = Buffer.alloc(SEV_CERT_SIZE);
  buf.writeUInt32LE(1, 0);
  buf.writeUInt8(apiMajor, 4);
  buf.writeUInt8(apiMinor, 5);
  buf.writeUInt32LE(spec.usage, 8);
  buf.writeUInt32LE(spec.algo, 12);
  const key = 16;
  buf.writeUInt32LE(CURVE_P384, key);
  seededBytes(seed, `${name}/qx`, P384_BYTES).copy(buf, key + 4);
  seededBytes(seed, `${name}/qy`, P384_BYTES).copy(buf, key + 4 + ECC_FIELD);
  const sigs = key + PUBKEY_SIZE;
  writeSignature(buf, sigs, spec.sig1, seed, `${name}/sig1`);
  writeSignature(buf, sigs + 8 + SIG_SIZE, spec.sig2, seed, `${name}/sig2`);
  return buf;
}

export interface PlatformIdentity {
  /** base64 of the PDH certificate. */
  readonly pdh: string;
  /** base64 of PEK ‖ OCA ‖ CEK, the order PDH_CERT_EXPORT returns. */
  readonly certChain: string;
  /** base64 of GET_ID's chip id: 64 bytes, but 8 on Turin (the KDS hwid length). */
  readonly cpu0Id: string;
}

export function platformIdentity(profile: HardwareProfile): PlatformIdentity {
  const seed = profile.libvirt.hostUuid;
  const major = profile.firmware?.apiMajor ?? 0;
  const minor = profile.firmware?.apiMinor ?? 0;
  const cert = (n: keyof typeof CERTS) => buildSevCert(n, seed, major, minor);
  const idLength = profile.generation === 'turin' ? 8 : 64;
  return {
    pdh: cert('pdh').toString('base64'),
    certChain: Buffer.concat([cert('pek'), cert('oca'), cert('cek')]).toString('base64'),
    cpu0Id: seededBytes(seed, 'cpu0-id', idLength).toString('base64'),
  };
}
