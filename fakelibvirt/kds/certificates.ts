/**
 * The certificates a fake AMD Key Distribution Service hands out: per product a self-signed ARK and
 * an ASK it signs (RSA-4096, RSASSA-PSS with SHA-384 and a 48-byte salt, as AMD's), and per chip and
 * TCB the VCEK certificate the ASK signs, carrying AMD's VCEK extensions (VCEK/KDS interface
 * specification 57230, as go-sev-guest's `kds` package and snpguest read them):
 *   1.3.6.1.4.1.3704.1.1 structVersion (INTEGER), .1.2 productName (IA5String),
 *   .1.3.1 blSPL, .1.3.2 teeSPL, .1.3.3 snpSPL, .1.3.4–.7 reserved SPLs (not on Turin),
 *   .1.3.8 ucodeSPL, .1.3.9 fmcSPL (Turin) — each a DER INTEGER — and .1.4 hwID, the raw chip id
 *   bytes without an OCTET STRING tag, as the real KDS writes it.
 * The ARK and ASK keys are fixed fakes (keys/*.fake.pem) whose names say FAKE; nothing here chains
 * to AMD's real roots.
 */
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API at import.
import 'reflect-metadata';
import { createPublicKey, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import type { SnpChip } from '../firmware/snp/vcek.ts';
import { vcekKeyPair } from '../firmware/snp/vcek.ts';
import type { KdsProduct, TcbVersion } from '../firmware/snp/product.ts';
import { packageFile } from '../../src/fs/package-files.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const subtle = webcrypto.subtle;

export const AMD_OID = {
  structVersion: '1.3.6.1.4.1.3704.1.1',
  productName: '1.3.6.1.4.1.3704.1.2',
  blSpl: '1.3.6.1.4.1.3704.1.3.1',
  teeSpl: '1.3.6.1.4.1.3704.1.3.2',
  snpSpl: '1.3.6.1.4.1.3704.1.3.3',
  spl4: '1.3.6.1.4.1.3704.1.3.4',
  spl5: '1.3.6.1.4.1.3704.1.3.5',
  spl6: '1.3.6.1.4.1.3704.1.3.6',
  spl7: '1.3.6.1.4.1.3704.1.3.7',
  ucodeSpl: '1.3.6.1.4.1.3704.1.3.8',
  fmcSpl: '1.3.6.1.4.1.3704.1.3.9',
  hwid: '1.3.6.1.4.1.3704.1.4',
} as const;

/** AMD's ARK/ASK/VCEK signature: RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48. */
const RSA_PSS = { name: 'RSA-PSS', hash: 'SHA-384' } as const;
const PSS_SALT = 48;

/** AMD's names with the organisation replaced, so no one takes these for AMD's. */
const dn = (cn: string) => `OU=Engineering, C=US, L=Santa Clara, ST=CA, O=sevharness FAKE (not AMD), CN=${cn}`;
const ROOT_VALIDITY = { notBefore: new Date('2020-10-22T17:23:05Z'), notAfter: new Date('2045-10-22T17:23:05Z') };
const VCEK_VALIDITY = { notBefore: new Date('2023-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z') };

const keyFile = (role: 'ark' | 'ask', product: KdsProduct) =>
  readFileSync(packageFile('fakelibvirt', 'kds', 'keys', `${role}-${product.toLowerCase()}.fake.pem`), 'utf8');

async function rsaKeys(role: 'ark' | 'ask', product: KdsProduct): Promise<CryptoKeyPair> {
  const pem = keyFile(role, product);
  const pkcs8 = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return {
    privateKey: await subtle.importKey('pkcs8', pkcs8, RSA_PSS, false, ['sign']),
    publicKey: await subtle.importKey('spki', spki, RSA_PSS, true, ['verify']),
  };
}

export interface ProductRoots {
  readonly ark: x509.X509Certificate;
  readonly ask: x509.X509Certificate;
  readonly askKey: CryptoKey;
  /** `/crl`: the ARK's revocation list, empty (no fake ASK was ever revoked). */
  readonly crl: x509.X509Crl;
}

const ROOTS = new Map<KdsProduct, Promise<ProductRoots>>();

async function makeRoots(product: KdsProduct): Promise<ProductRoots> {
  const arkKeys = await rsaKeys('ark', product);
  const askKeys = await rsaKeys('ask', product);
  const ca = (pathLength?: number) => [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const crlDp = new x509.CRLDistributionPointsExtension([`https://kdsintf.amd.com/vcek/v1/${product}/crl`]);
  const ark = await x509.X509CertificateGenerator.create({
    serialNumber: '010000',
    subject: dn(`ARK-${product} FAKE`),
    issuer: dn(`ARK-${product} FAKE`),
    ...ROOT_VALIDITY,
    publicKey: arkKeys.publicKey,
    signingKey: arkKeys.privateKey,
    signingAlgorithm: { ...RSA_PSS, saltLength: PSS_SALT } as Algorithm,
    extensions: [...ca(), await x509.SubjectKeyIdentifierExtension.create(arkKeys.publicKey), crlDp],
  });
  const ask = await x509.X509CertificateGenerator.create({
    serialNumber: '010001',
    subject: dn(`SEV-${product} FAKE`),
    issuer: ark.subject,
    ...ROOT_VALIDITY,
    publicKey: askKeys.publicKey,
    signingKey: arkKeys.privateKey,
    signingAlgorithm: { ...RSA_PSS, saltLength: PSS_SALT } as Algorithm,
    extensions: [
      ...ca(0),
      await x509.SubjectKeyIdentifierExtension.create(askKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(arkKeys.publicKey),
      crlDp,
    ],
  });
  const crl = await x509.X509CrlGenerator.create({
    issuer: ark.subject,
    thisUpdate: ROOT_VALIDITY.notBefore,
    nextUpdate: ROOT_VALIDITY.notAfter,
    signingKey: arkKeys.privateKey,
    signingAlgorithm: { ...RSA_PSS, saltLength: PSS_SALT } as Algorithm,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(arkKeys.publicKey)],
  });
  return { ark, ask, askKey: askKeys.privateKey, crl };
}

/** The product's ARK and ASK, made once per process (RSA-PSS signatures are salted). */
export function productRoots(product: KdsProduct): Promise<ProductRoots> {
  let p = ROOTS.get(product);
  if (!p) {
    p = makeRoots(product);
    ROOTS.set(product, p);
  }
  return p;
}

/** `/vcek/v1/{product}/cert_chain`: ASK then ARK, PEM. */
export async function certChainPem(product: KdsProduct): Promise<string> {
  const { ark, ask } = await productRoots(product);
  return `${ask.toString('pem')}\n${ark.toString('pem')}\n`;
}

/** DER INTEGER of a small non-negative number. */
function derInteger(n: number): ArrayBuffer {
  const body = n >= 0x80 ? [0x00, n] : [n];
  return new Uint8Array([0x02, body.length, ...body]).buffer;
}

function derIa5(text: string): ArrayBuffer {
  const b = Buffer.from(text, 'ascii');
  return new Uint8Array([0x16, b.length, ...b]).buffer;
}

function vcekExtensions(chip: SnpChip, tcb: TcbVersion, stepping: number): x509.Extension[] {
  const turin = chip.product.tcbLayout === 'turin';
  const ext = (oid: string, value: ArrayBuffer) => new x509.Extension(oid, false, value);
  const spls: [string, number][] = [
    [AMD_OID.blSpl, tcb.bootloader],
    [AMD_OID.teeSpl, tcb.tee],
    [AMD_OID.snpSpl, tcb.snp],
    ...(turin ? [] : ([[AMD_OID.spl4, 0]] as [string, number][])),
    [AMD_OID.spl5, 0],
    [AMD_OID.spl6, 0],
    [AMD_OID.spl7, 0],
    [AMD_OID.ucodeSpl, tcb.microcode],
    ...(turin ? ([[AMD_OID.fmcSpl, tcb.fmc ?? 0]] as [string, number][]) : []),
  ];
  const hwid = chip.chipId.subarray(0, chip.product.hwidBytes);
  return [
    // structVersion 1 on every product [inference: go-sev-guest reads it, no product-specific value found].
    ext(AMD_OID.structVersion, derInteger(1)),
    ext(AMD_OID.productName, derIa5(chip.product.productName(stepping))),
    ...spls.map(([oid, v]) => ext(oid, derInteger(v))),
    ext(AMD_OID.hwid, new Uint8Array(hwid).buffer),
  ];
}

/** The VCEK certificate (DER) of `chip` at `tcb`, signed by its product's ASK. */
export async function vcekCertificate(chip: SnpChip, tcb: TcbVersion, stepping: number): Promise<ArrayBuffer> {
  const { ask, askKey } = await productRoots(chip.product.kds);
  const spki = vcekKeyPair(chip, tcb).publicKey.export({ type: 'spki', format: 'der' });
  const publicKey = await subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-384' }, true, ['verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '00',
    subject: dn('SEV-VCEK'),
    issuer: ask.subject,
    ...VCEK_VALIDITY,
    publicKey,
    signingKey: askKey,
    signingAlgorithm: { ...RSA_PSS, saltLength: PSS_SALT } as Algorithm,
    extensions: vcekExtensions(chip, tcb, stepping),
  });
  return cert.rawData;
}
