/**
 * SNP_LAUNCH_FINISH's ID block rules (idBlockRefusal) with ID and author keys made here, laid out as
 * sev-snp-measure's snp-create-id-block writes them; and the report of a guest launched with them.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeReport } from '../../fakelibvirt/firmware/snp/attestation-report.ts';
import { snpLaunchMeasurement } from '../../fakelibvirt/firmware/snp/guest-measurement.ts';
import { ID_AUTH, ID_BLOCK, idBlockRefusal, keyDigest } from '../../fakelibvirt/firmware/snp/id-block.ts';
import { SevStatus } from '../../fakelibvirt/firmware/status.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { firmwareImageOf } from '../../fakelibvirt/qemu/sev-launch.ts';
import { SNP_LOADER, snpGuestXml } from './support.ts';

/** AMD's public key layout: curve 2 (P-384), Qx and Qy little-endian in 72-byte fields, 0x404 bytes. */
function amdKey(k: KeyObject): Buffer {
  const jwk = k.export({ format: 'jwk' });
  const out = Buffer.alloc(0x404);
  out.writeUInt32LE(2, 0);
  Buffer.from(jwk.x!, 'base64url').reverse().copy(out, 4);
  Buffer.from(jwk.y!, 'base64url').reverse().copy(out, 4 + 72);
  return out;
}

/** r ‖ s little-endian in 72-byte fields, in a 0x200-byte signature. */
function amdSign(k: KeyObject, data: Buffer): Buffer {
  const rs = sign('sha384', data, { key: k, dsaEncoding: 'ieee-p1363' });
  const out = Buffer.alloc(0x200);
  Buffer.from(rs.subarray(0, 48)).reverse().copy(out, 0);
  Buffer.from(rs.subarray(48)).reverse().copy(out, 72);
  return out;
}

const idKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const authorKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });

function idBlockFor(measurement: Buffer, policy: bigint, o: { svn?: number; signer?: KeyObject; authorSigner?: KeyObject } = {}) {
  const block = Buffer.alloc(ID_BLOCK.SIZE);
  measurement.copy(block, ID_BLOCK.LD);
  block.fill(0xf1, ID_BLOCK.FAMILY_ID, ID_BLOCK.FAMILY_ID + 16);
  block.fill(0x1d, ID_BLOCK.IMAGE_ID, ID_BLOCK.IMAGE_ID + 16);
  block.writeUInt32LE(1, ID_BLOCK.VERSION);
  block.writeUInt32LE(o.svn ?? 3, ID_BLOCK.GUEST_SVN);
  block.writeBigUInt64LE(policy, ID_BLOCK.POLICY);
  const auth = Buffer.alloc(ID_AUTH.SIZE);
  auth.writeUInt32LE(1, ID_AUTH.ID_KEY_ALGO);
  auth.writeUInt32LE(1, ID_AUTH.AUTH_KEY_ALGO);
  amdSign(o.signer ?? idKey.privateKey, block).copy(auth, ID_AUTH.ID_BLOCK_SIG);
  const idPub = amdKey(idKey.publicKey);
  idPub.copy(auth, ID_AUTH.ID_KEY);
  amdSign(o.authorSigner ?? authorKey.privateKey, idPub).copy(auth, ID_AUTH.ID_KEY_SIG);
  amdKey(authorKey.publicKey).copy(auth, ID_AUTH.AUTHOR_KEY);
  return { block, auth };
}

const genoa = loadProfile('genoa-9004');
const measurement = snpLaunchMeasurement({ firmware: firmwareImageOf(SNP_LOADER).bytes, vcpus: 2, cpu: genoa.cpu });

describe('SNP_LAUNCH_FINISH ID block rules', () => {
  const check = (b: { block: Buffer; auth: Buffer }, over: Partial<{ authorKeyEnabled: boolean; measurement: Buffer; policy: bigint }> = {}) =>
    idBlockRefusal({ idBlock: b.block, idAuth: b.auth, authorKeyEnabled: true, measurement, policy: 0x30000n, ...over })?.status ?? null;

  it('accepts a block signed by the ID key, the ID key signed by the author key, naming this digest and policy', () => {
    expect(check(idBlockFor(measurement, 0x30000n))).toBeNull();
  });

  it.each([
    ['a block signed by another key', () => check(idBlockFor(measurement, 0x30000n, { signer: authorKey.privateKey })), SevStatus.BAD_SIGNATURE],
    ['an ID key the author key did not sign', () => check(idBlockFor(measurement, 0x30000n, { authorSigner: idKey.privateKey })), SevStatus.BAD_SIGNATURE],
    ['a block for another launch digest', () => check(idBlockFor(Buffer.alloc(48, 1), 0x30000n)), SevStatus.BAD_MEASUREMENT],
    ['a block for another policy', () => check(idBlockFor(measurement, 0x30000n), { policy: 0x1b0000n }), SevStatus.POLICY_FAILURE],
    ['a tampered block', () => { const b = idBlockFor(measurement, 0x30000n); b.block[ID_BLOCK.GUEST_SVN]! ^= 1; return check(b); }, SevStatus.BAD_SIGNATURE],
    ['a short ID_AUTH', () => { const b = idBlockFor(measurement, 0x30000n); return check({ block: b.block, auth: b.auth.subarray(0, 0x800) }); }, SevStatus.INVALID_PARAM],
  ])('refuses %s', (_what, run, status) => {
    expect(run()).toBe(status);
  });

  it('without AUTHOR_KEY_EN the author signature is not consulted', () => {
    expect(check(idBlockFor(measurement, 0x30000n, { authorSigner: idKey.privateKey }), { authorKeyEnabled: false })).toBeNull();
  });
});

