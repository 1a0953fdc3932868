/**
 * The platform's SEV identity as PDH_CERT_EXPORT and GET_ID return it: the PDH and the
 * [PEK, OCA, CEK] chain in the SEV certificate v1 layout (sev-attestation.md "Certificates"), the
 * fake AMD root (ASK, ARK) the CEK chains to, and the chip id. Keys are real P-384 key pairs derived
 * from the host UUID, so the chain verifies, a guest owner can do ECDH with the PDH, and every run
 * exports the same bytes. Built on first use per host and kept (~30 ms with the fake root's key).
 */
import { createHash } from 'node:crypto';
import { fakeAmdRoot } from '../firmware/amd-root.ts';
import { deriveKeyPair, type EcKeyPair } from '../firmware/ecc-p384.ts';
import { CURVE_P384, CertAlgo, CertUsage, ecdsaSignature, issueSevCert, rsaSignature } from '../firmware/sev-cert.ts';
import type { HardwareProfile } from '../profile/schema.ts';

export { CertAlgo, CertUsage, SEV_CERT_SIZE } from '../firmware/sev-cert.ts';

/** Deterministic byte stream: SHA-256(seed ‖ label ‖ counter) blocks. */
export function seededBytes(seed: string, label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let off = 0, i = 0; off < length; i++) {
    const block = createHash('sha256').update(`${seed}\0${label}\0${i}`).digest();
    off += block.copy(out, off);
  }
  return out;
}

export interface PlatformIdentity {
  /** base64 of the PDH certificate. */
  readonly pdh: string;
  /** base64 of PEK ‖ OCA ‖ CEK, the order PDH_CERT_EXPORT returns. */
  readonly certChain: string;
  /** base64 of GET_ID's chip id: 64 bytes, but 8 on Turin (the KDS hwid length). */
  readonly cpu0Id: string;
}

/** What the firmware itself holds: the private keys behind the exported certificates. */
export interface PlatformKeys {
  readonly pdh: EcKeyPair;
  readonly pek: EcKeyPair;
  readonly oca: EcKeyPair;
  readonly cek: EcKeyPair;
}

/** Every certificate of the platform's chains, raw bytes. */
export interface PlatformCertificates {
  readonly pdh: Buffer;
  readonly pek: Buffer;
  readonly oca: Buffer;
  readonly cek: Buffer;
  /** AMD's format (the fake root), as `sevctl export --full` would add them. */
  readonly ask: Buffer;
  readonly ark: Buffer;
}

const KEYS = new Map<string, PlatformKeys>();
const CERTS = new Map<string, PlatformCertificates>();

const hostKey = (profile: HardwareProfile) => `${profile.name}\0${profile.libvirt.hostUuid}`;

export function platformKeys(profile: HardwareProfile): PlatformKeys {
  const k = hostKey(profile);
  let keys = KEYS.get(k);
  if (!keys) {
    const seed = profile.libvirt.hostUuid;
    keys = { pdh: deriveKeyPair(seed, 'PDH'), pek: deriveKeyPair(seed, 'PEK'), oca: deriveKeyPair(seed, 'OCA'), cek: deriveKeyPair(seed, 'CEK') };
    KEYS.set(k, keys);
  }
  return keys;
}

export function platformCertificates(profile: HardwareProfile): PlatformCertificates {
  const k = hostKey(profile);
  const cached = CERTS.get(k);
  if (cached) return cached;
  const keys = platformKeys(profile);
  const root = fakeAmdRoot(profile.generation);
  const apiMajor = profile.firmware?.apiMajor ?? 0;
  const apiMinor = profile.firmware?.apiMinor ?? 0;
  const fields = (usage: number, algo: number, key: EcKeyPair) => ({ version: 1, apiMajor, apiMinor, usage, algo, curve: CURVE_P384, qx: key.x, qy: key.y });
  const certs: PlatformCertificates = {
    // The OCA signs itself: this platform is owned by no one, so it self-certifies its owner key.
    oca: issueSevCert(fields(CertUsage.OCA, CertAlgo.ECDSA_SHA256, keys.oca), [(b) => ecdsaSignature(keys.oca, CertUsage.OCA, b)]),
    pek: issueSevCert(fields(CertUsage.PEK, CertAlgo.ECDSA_SHA256, keys.pek), [
      (b) => ecdsaSignature(keys.oca, CertUsage.OCA, b),
      (b) => ecdsaSignature(keys.cek, CertUsage.CEK, b),
    ]),
    pdh: issueSevCert(fields(CertUsage.PDH, CertAlgo.ECDH_SHA256, keys.pdh), [(b) => ecdsaSignature(keys.pek, CertUsage.PEK, b)]),
    cek: issueSevCert(fields(CertUsage.CEK, CertAlgo.ECDSA_SHA256, keys.cek), [(b) => rsaSignature(root.ask, CertUsage.ASK, b)]),
    ask: root.askCert,
    ark: root.arkCert,
  };
  CERTS.set(k, certs);
  return certs;
}

/**
 * The exported identity. `pdh` needs only the P-384 keys; `certChain` builds the CEK's signature
 * with the fake ASK, so it is computed when first read.
 */
export function platformIdentity(profile: HardwareProfile): PlatformIdentity {
  const seed = profile.libvirt.hostUuid;
  const idLength = profile.generation === 'turin' ? 8 : 64;
  const cpu0Id = seededBytes(seed, 'cpu0-id', idLength).toString('base64');
  return {
    get pdh() {
      return pdhOnly(profile).toString('base64');
    },
    get certChain() {
      const c = platformCertificates(profile);
      return Buffer.concat([c.pek, c.oca, c.cek]).toString('base64');
    },
    cpu0Id,
  };
}

const PDHS = new Map<string, Buffer>();

/** The PDH certificate without building the rest of the chain (it needs no RSA). */
function pdhOnly(profile: HardwareProfile): Buffer {
  const k = hostKey(profile);
  const done = CERTS.get(k)?.pdh ?? PDHS.get(k);
  if (done) return done;
  const keys = platformKeys(profile);
  const apiMajor = profile.firmware?.apiMajor ?? 0;
  const apiMinor = profile.firmware?.apiMinor ?? 0;
  const pdh = issueSevCert(
    { version: 1, apiMajor, apiMinor, usage: CertUsage.PDH, algo: CertAlgo.ECDH_SHA256, curve: CURVE_P384, qx: keys.pdh.x, qy: keys.pdh.y },
    [(b) => ecdsaSignature(keys.pek, CertUsage.PEK, b)],
  );
  PDHS.set(k, pdh);
  return pdh;
}
