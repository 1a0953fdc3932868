/**
 * Checking a platform's certificate chain as a guest owner does before trusting its PDH (the
 * rules of sevctl verify, sev-hardware.md §7.1): OCA self-signed; OCA → PEK; CEK → PEK; PEK → PDH;
 * and, when the AMD root is given, ARK self-signed → ASK → CEK. Each link is reported, so a tool
 * can print where a chain breaks.
 */
import { decodeAmdCert, rsaPublicKey } from './amd-root.ts';
import { CertUsage, SEV_CERT_SIZE, decodeSevCert, signerOf, verifySevCertBy } from './sev-cert.ts';
import { pssVerify } from './amd-root.ts';

export interface ChainInput {
  readonly pdh: Buffer;
  readonly pek: Buffer;
  readonly oca: Buffer;
  readonly cek: Buffer;
  readonly ask?: Buffer;
  readonly ark?: Buffer;
}

export interface ChainLink {
  /** "OCA -> PEK": the signer, then the certificate it signs. */
  readonly link: string;
  readonly ok: boolean;
}

/** Splits `PEK ‖ OCA ‖ CEK` (libvirt's `cert-chain`, PDH_CERT_EXPORT's chain) into its certificates. */
export function splitCertChain(chain: Buffer): { pek: Buffer; oca: Buffer; cek: Buffer } {
  if (chain.length !== 3 * SEV_CERT_SIZE) throw new RangeError(`cert chain must be ${3 * SEV_CERT_SIZE} bytes (PEK, OCA, CEK), got ${chain.length}`);
  const at = (i: number) => chain.subarray(i * SEV_CERT_SIZE, (i + 1) * SEV_CERT_SIZE);
  return { pek: at(0), oca: at(1), cek: at(2) };
}

function usageIs(cert: Buffer, usage: number): boolean {
  try {
    return decodeSevCert(cert).usage === usage;
  } catch {
    return false;
  }
}

export function verifyCertChain(c: ChainInput): ChainLink[] {
  const by = (signer: Buffer, subject: Buffer) => {
    try {
      return verifySevCertBy(subject, signerOf(signer));
    } catch {
      return false;
    }
  };
  const links: ChainLink[] = [
    { link: 'PDH usage', ok: usageIs(c.pdh, CertUsage.PDH) },
    { link: 'OCA -> OCA', ok: usageIs(c.oca, CertUsage.OCA) && by(c.oca, c.oca) },
    { link: 'OCA -> PEK', ok: usageIs(c.pek, CertUsage.PEK) && by(c.oca, c.pek) },
    { link: 'CEK -> PEK', ok: usageIs(c.cek, CertUsage.CEK) && by(c.cek, c.pek) },
    { link: 'PEK -> PDH', ok: by(c.pek, c.pdh) },
  ];
  if (c.ask && c.ark) {
    try {
      const ark = decodeAmdCert(c.ark);
      const ask = decodeAmdCert(c.ask);
      const arkKey = rsaPublicKey(ark.modulus, ark.pubExp);
      const askKey = rsaPublicKey(ask.modulus, ask.pubExp);
      links.push(
        { link: 'ARK -> ARK', ok: ark.usage === CertUsage.ARK && pssVerify(arkKey, ark.body, ark.signature) },
        { link: 'ARK -> ASK', ok: ask.usage === CertUsage.ASK && ask.certifyingId.equals(ark.keyId) && pssVerify(arkKey, ask.body, ask.signature) },
        { link: 'ASK -> CEK', ok: verifySevCertBy(c.cek, { kind: 'rsa', usage: CertUsage.ASK, key: askKey }) },
      );
    } catch {
      links.push({ link: 'ARK -> ASK -> CEK', ok: false });
    }
  }
  return links;
}