describe('the report of a guest launched with an ID block', () => {
  it('carries FAMILY_ID, IMAGE_ID, GUEST_SVN, ID_KEY_DIGEST and, with authorKey=yes, AUTHOR_KEY_DIGEST and AUTHOR_KEY_EN', () => {
    const h = new FakeHost(genoa);
    const { block, auth } = idBlockFor(measurement, 0x30000n, { svn: 9 });
    const blobs = `<idBlock>${block.toString('base64')}</idBlock><idAuth>${auth.toString('base64')}</idAuth>`;
    h.create(h.defineXML(snpGuestXml('owned', { launch: " authorKey='yes'" }).replace('<policy>', `${blobs}<policy>`)));
    const r = decodeReport(h.control.snpGuestReport('owned', Buffer.alloc(64)));
    expect(r.measurement.equals(measurement)).toBe(true);
    expect([r.familyId.toString('hex'), r.imageId.toString('hex'), r.guestSvn, r.flags & 1]).toEqual(['f1'.repeat(16), '1d'.repeat(16), 9, 1]);
    expect(r.idKeyDigest.equals(keyDigest(auth, 'id'))).toBe(true);
    expect(r.authorKeyDigest.equals(keyDigest(auth, 'author'))).toBe(true);
  });
});

describe('SNP_LAUNCH_FINISH at start: a refused ID block makes QEMU exit', () => {
  const xmlWith = (name: string, b: { block: Buffer; auth: Buffer }, policy = '0x30000', vcpus = 2) =>
    snpGuestXml(name, { launch: " authorKey='yes'", policy, vcpus }).replace(
      '<policy>',
      `<idBlock>${b.block.toString('base64')}</idBlock><idAuth>${b.auth.toString('base64')}</idAuth><policy>`,
    );
  const startError = (h: FakeHost, xml: string) => {
    try {
      h.create(h.defineXML(xml));
    } catch (e) {
      return e as { code: number; message: string };
    }
    return null;
  };

  it.each([
    ['signed by another key', () => idBlockFor(measurement, 0x30000n, { signer: authorKey.privateKey }), '0x30000', SevStatus.BAD_SIGNATURE, 'Bad signature'],
    ['an ID key the author did not sign', () => idBlockFor(measurement, 0x30000n, { authorSigner: idKey.privateKey }), '0x30000', SevStatus.BAD_SIGNATURE, 'Bad signature'],
    ['another launch digest', () => idBlockFor(Buffer.alloc(48, 7), 0x30000n), '0x30000', SevStatus.BAD_MEASUREMENT, 'Bad measurement'],
    ['another policy (ABI minor 1)', () => idBlockFor(measurement, 0x30001n), '0x30000', SevStatus.POLICY_FAILURE, 'Policy is not allowed'],
  ])('%s: QEMU prints SNP_LAUNCH_FINISH with the status, libvirt reports the start failure', (_what, make, policy, status, text) => {
    const h = new FakeHost(genoa);
    const err = startError(h, xmlWith('bad', make(), policy));
    expect(err?.message).toContain(`qemu-system-x86_64: SNP_LAUNCH_FINISH ret=-5 fw_error=${status} '${text}'`);
    expect(err?.code).toBe(1); // VIR_ERR_INTERNAL_ERROR, as for QEMU's other start failures
    expect(h.numOfDomains()).toBe(0);
    // The context and its ASID were released: the same host still boots a good block.
    expect(startError(h, xmlWith('good', idBlockFor(measurement, 0x30000n)))).toBeNull();
  });

  it('a block for a different vCPU count names another digest and is refused', () => {
    const h = new FakeHost(genoa);
    const xml = xmlWith('four', idBlockFor(measurement, 0x30000n), '0x30000', 4);
    expect(startError(h, xml)?.message).toContain(`fw_error=${SevStatus.BAD_MEASUREMENT} 'Bad measurement'`);
  });

  it('without <idBlock> the firmware checks nothing (an <idAuth> alone is not read)', () => {
    const h = new FakeHost(genoa);
    const xml = snpGuestXml('plain').replace('<policy>', `<idAuth>${Buffer.alloc(16).toString('base64')}</idAuth><policy>`);
    expect(startError(h, xml)).toBeNull();
  });
});
