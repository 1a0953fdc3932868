/**
 * The pieces under the report, each against facts written out by hand here: the ATTESTATION_REPORT
 * offsets (SNP ABI 56860, as virtee/sev's struct and the Linux/libkrun C structs lay them out), the
 * PAGE_INFO chain of the SNP launch digest, TCB_VERSION layouts, and a Turin chip's report and KDS
 * certificate (8-byte hwid, FMC SPL, report version 3).
 */
import 'reflect-metadata';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { setupServer } from 'msw/node';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReport, encodeReport, REPORT_LAYOUT, REPORT_SIZE, reportSignatureP1363, SIGNED_LENGTH, signReport, type AttestationReport } from '../../fakelibvirt/firmware/snp/attestation-report.ts';
import { snpGuestReport } from '../../fakelibvirt/firmware/snp/guest-request.ts';
import { SnpLaunchDigest, SnpPageType } from '../../fakelibvirt/firmware/snp/launch-digest.ts';
import { snpLaunchMeasurement, snpVmsa } from '../../fakelibvirt/firmware/snp/guest-measurement.ts';
import { OVMF_SEV_METADATA_GUID } from '../../fakelibvirt/firmware/snp/ovmf-metadata.ts';
import { guidLe, OVMF_GUID } from '../../fakelibvirt/firmware/ovmf.ts';
import { decodeTcb, encodeTcb, tcbQuery } from '../../fakelibvirt/firmware/snp/product.ts';
import { snpChipOf, vcekKeyPair } from '../../fakelibvirt/firmware/snp/vcek.ts';
import { AMD_OID } from '../../fakelibvirt/kds/certificates.ts';
import { KDS_ORIGIN, kdsHandlers } from '../../fakelibvirt/kds/handlers.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import type { HardwareProfile } from '../../fakelibvirt/profile/schema.ts';
import { signedBy, splitPemChain } from './support.ts';

