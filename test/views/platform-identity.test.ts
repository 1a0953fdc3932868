import { describe, expect, it } from 'vitest';
import { CertAlgo, CertUsage, SEV_CERT_SIZE, platformIdentity } from '../../fakelibvirt/views/platform-identity.ts';
import { views } from './helpers.ts';

const u32 = (b: Buffer, off: number) => b.readUInt32LE(off);
/** Offsets in the SEV v1 certificate. */
const USAGE = 8;
const ALGO = 12;
const SIG1 = 16 + 1028;
const SIG2 = SIG1 + 8 + 512;

describe('platformIdentity', () => {
  it('PDH is an ECDH P-384 v1 cert signed by the PEK, carrying the firmware API version', () => {
    const pdh = Buffer.from(platformIdentity(views('milan-7003-es8').profile).pdh, 'base64');
    expect(pdh.length).toBe(SEV_CERT_SIZE);
    expect([u32(pdh, 0), pdh[4], pdh[5], u32(pdh, USAGE), u32(pdh, ALGO), u32(pdh, 16)]).toEqual([1, 1, 52, CertUsage.PDH, CertAlgo.ECDH_SHA256, 2]);
    expect([u32(pdh, SIG1), u32(pdh, SIG1 + 4), u32(pdh, SIG2)]).toEqual([CertUsage.PEK, CertAlgo.ECDSA_SHA256, CertUsage.INVALID]);
  });

  it('chain is PEK, OCA, CEK with their signers', () => {
    const chain = Buffer.from(platformIdentity(views('naples-7001').profile).certChain, 'base64');
    expect(chain.length).toBe(3 * SEV_CERT_SIZE);
    const cert = (i: number) => chain.subarray(i * SEV_CERT_SIZE, (i + 1) * SEV_CERT_SIZE);
    expect([0, 1, 2].map((i) => u32(cert(i), USAGE))).toEqual([CertUsage.PEK, CertUsage.OCA, CertUsage.CEK]);
    expect([cert(0)[4], cert(0)[5]]).toEqual([0, 17]);
    expect([u32(cert(0), SIG1), u32(cert(0), SIG2)]).toEqual([CertUsage.OCA, CertUsage.CEK]);
    expect([u32(cert(2), SIG1), u32(cert(2), SIG1 + 4)]).toEqual([CertUsage.ASK, CertAlgo.RSA_SHA384]);
  });

  it('is deterministic per host and differs between hosts', () => {
    const a = platformIdentity(views('rome-7002').profile);
    expect(platformIdentity(views('rome-7002').profile)).toEqual(a);
    expect(platformIdentity(views('genoa-9004').profile).pdh).not.toBe(a.pdh);
  });

  it('chip id is 64 bytes, 8 on Turin', () => {
    expect(Buffer.from(platformIdentity(views('genoa-9004').profile).cpu0Id, 'base64').length).toBe(64);
    expect(Buffer.from(platformIdentity(views('turin-9005').profile).cpu0Id, 'base64').length).toBe(8);
  });
});
