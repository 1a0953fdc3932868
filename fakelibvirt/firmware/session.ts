/**
 * The LAUNCH_START session between a guest owner and the firmware (sev-attestation.md "LAUNCH_START
 * session"): both ends derive a master secret from ECDH(owner DH key, PDH) with the SP 800-108 KDF,
 * then KEK and KIK from it; the owner wraps TEK ‖ TIK under KEK (AES-128-CTR), MACs the wrap with
 * KIK and the policy with TIK. `createSession` is the owner's side (what `sevctl session` writes),
 * `openSession` the firmware's (LAUNCH_START with a GODH certificate and a session blob).
 */
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ecdhSharedX, keyPairFromPrivate, randomKeyPair, type EcKeyPair } from './ecc-p384.ts';
import { CURVE_P384, CertAlgo, CertUsage, NO_SIGNATURE, decodeSevCert, encodeSevCert } from './sev-cert.ts';
import { SevStatus } from './status.ts';
import type { TransportKeys } from './guest-context.ts';

export const SESSION_LEN = 16 + 32 + 16 + 32 + 32;
const KEY_LEN = 16;

/** NIST SP 800-108 counter-mode KDF with HMAC-SHA256: blocks of HMAC(key, i ‖ label ‖ 0 ‖ context ‖ L). */
export function sevKdf(key: Buffer, label: string, context: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  const bits = Buffer.alloc(4);
  bits.writeUInt32LE(length * 8);
  for (let i = 1; blocks.length * 32 < length; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32LE(i);
    blocks.push(createHmac('sha256', key).update(counter).update(label).update(Buffer.from([0])).update(context).update(bits).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

interface SessionKeys {
  readonly kek: Buffer;
  readonly kik: Buffer;
}

function sessionKeys(z: Buffer, nonce: Buffer): SessionKeys {
  const master = sevKdf(z, 'sev-master-secret', nonce, KEY_LEN);
  return { kek: sevKdf(master, 'sev-kek', Buffer.alloc(0), KEY_LEN), kik: sevKdf(master, 'sev-kik', Buffer.alloc(0), KEY_LEN) };
}

const policyBytes = (policy: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(policy >>> 0);
  return b;
};

/** POLICY_MAC: HMAC-SHA256 under TIK over the policy word as LAUNCH_START receives it. */
export const policyMac = (tik: Buffer, policy: number) => createHmac('sha256', tik).update(policyBytes(policy)).digest();

/** The owner's DH certificate: usage PDH, ECDH-SHA256, P-384, no signatures. */
export function godhCertificate(owner: EcKeyPair): Buffer {
  return encodeSevCert({
    version: 1, apiMajor: 0, apiMinor: 0, usage: CertUsage.PDH, algo: CertAlgo.ECDH_SHA256, curve: CURVE_P384,
    qx: owner.x, qy: owner.y, sigs: [NO_SIGNATURE, NO_SIGNATURE],
  });
}

export interface OwnerSession {
  readonly godh: Buffer;
  readonly session: Buffer;
  readonly tek: Buffer;
  readonly tik: Buffer;
}

export interface CreateSessionOptions {
  /** Fixed keys and randomness for reproducible tests; fresh random values otherwise. */
  readonly tek?: Buffer;
  readonly tik?: Buffer;
  readonly ownerKey?: Buffer;
  readonly random?: (n: number) => Buffer;
}

/** The guest owner's side: a fresh DH key, TEK and TIK, wrapped for the platform whose PDH this is. */
export function createSession(pdhCert: Buffer, policy: number, opts: CreateSessionOptions = {}): OwnerSession {
  const random = opts.random ?? randomBytes;
  const pdh = decodeSevCert(pdhCert);
  if (pdh.usage !== CertUsage.PDH || pdh.curve !== CURVE_P384) throw new RangeError('not a P-384 PDH certificate');
  const owner = opts.ownerKey ? keyPairFromPrivate(opts.ownerKey) : randomKeyPair();
  const tek = opts.tek ?? random(KEY_LEN);
  const tik = opts.tik ?? random(KEY_LEN);
  const nonce = random(16);
  const iv = random(16);
  const { kek, kik } = sessionKeys(ecdhSharedX(owner, pdh.qx, pdh.qy), nonce);
  const c = createCipheriv('aes-128-ctr', kek, iv);
  const wrapTk = Buffer.concat([c.update(Buffer.concat([tek, tik])), c.final()]);
  const wrapMac = createHmac('sha256', kik).update(wrapTk).digest();
  return { godh: godhCertificate(owner), session: Buffer.concat([nonce, wrapTk, iv, wrapMac, policyMac(tik, policy)]), tek, tik };
}

export type SessionResult = { readonly ok: true; readonly keys: TransportKeys } | { readonly ok: false; readonly status: number; readonly detail: string };

const refuse = (status: number, detail: string): SessionResult => ({ ok: false, status, detail });

/**
 * The firmware's side of LAUNCH_START with a session. The GODH must be a P-384 ECDH key of usage
 * PDH (INVALID_CERTIFICATE otherwise); the blob must be a whole session (INVALID_LEN [inference]);
 * WRAP_MAC under KIK, then POLICY_MAC under the unwrapped TIK against the policy LAUNCH_START was
 * given: a mismatch of either is BAD_MEASUREMENT (SEV API §6.2, the integrity checks of LAUNCH_START).
 */
export function openSession(pdh: EcKeyPair, godhCert: Buffer, session: Buffer, policy: number): SessionResult {
  let godh;
  try {
    godh = decodeSevCert(godhCert);
  } catch {
    return refuse(SevStatus.INVALID_CERTIFICATE, `GODH certificate is ${godhCert.length} bytes`);
  }
  if (godh.usage !== CertUsage.PDH || godh.algo !== CertAlgo.ECDH_SHA256 || godh.curve !== CURVE_P384) {
    return refuse(SevStatus.INVALID_CERTIFICATE, `GODH usage 0x${godh.usage.toString(16)} algo 0x${godh.algo.toString(16)} curve ${godh.curve}`);
  }
  if (session.length < SESSION_LEN) return refuse(SevStatus.INVALID_LEN, `session is ${session.length} bytes`);
  let z: Buffer;
  try {
    z = ecdhSharedX(pdh, godh.qx, godh.qy);
  } catch {
    return refuse(SevStatus.INVALID_CERTIFICATE, 'GODH public key is not a P-384 point');
  }
  const nonce = session.subarray(0, 16);
  const wrapTk = session.subarray(16, 48);
  const iv = session.subarray(48, 64);
  const wrapMac = session.subarray(64, 96);
  const polMac = session.subarray(96, 128);
  const { kek, kik } = sessionKeys(z, nonce);
  if (!timingSafeEqual(createHmac('sha256', kik).update(wrapTk).digest(), wrapMac)) return refuse(SevStatus.BAD_MEASUREMENT, 'WRAP_MAC does not verify');
  const d = createCipheriv('aes-128-ctr', kek, iv);
  const tk = Buffer.concat([d.update(wrapTk), d.final()]);
  const keys = { tek: tk.subarray(0, KEY_LEN), tik: tk.subarray(KEY_LEN) };
  if (!timingSafeEqual(policyMac(keys.tik, policy), polMac)) return refuse(SevStatus.BAD_MEASUREMENT, 'POLICY_MAC does not match the policy');
  return { ok: true, keys };
}
