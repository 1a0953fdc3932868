/**
 * The chip's identity and its Versioned Chip Endorsement Key. On real parts the AMD-SP derives the
 * VCEK from a per-chip secret fused at manufacture and the TCB it reports, so a TCB change yields a
 * different key, and AMD's KDS (which knows the secrets) certifies the public half. The fake does the
 * same with a secret of its own per profile: HKDF-SHA384(chip secret, product ‖ TCB_VERSION) reduced
 * to a P-384 scalar. Both the firmware (signing reports) and the fake KDS (certifying keys) call it.
 */
import { createECDH, createHmac, createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { HardwareProfile } from '../../profile/schema.ts';
import { platformIdentity } from '../../views/platform-identity.ts';
import { encodeTcb, snpProductOf, type SnpProduct, type TcbVersion } from './product.ts';

/** CHIP_ID's size in the attestation report. */
export const CHIP_ID_SIZE = 64;

/** Order of the P-384 group (FIPS 186-4 D.1.2.4). */
const P384_N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
const P384_BYTES = 48;

export interface SnpChip {
  readonly product: SnpProduct;
  /** CHIP_ID as the report carries it: GET_ID's bytes, zero-padded to 64 (Turin's id is 8 bytes). */
  readonly chipId: Buffer;
  /** The KDS `{hwid}`: the first `product.hwidBytes` of CHIP_ID, lower-case hex as clients send it. */
  readonly hwid: string;
  /** Stands in for the fused secret; never leaves the fake. */
  readonly secret: Buffer;
}

const CHIPS = new Map<string, SnpChip>();

/**
 * The chip of a profile's host, or null when its generation has no SNP. CHIP_ID is the same id
 * `virsh nodesevinfo` prints as cpu0-id (GET_ID), as on real SNP parts.
 */
export function snpChipOf(profile: HardwareProfile): SnpChip | null {
  const product = snpProductOf(profile);
  if (!product) return null;
  const key = `${profile.generation}\0${profile.libvirt.hostUuid}`;
  let chip = CHIPS.get(key);
  if (!chip) {
    const id = Buffer.from(platformIdentity(profile).cpu0Id, 'base64');
    const chipId = Buffer.alloc(CHIP_ID_SIZE);
    id.copy(chipId, 0, 0, Math.min(id.length, CHIP_ID_SIZE));
    chip = {
      product,
      chipId,
      hwid: chipId.subarray(0, product.hwidBytes).toString('hex'),
      secret: createHmac('sha384', 'sevharness fake AMD-SP chip secret').update(key).digest(),
    };
    CHIPS.set(key, chip);
  }
  return chip;
}

export interface VcekKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Derived keys by chip and TCB; bounded, since a KDS client chooses the TCBs. */
const VCEKS = new Map<string, VcekKeyPair>();
const MAX_CACHED_VCEKS = 256;

const b64url = (b: Buffer) => b.toString('base64url');

/** The VCEK of `chip` at `tcb`: deterministic, and different for every TCB. */
export function vcekKeyPair(chip: SnpChip, tcb: TcbVersion): VcekKeyPair {
  const tcbBytes = encodeTcb(chip.product.tcbLayout, tcb);
  const key = `${chip.secret.toString('hex')}:${tcbBytes.toString('hex')}`;
  let pair = VCEKS.get(key);
  if (!pair) {
    const okm = Buffer.from(hkdfSync('sha384', chip.secret, 'sevharness-vcek', Buffer.concat([Buffer.from(chip.product.kds), tcbBytes]), 64));
    // 64 bytes reduced mod n−1, plus one: a uniform non-zero scalar (FIPS 186-4 B.4.1).
    const d = (BigInt(`0x${okm.toString('hex')}`) % (P384_N - 1n)) + 1n;
    const dBytes = Buffer.from(d.toString(16).padStart(P384_BYTES * 2, '0'), 'hex');
    const ecdh = createECDH('secp384r1');
    ecdh.setPrivateKey(dBytes);
    const point = ecdh.getPublicKey();
    const x = b64url(point.subarray(1, 1 + P384_BYTES));
    const y = b64url(point.subarray(1 + P384_BYTES));
    pair = {
      privateKey: createPrivateKey({ key: { kty: 'EC', crv: 'P-384', d: b64url(dBytes), x, y }, format: 'jwk' }),
      publicKey: createPublicKey({ key: { kty: 'EC', crv: 'P-384', x, y }, format: 'jwk' }),
    };
    if (VCEKS.size >= MAX_CACHED_VCEKS) VCEKS.clear();
    VCEKS.set(key, pair);
  }
  return pair;
}
