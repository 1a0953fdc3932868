/** A running SNP guest on genoa-9004 and the verifier's side of SEV-SNP attestation, for the tests. */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { guestXml } from '../host/sev-guests.ts';

export const SNP_LOADER = '/usr/share/edk2/ovmf/OVMF.amdsev.fd';

/** nova's SNP guest: stateless OVMF, no <locked/>. */
export function snpGuestXml(name: string, opts: { vcpus?: number; policy?: string; launch?: string } = {}): string {
  return guestXml({
    name,
    vcpus: opts.vcpus ?? 2,
    memory: '',
    loader: `<loader readonly='yes' type='pflash' stateless='yes'>${SNP_LOADER}</loader>`,
    launchSecurity: `<launchSecurity type='sev-snp'${opts.launch ?? ''}><policy>${opts.policy ?? '0x30000'}</policy></launchSecurity>`,
  });
}

export function genoaWithSnpGuest(name = 'snp', opts: Parameters<typeof snpGuestXml>[1] = {}): FakeHost {
  const host = new FakeHost(loadProfile('genoa-9004'));
  host.create(host.defineXML(snpGuestXml(name, opts)));
  return host;
}

/** ASK then ARK, as /cert_chain returns them. */
export function splitPemChain(pem: string): x509.X509Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => new x509.X509Certificate(m[0]));
}

/**
 * The report's r and s (72-byte little-endian fields at 0x2A0 and 0x2E8) as IEEE P1363 r ‖ s, read
 * here rather than through the fake's own helper so the test checks the layout independently.
 */
export function p1363Of(report: Uint8Array): Uint8Array {
  const le = (off: number) => Uint8Array.from(report.subarray(off, off + 48)).reverse();
  const out = new Uint8Array(96);
  out.set(le(0x2a0), 0);
  out.set(le(0x2e8), 48);
  return out;
}

/** WebCrypto's verdict on the report's signature under the VCEK certificate's key. */
export async function reportVerifies(report: Uint8Array, vcek: x509.X509Certificate): Promise<boolean> {
  const key = await vcek.publicKey.export({ name: 'ECDSA', namedCurve: 'P-384' }, ['verify'], webcrypto as unknown as Crypto);
  return webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-384' }, key, p1363Of(report), report.subarray(0, 0x2a0));
}

/** Checks `cert` was signed by `issuer`'s key (RSA-PSS here), not only its names. */
export async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  return cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }, webcrypto as unknown as Crypto);
}