describe('ATTESTATION_REPORT layout', () => {
  it('has the ABI offsets: fields in order, without overlap, signature at 0x2A0, 0x4A0 in all', () => {
    expect(REPORT_SIZE).toBe(0x4a0);
    expect(SIGNED_LENGTH).toBe(0x2a0);
    const at = (f: keyof AttestationReport) => REPORT_LAYOUT[f][0];
    expect([at('policy'), at('reportData'), at('measurement'), at('hostData'), at('idKeyDigest'), at('reportId'), at('reportedTcb'), at('chipId'), at('committedTcb'), at('launchTcb'), at('signatureR'), at('signatureS')])
      .toEqual([0x008, 0x050, 0x090, 0x0c0, 0x0e0, 0x140, 0x180, 0x1a0, 0x1e0, 0x1f0, 0x2a0, 0x2e8]);
    const spans = Object.values(REPORT_LAYOUT).map(([o, s]) => [o, o + s] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(spans.at(-1)![1]).toBeLessThanOrEqual(REPORT_SIZE);
  });

  it('round-trips, and the signature is r, s little-endian in 72-byte fields', () => {
    const genoa = loadProfile('genoa-9004');
    const chip = snpChipOf(genoa)!;
    const fields = decodeReport(Buffer.alloc(REPORT_SIZE));
    const unsigned = encodeReport({ ...fields, version: 2, policy: 0x30000n, reportData: Buffer.alloc(64, 0x42) });
    const signed = signReport(unsigned, vcekKeyPair(chip, genoa.firmware!.snpTcb!).privateKey);
    expect(signed.subarray(0, SIGNED_LENGTH).equals(unsigned.subarray(0, SIGNED_LENGTH))).toBe(true);
    expect(signed.readUInt32LE(0)).toBe(2);
    expect(signed.readBigUInt64LE(8)).toBe(0x30000n);
    // P-384 fills 48 of each 72 bytes; the rest and the reserved tail stay zero.
    expect(signed.subarray(0x2a0 + 48, 0x2e8).every((b) => b === 0)).toBe(true);
    expect(signed.subarray(0x2e8 + 48).every((b) => b === 0)).toBe(true);
    const rs = reportSignatureP1363(signed)!;
    expect(rs.subarray(0, 48).equals(Buffer.from(signed.subarray(0x2a0, 0x2a0 + 48)).reverse())).toBe(true);
    const pub = vcekKeyPair(chip, genoa.firmware!.snpTcb!).publicKey;
    expect(verify('sha384', signed.subarray(0, SIGNED_LENGTH), { key: pub, dsaEncoding: 'ieee-p1363' }, rs)).toBe(true);
    expect(decodeReport(signed).reportData.equals(Buffer.alloc(64, 0x42))).toBe(true);
  });
});

describe('SNP launch digest (PAGE_INFO chain)', () => {
  it('is SHA-384 over previous digest ‖ contents ‖ 0x70 ‖ type ‖ IMI ‖ VMPL perms ‖ 0 ‖ GPA, from 48 zero bytes', () => {
    const page = Buffer.alloc(4096, 0x5a);
    const info = (prev: Buffer, contents: Buffer, type: number, gpa: bigint) => {
      const tail = Buffer.alloc(16);
      tail.writeUInt16LE(0x70, 0);
      tail[2] = type;
      tail.writeBigUInt64LE(gpa, 8);
      return createHash('sha384').update(Buffer.concat([prev, contents, tail])).digest();
    };
    const d1 = info(Buffer.alloc(48), createHash('sha384').update(page).digest(), 1, 0xffe00000n);
    const d2 = info(d1, Buffer.alloc(48), 5, 0x80d000n);
    const d3 = info(d2, createHash('sha384').update(page).digest(), 2, 0xfffffffff000n);
    const ld = new SnpLaunchDigest();
    ld.addPage(SnpPageType.NORMAL, 0xffe00000n, page);
    ld.addPage(SnpPageType.SECRETS, 0x80d000n);
    ld.addPage(SnpPageType.VMSA, 0xfffffffff000n, page);
    expect(ld.value().equals(d3)).toBe(true);
    expect(() => ld.addPage(SnpPageType.NORMAL, 0x1001n, page)).toThrow(/not page aligned/);
  });
});

describe("an SNP launch of an OVMF image with SEV metadata (the sections QEMU adds, in the image's order)", () => {
  /** A 64 KiB image whose GUIDed table holds the SEV-ES reset block, the hashes area and the ASEV metadata. */
  function imageWithMetadata(items: readonly [gpa: number, size: number, type: number][]): Buffer {
    const img = Buffer.alloc(0x10000, 0x3c);
    const meta = Buffer.alloc(16 + 12 * items.length);
    meta.write('ASEV', 0, 'latin1');
    meta.writeUInt32LE(meta.length, 4);
    meta.writeUInt32LE(1, 8);
    meta.writeUInt32LE(items.length, 12);
    items.forEach(([gpa, size, type], i) => {
      meta.writeUInt32LE(gpa, 16 + 12 * i);
      meta.writeUInt32LE(size, 20 + 12 * i);
      meta.writeUInt32LE(type, 24 + 12 * i);
    });
    const metaAt = 0x8000;
    meta.copy(img, metaAt);
    const u32 = (...v: number[]) => Buffer.concat(v.map((x) => { const b = Buffer.alloc(4); b.writeUInt32LE(x); return b; }));
    const entry = (guid: string, data: Buffer) => {
      const len = Buffer.alloc(2);
      len.writeUInt16LE(data.length + 18);
      return Buffer.concat([data, len, guidLe(guid)]);
    };
    const entries = Buffer.concat([
      entry(OVMF_GUID.sevHashTableBlock, u32(0x80cc00, 0x400)),
      entry(OVMF_SEV_METADATA_GUID, u32(img.length - metaAt)),
      entry(OVMF_GUID.sevEsResetBlock, u32(0x80b004)),
    ]);
    const footerLen = Buffer.alloc(2);
    footerLen.writeUInt16LE(entries.length + 18);
    const table = Buffer.concat([entries, footerLen, guidLe(OVMF_GUID.tableFooter)]);
    table.copy(img, img.length - 32 - table.length);
    return img;
  }
  const cpu = { family: 25, model: 17, stepping: 1 };

  it('adds zero, secrets, CPUID and kernel-hashes pages by type after the image, then the VMSAs', () => {
    const img = imageWithMetadata([[0x800000, 0x2000, 1], [0x80d000, 0x1000, 2], [0x80e000, 0x1000, 3], [0x80c000, 0x1000, 0x10], [0x900000, 0x1000, 0x77]]);
    const hashes = Buffer.alloc(0xa0, 0xee);
    const expected = (withHashes: boolean) => {
      const ld = new SnpLaunchDigest();
      ld.addNormalPages(0x1_0000_0000n - 0x10000n, img);
      ld.addPage(SnpPageType.ZERO, 0x800000n);
      ld.addPage(SnpPageType.ZERO, 0x801000n);
      ld.addPage(SnpPageType.SECRETS, 0x80d000n);
      ld.addPage(SnpPageType.CPUID, 0x80e000n);
      if (withHashes) {
        const page = Buffer.alloc(4096);
        hashes.copy(page, 0xc00); // the hashes area's offset within its page
        ld.addPage(SnpPageType.NORMAL, 0x80c000n, page);
      } else ld.addPage(SnpPageType.ZERO, 0x80c000n);
      // The section of unknown type 0x77 adds nothing; the AP starts at the reset block's 0x80b004.
      ld.addPage(SnpPageType.VMSA, 0xfffffffff000n, snpVmsa(cpu, null));
      ld.addPage(SnpPageType.VMSA, 0xfffffffff000n, snpVmsa(cpu, 0x80b004));
      return ld.value();
    };
    expect(snpLaunchMeasurement({ firmware: img, vcpus: 2, cpu }).equals(expected(false))).toBe(true);
    expect(snpLaunchMeasurement({ firmware: img, vcpus: 2, cpu, kernelHashes: hashes }).equals(expected(true))).toBe(true);
    const ap = snpVmsa(cpu, 0x80b004);
    expect([ap.readBigUInt64LE(0x3b0), ap.readUInt32LE(0x408), ap.readUInt16LE(0x410), ap.readBigUInt64LE(0x178), ap.readBigUInt64LE(0x18)]).toEqual([1n, 0x1f80, 0x37f, 0xb004n, 0x800000n]);
  });

  it('an image without a valid ASEV header adds no metadata pages', () => {
    const img = imageWithMetadata([[0x80d000, 0x1000, 2]]);
    img.write('XSEV', 0x8000, 'latin1');
    const ld = new SnpLaunchDigest();
    ld.addNormalPages(0x1_0000_0000n - 0x10000n, img);
    ld.addPage(SnpPageType.VMSA, 0xfffffffff000n, snpVmsa(cpu, null));
    expect(snpLaunchMeasurement({ firmware: img, vcpus: 1, cpu }).equals(ld.value())).toBe(true);
  });
});

describe('TCB_VERSION layouts', () => {
  it('Milan/Genoa: BL byte 0, TEE 1, SNP 6, microcode 7; Turin: FMC 0, BL 1, TEE 2, SNP 3, microcode 7', () => {
    const tcb = { bootloader: 10, tee: 1, snp: 23, microcode: 84 };
    expect(encodeTcb('zen3-4', tcb).toString('hex')).toBe('0a01000000001754');
    expect(encodeTcb('turin', { ...tcb, fmc: 3 }).toString('hex')).toBe('030a011700000054');
    expect(decodeTcb('turin', encodeTcb('turin', { ...tcb, fmc: 3 }))).toEqual({ ...tcb, fmc: 3 });
    expect(tcbQuery('turin', { ...tcb, fmc: 3 })).toBe('fmcSPL=3&blSPL=10&teeSPL=1&snpSPL=23&ucodeSPL=84');
  });
});

describe('a Turin chip (report version 3, 8-byte hwid, FMC SPL)', () => {
  // turin-9005 has SNP off in its BIOS and no TCB facts: the chip is exercised with stated facts.
  const base = loadProfile('turin-9005');
  const turin: HardwareProfile = { ...base, firmware: { ...base.firmware!, snpEnabledInBios: true, snpTcb: { fmc: 1, bootloader: 2, tee: 0, snp: 5, microcode: 60 } } };
  const server = setupServer(...kdsHandlers([turin]));
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());

  it('reports CPUID family/model/stepping and the Turin TCB; the KDS certifies its VCEK under /Turin/ with fmcSPL', async () => {
    const view = {
      name: 't', uuid: '00000000-0000-4000-8000-000000000001', state: 'running', vcpus: 1, firmware: Buffer.alloc(8192, 1), cpu: turin.cpu, launchId: 1,
      launchSecurity: { type: 'sev-snp', policy: 0x30000n },
    } as const;
    const report = snpGuestReport(turin, view, Buffer.alloc(64, 9));
    const r = decodeReport(report);
    expect([r.version, r.cpuidFamId, r.cpuidModId, r.cpuidStep]).toEqual([3, turin.cpu.family, turin.cpu.model, turin.cpu.stepping]);
    expect(decodeTcb('turin', r.reportedTcb)).toEqual({ fmc: 1, bootloader: 2, tee: 0, snp: 5, microcode: 60 });
    // GET_ID on Turin is 8 bytes: CHIP_ID carries them, zero-padded.
    expect(r.chipId.subarray(8).every((b) => b === 0)).toBe(true);
    const hwid = r.chipId.subarray(0, 8).toString('hex');
    const res = await fetch(`${KDS_ORIGIN}/vcek/v1/Turin/${hwid}?${tcbQuery('turin', decodeTcb('turin', r.reportedTcb))}`);
    expect(res.status).toBe(200);
    const vcek = new x509.X509Certificate(await res.arrayBuffer());
    const [ask] = splitPemChain(await (await fetch(`${KDS_ORIGIN}/vcek/v1/Turin/cert_chain`)).text());
    expect(await signedBy(vcek, ask!)).toBe(true);
    expect(Buffer.from(vcek.getExtension(AMD_OID.hwid)!.value).toString('hex')).toBe(hwid);
    expect(Buffer.from(vcek.getExtension(AMD_OID.fmcSpl)!.value).toString('hex')).toBe('020101');
    expect(vcek.getExtension(AMD_OID.spl4)).toBeNull();
    const key = createPublicKey({ key: Buffer.from(vcek.publicKey.rawData), format: 'der', type: 'spki' });
    expect(verify('sha384', report.subarray(0, SIGNED_LENGTH), { key, dsaEncoding: 'ieee-p1363' }, reportSignatureP1363(report)!)).toBe(true);
  });
});
