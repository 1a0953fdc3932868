/**
 * SEV-SNP attestation end to end, the way a guest owner's verifier does it: a running SNP guest on
 * genoa-9004 asks its firmware for a report, the verifier fetches the VCEK for the report's chip and
 * TCB and the ASK/ARK chain from AMD's KDS (here the fake KDS through msw's setupServer and plain
 * fetch), checks the chain, then the report's signature and contents.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as x509 from '@peculiar/x509';
import { decodeReport, REPORT_SIZE } from '../../fakelibvirt/firmware/snp/attestation-report.ts';
import { snpLaunchMeasurement } from '../../fakelibvirt/firmware/snp/guest-measurement.ts';
import { SNP_REPORT_ERRORS, SnpGuestRequestError } from '../../fakelibvirt/firmware/snp/guest-request.ts';
import { decodeTcb, tcbQuery } from '../../fakelibvirt/firmware/snp/product.ts';
import { AMD_OID } from '../../fakelibvirt/kds/certificates.ts';
import { KDS_ERRORS, KDS_ORIGIN, kdsHandlers } from '../../fakelibvirt/kds/handlers.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { firmwareImageOf } from '../../fakelibvirt/qemu/sev-launch.ts';
import { platformIdentity } from '../../fakelibvirt/views/platform-identity.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { guestXml } from '../host/sev-guests.ts';
import { thrown } from '../support/thrown.ts';
import { genoaWithSnpGuest, reportVerifies, signedBy, SNP_LOADER, snpGuestXml, splitPemChain } from './support.ts';

const genoa = loadProfile('genoa-9004');
const host = genoaWithSnpGuest('snp', { vcpus: 2 });
// The KDS knows genoa's chip, and a Milan host's, so a product mix-up has a chip to miss.
const server = setupServer(...kdsHandlers([host, loadProfile('milan-7003-es8')]));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function fetchVcek(report: Buffer, query?: string): Promise<Response> {
  const r = decodeReport(report);
  const q = query ?? tcbQuery('zen3-4', decodeTcb('zen3-4', r.reportedTcb));
  return fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/${r.chipId.toString('hex')}?${q}`);
}

async function chain(product = 'Genoa'): Promise<{ ask: x509.X509Certificate; ark: x509.X509Certificate }> {
  const res = await fetch(`${KDS_ORIGIN}/vcek/v1/${product}/cert_chain`);
  expect(res.status).toBe(200);
  const [ask, ark] = splitPemChain(await res.text());
  return { ask: ask!, ark: ark! };
}

describe('SNP attestation report from a running genoa-9004 guest, verified against the fake KDS', () => {
  const reportData = randomBytes(64);
  const report = host.control.snpGuestReport('snp', reportData);

  it('VCEK (DER, octet-stream) chains to the ASK and ARK with RSA-PSS SHA-384; the report verifies with it', async () => {
    const res = await fetchVcek(report);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'application/octet-stream']);
    const vcek = new x509.X509Certificate(await res.arrayBuffer());
    const { ask, ark } = await chain();
    expect([await signedBy(ark, ark), await signedBy(ask, ark), await signedBy(vcek, ask)]).toEqual([true, true, true]);
    // The negative control: the VCEK does not verify under the ARK, nor the ASK under itself.
    expect([await signedBy(vcek, ark), await signedBy(ask, ask)]).toEqual([false, false]);
    expect(vcek.issuer).toBe(ask.subject);
    expect(ask.subject).toContain('CN=SEV-Genoa FAKE');
    expect(ark.subject).toContain('CN=ARK-Genoa FAKE');
    for (const c of [ark, ask, vcek]) {
      expect(c.signatureAlgorithm).toMatchObject({ name: 'RSA-PSS', saltLength: 48, hash: { name: 'SHA-384' } });
    }
    expect((ark.publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(4096);
    expect(vcek.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-384' });
    expect(await reportVerifies(report, vcek)).toBe(true);
  });

  it("carries AMD's VCEK extensions: hwID = CHIP_ID, SPLs = REPORTED_TCB, product name", async () => {
    const vcek = new x509.X509Certificate(await (await fetchVcek(report)).arrayBuffer());
    const ext = (oid: string) => Buffer.from(vcek.getExtension(oid)!.value);
    const r = decodeReport(report);
    expect(ext(AMD_OID.hwid).equals(r.chipId)).toBe(true);
    // DER INTEGERs: 02 01 vv, or 02 02 00 vv from 128 on.
    expect(ext(AMD_OID.blSpl).toString('hex')).toBe('02010a');
    expect(ext(AMD_OID.teeSpl).toString('hex')).toBe('020100');
    expect(ext(AMD_OID.snpSpl).toString('hex')).toBe('020117');
    expect(ext(AMD_OID.ucodeSpl).toString('hex')).toBe('020154');
    expect(ext(AMD_OID.productName).toString('latin1')).toBe('\x16\x05Genoa');
    expect(vcek.getExtension(AMD_OID.fmcSpl)).toBeNull();
  });

  it('echoes REPORT_DATA and reports the launch: policy, measurement, TCB, chip id, firmware version', () => {
    const r = decodeReport(report);
    expect(report.length).toBe(REPORT_SIZE);
    expect(r.reportData.equals(reportData)).toBe(true);
    expect(r.policy).toBe(0x30000n);
    expect([r.version, r.signatureAlgo, r.vmpl, r.guestSvn]).toEqual([2, 1, 0, 0]);
    expect(decodeTcb('zen3-4', r.reportedTcb)).toEqual({ bootloader: 10, tee: 0, snp: 23, microcode: 84 });
    expect([r.currentTcb, r.committedTcb, r.launchTcb].every((t) => t.equals(r.reportedTcb))).toBe(true);
    expect([r.currentMajor, r.currentMinor, r.currentBuild]).toEqual([1, 55, 24]);
    // The chip id is GET_ID's, the one nodesevinfo prints as cpu0-id.
    expect(r.chipId.equals(Buffer.from(platformIdentity(genoa).cpu0Id, 'base64'))).toBe(true);
    // SMT host; VCEK-signed; no migration agent.
    expect([r.platformInfo & 1n, (r.flags >> 2) & 7]).toEqual([1n, 0]);
    expect(r.reportIdMa.equals(Buffer.alloc(32, 0xff))).toBe(true);
    const firmware = firmwareImageOf(SNP_LOADER).bytes;
    expect(r.measurement.equals(snpLaunchMeasurement({ firmware, vcpus: 2, cpu: genoa.cpu }))).toBe(true);
    expect(r.measurement.equals(snpLaunchMeasurement({ firmware, vcpus: 1, cpu: genoa.cpu }))).toBe(false);
  });

  it('a tampered report fails: a measurement bit, the policy, REPORT_DATA, the signature', async () => {
    const vcek = new x509.X509Certificate(await (await fetchVcek(report)).arrayBuffer());
    for (const offset of [0x090, 0x008, 0x050, 0x2a0]) {
      const bad = Buffer.from(report);
      bad[offset]! ^= 0x01;
      expect(await reportVerifies(bad, vcek)).toBe(false);
    }
  });

  it('a VCEK fetched for another TCB is another key: the report does not verify with it', async () => {
    const right = new x509.X509Certificate(await (await fetchVcek(report)).arrayBuffer());
    const res = await fetchVcek(report, 'blSPL=10&teeSPL=0&snpSPL=22&ucodeSPL=84');
    expect(res.status).toBe(200);
    const wrong = new x509.X509Certificate(await res.arrayBuffer());
    expect(await signedBy(wrong, (await chain()).ask)).toBe(true);
    expect(Buffer.from(wrong.getExtension(AMD_OID.snpSpl)!.value).toString('hex')).toBe('020116');
    expect(Buffer.from(await wrong.publicKey.getThumbprint()).equals(Buffer.from(await right.publicKey.getThumbprint()))).toBe(false);
    expect(await reportVerifies(report, wrong)).toBe(false);
  });

  it('serves the ARK-signed CRL (DER), empty: no fake ASK is revoked', async () => {
    const res = await fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/crl`);
    expect(res.status).toBe(200);
    const crl = new x509.X509Crl(await res.arrayBuffer());
    const { ark, ask } = await chain();
    expect(crl.issuer).toBe(ark.subject);
    expect(crl.entries.length).toBe(0);
    expect([await crl.verify({ publicKey: ark.publicKey }, webcrypto as unknown as Crypto), await crl.verify({ publicKey: ask.publicKey }, webcrypto as unknown as Crypto)]).toEqual([true, false]);
  });

  it("keeps REPORT_ID for the guest's lifetime and signs every report afresh", async () => {
    const vcek = new x509.X509Certificate(await (await fetchVcek(report)).arrayBuffer());
    const again = host.control.snpGuestReport('snp', Buffer.alloc(64));
    expect(decodeReport(again).reportId.equals(decodeReport(report).reportId)).toBe(true);
    expect(await reportVerifies(again, vcek)).toBe(true);
    const other = genoaWithSnpGuest('snp');
    other.destroy(other.lookupByName('snp'));
    other.create(other.lookupByName('snp'));
    expect(decodeReport(other.control.snpGuestReport('snp', Buffer.alloc(64))).reportId.equals(decodeReport(report).reportId)).toBe(false);
  });
});

describe('the report follows the launch', () => {
  it('policy, vCPUs and firmware change the report; host data and the requested VMPL are carried', () => {
    const h = new FakeHost(genoa);
    h.create(h.defineXML(snpGuestXml('debug', { policy: '0x1b0000', vcpus: 4 })));
    const hostData = Buffer.alloc(32, 0x5a);
    const xml = snpGuestXml('hd', { vcpus: 1 }).replace('<policy>', `<hostData>${hostData.toString('base64')}</hostData><policy>`);
    h.create(h.defineXML(xml));
    const dbg = decodeReport(h.control.snpGuestReport('debug', Buffer.alloc(64), { vmpl: 2 }));
    expect([dbg.policy, dbg.vmpl]).toEqual([0x1b0000n, 2]);
    expect(dbg.measurement.equals(snpLaunchMeasurement({ firmware: firmwareImageOf(SNP_LOADER).bytes, vcpus: 4, cpu: genoa.cpu }))).toBe(true);
    const hd = decodeReport(h.control.snpGuestReport('hd', Buffer.alloc(64)));
    expect(hd.hostData.equals(hostData)).toBe(true);
    // No ID block: zero IDs and key digests, AUTHOR_KEY_EN clear.
    expect([hd.familyId, hd.imageId, hd.idKeyDigest, hd.authorKeyDigest].every((b) => b.every((x) => x === 0))).toBe(true);
    expect([hd.guestSvn, hd.flags & 1]).toEqual([0, 0]);
    expect(snpLaunchMeasurement({ firmware: firmwareImageOf('/usr/share/edk2/ovmf/OVMF_CODE.fd').bytes, vcpus: 1, cpu: genoa.cpu }).equals(hd.measurement)).toBe(false);
  });
});

describe('SNP_GUEST_REQUEST is refused outside a running SNP guest', () => {
  const refused = (h: FakeHost, name: string, data: Uint8Array = Buffer.alloc(64), vmpl?: number) =>
    thrown(SnpGuestRequestError, () => h.control.snpGuestReport(name, data, vmpl === undefined ? {} : { vmpl })).message;

  it('an SEV guest, a stopped SNP guest, a paused one; bad REPORT_DATA or VMPL; vcek=no', () => {
    const h = new FakeHost(genoa);
    h.create(h.defineXML(guestXml({ name: 'sev', launchSecurity: "<launchSecurity type='sev'><policy>0x0033</policy></launchSecurity>" })));
    expect(refused(h, 'sev')).toBe(SNP_REPORT_ERRORS.notSnp('sev'));
    h.defineXML(snpGuestXml('off'));
    expect(refused(h, 'off')).toBe(SNP_REPORT_ERRORS.notRunning('off'));
    h.create(h.lookupByName('off'));
    h.suspend(h.lookupByName('off'));
    expect(refused(h, 'off')).toBe(SNP_REPORT_ERRORS.paused('off'));
    h.resume(h.lookupByName('off'));
    expect(refused(h, 'off', Buffer.alloc(63))).toBe(SNP_REPORT_ERRORS.reportDataSize(63));
    expect(refused(h, 'off', Buffer.alloc(64), 4)).toBe(SNP_REPORT_ERRORS.vmpl(4));
    h.create(h.defineXML(snpGuestXml('novcek', { launch: " vcek='no'" })));
    expect(refused(h, 'novcek')).toBe(SNP_REPORT_ERRORS.vcekDisabled('novcek'));
    expect(h.control.snpGuestReport('off', Buffer.alloc(64)).length).toBe(REPORT_SIZE);
  });
});

describe('fake KDS errors', () => {
  const hwid = decodeReport(host.control.snpGuestReport('snp', Buffer.alloc(64))).chipId.toString('hex');
  const q = 'blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=84';
  it.each([
    ['an unknown product', `/vcek/v1/Rome/${hwid}?${q}`, 404, KDS_ERRORS.unknownProduct('Rome')],
    ['an unknown chip', `/vcek/v1/Genoa/${'0'.repeat(128)}?${q}`, 404, KDS_ERRORS.unknownHwid('Genoa')],
    ["genoa's chip under Milan", `/vcek/v1/Milan/${hwid}?${q}`, 404, KDS_ERRORS.unknownHwid('Milan')],
    ['a short hwid', `/vcek/v1/Genoa/${hwid.slice(2)}?${q}`, 400, KDS_ERRORS.badHwid('Genoa', 64)],
    ['a Turin-length hwid on Turin without fmcSPL', `/vcek/v1/Turin/${hwid.slice(0, 16)}?${q}`, 400, KDS_ERRORS.badQuery(['fmcSPL', 'blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL'])],
    ['a missing SPL', `/vcek/v1/Genoa/${hwid}?blSPL=10&teeSPL=0&snpSPL=23`, 400, KDS_ERRORS.badQuery(['blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL'])],
    ['a non-numeric SPL', `/vcek/v1/Genoa/${hwid}?blSPL=x&teeSPL=0&snpSPL=23&ucodeSPL=84`, 400, KDS_ERRORS.badQuery(['blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL'])],
    ['an SPL out of range', `/vcek/v1/Genoa/${hwid}?blSPL=10&teeSPL=0&snpSPL=128&ucodeSPL=84`, 400, KDS_ERRORS.splRange('snpSPL', 127)],
    ['an unknown product chain', '/vcek/v1/Naples/cert_chain', 404, KDS_ERRORS.unknownProduct('Naples')],
  ])('%s', async (_what, path, status, message) => {
    const res = await fetch(`${KDS_ORIGIN}${path}`);
    expect([res.status, (await res.text()).trim()]).toEqual([status, message]);
  });

  it('accepts upper-case hex and zero-padded SPLs (snpguest pads to two digits)', async () => {
    const res = await fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/${hwid.toUpperCase()}?blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=84`);
    expect(res.status).toBe(200);
  });

  it('an override answers first, the msw way', async () => {
    const { http, HttpResponse } = await import('msw');
    server.use(http.get(`${KDS_ORIGIN}/vcek/v1/Genoa/cert_chain`, () => new HttpResponse(null, { status: 503 })));
    expect((await fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/cert_chain`)).status).toBe(503);
    server.resetHandlers();
    expect((await fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/cert_chain`)).status).toBe(200);
  });
});
