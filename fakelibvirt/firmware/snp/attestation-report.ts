/**
 * The SEV-SNP ATTESTATION_REPORT (SNP ABI, AMD publication 56860, "Attestation Report Format"):
 * 0x4A0 bytes, little-endian, the first 0x2A0 signed. The layout is a table of fields; `encodeReport`
 * and `decodeReport` both read it, so an offset exists once. Layout checked against virtee/sev's
 * `AttestationReport` and the Linux/libkrun C structs (same offsets for version 2; version 3 adds
 * CPUID family/model/stepping in 0x188–0x18A, reserved before).
 */
import { sign, type KeyObject } from 'node:crypto';

export const REPORT_SIZE = 0x4a0;
/** The signature covers bytes 0 … 0x29F. */
export const SIGNED_LENGTH = 0x2a0;
/** SIGNATURE_ALGO: ECDSA P-384 with SHA-384. */
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;
/** r and s are little-endian, zero-extended to 72 bytes each. */
const SIG_COMPONENT = 72;
const P384_BYTES = 48;

/** SIGNING_KEY (flags bits 4:2): which key signed the report. */
export const SigningKey = { VCEK: 0, VLEK: 1, NONE: 7 } as const;

/** PLATFORM_INFO bits. */
export const PlatformInfo = { SMT_EN: 1n << 0n, TSME_EN: 1n << 1n, ECC_EN: 1n << 2n, RAPL_DIS: 1n << 3n, CIPHERTEXT_HIDING_EN: 1n << 4n } as const;

export interface AttestationReport {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Buffer;
  readonly imageId: Buffer;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: Buffer;
  readonly platformInfo: bigint;
  /** Flags word at 0x48: bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY. */
  readonly flags: number;
  readonly reportData: Buffer;
  readonly measurement: Buffer;
  readonly hostData: Buffer;
  readonly idKeyDigest: Buffer;
  readonly authorKeyDigest: Buffer;
  readonly reportId: Buffer;
  readonly reportIdMa: Buffer;
  readonly reportedTcb: Buffer;
  /** Version 3 and later; zero (reserved) in version 2. */
  readonly cpuidFamId: number;
  readonly cpuidModId: number;
  readonly cpuidStep: number;
  readonly chipId: Buffer;
  readonly committedTcb: Buffer;
  readonly currentBuild: number;
  readonly currentMinor: number;
  readonly currentMajor: number;
  readonly committedBuild: number;
  readonly committedMinor: number;
  readonly committedMajor: number;
  readonly launchTcb: Buffer;
  /** r and s, each 72 bytes little-endian. */
  readonly signatureR: Buffer;
  readonly signatureS: Buffer;
}

type Kind = 'u8' | 'u32' | 'u64' | 'bytes';
/** [offset, size, kind] of every field; reserved ranges are the gaps. */
export const REPORT_LAYOUT: Readonly<Record<keyof AttestationReport, readonly [number, number, Kind]>> = {
  version: [0x000, 4, 'u32'],
  guestSvn: [0x004, 4, 'u32'],
  policy: [0x008, 8, 'u64'],
  familyId: [0x010, 16, 'bytes'],
  imageId: [0x020, 16, 'bytes'],
  vmpl: [0x030, 4, 'u32'],
  signatureAlgo: [0x034, 4, 'u32'],
  currentTcb: [0x038, 8, 'bytes'],
  platformInfo: [0x040, 8, 'u64'],
  flags: [0x048, 4, 'u32'],
  reportData: [0x050, 64, 'bytes'],
  measurement: [0x090, 48, 'bytes'],
  hostData: [0x0c0, 32, 'bytes'],
  idKeyDigest: [0x0e0, 48, 'bytes'],
  authorKeyDigest: [0x110, 48, 'bytes'],
  reportId: [0x140, 32, 'bytes'],
  reportIdMa: [0x160, 32, 'bytes'],
  reportedTcb: [0x180, 8, 'bytes'],
  cpuidFamId: [0x188, 1, 'u8'],
  cpuidModId: [0x189, 1, 'u8'],
  cpuidStep: [0x18a, 1, 'u8'],
  chipId: [0x1a0, 64, 'bytes'],
  committedTcb: [0x1e0, 8, 'bytes'],
  currentBuild: [0x1e8, 1, 'u8'],
  currentMinor: [0x1e9, 1, 'u8'],
  currentMajor: [0x1ea, 1, 'u8'],
  committedBuild: [0x1ec, 1, 'u8'],
  committedMinor: [0x1ed, 1, 'u8'],
  committedMajor: [0x1ee, 1, 'u8'],
  launchTcb: [0x1f0, 8, 'bytes'],
  signatureR: [0x2a0, SIG_COMPONENT, 'bytes'],
  signatureS: [0x2e8, SIG_COMPONENT, 'bytes'],
};

/** Writes every field; byte fields must have their exact size. */
export function encodeReport(r: AttestationReport): Buffer {
  const out = Buffer.alloc(REPORT_SIZE);
  for (const [name, [off, size, kind]] of Object.entries(REPORT_LAYOUT) as [keyof AttestationReport, (typeof REPORT_LAYOUT)[keyof AttestationReport]][]) {
    const v = r[name];
    if (kind === 'bytes') {
      const b = v as Buffer;
      if (b.length !== size) throw new RangeError(`${name} must be ${size} bytes (got ${b.length})`);
      b.copy(out, off);
    } else if (kind === 'u64') out.writeBigUInt64LE(v as bigint, off);
    else if (kind === 'u32') out.writeUInt32LE(v as number, off);
    else out.writeUInt8(v as number, off);
  }
  return out;
}

export function decodeReport(buf: Uint8Array): AttestationReport {
  if (buf.length !== REPORT_SIZE) throw new RangeError(`an attestation report is ${REPORT_SIZE} bytes (got ${buf.length})`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Record<string, unknown> = {};
  for (const [name, [off, size, kind]] of Object.entries(REPORT_LAYOUT)) {
    out[name] =
      kind === 'bytes' ? Buffer.from(b.subarray(off, off + size)) : kind === 'u64' ? b.readBigUInt64LE(off) : kind === 'u32' ? b.readUInt32LE(off) : b.readUInt8(off);
  }
  return out as unknown as AttestationReport;
}

/** Big-endian P-384 scalar (48 bytes) → the report's 72-byte little-endian field. */
function toReportComponent(be: Buffer): Buffer {
  const le = Buffer.alloc(SIG_COMPONENT);
  for (let i = 0; i < be.length; i++) le[i] = be[be.length - 1 - i]!;
  return le;
}

/** Signs bytes 0 … 0x29F with the VCEK and writes r, s into the report; returns the signed report. */
export function signReport(unsigned: Buffer, vcek: KeyObject): Buffer {
  if (unsigned.length !== REPORT_SIZE) throw new RangeError(`an attestation report is ${REPORT_SIZE} bytes`);
  const rs = sign('sha384', unsigned.subarray(0, SIGNED_LENGTH), { key: vcek, dsaEncoding: 'ieee-p1363' });
  const out = Buffer.from(unsigned);
  out.fill(0, SIGNED_LENGTH);
  toReportComponent(rs.subarray(0, P384_BYTES)).copy(out, REPORT_LAYOUT.signatureR[0]);
  toReportComponent(rs.subarray(P384_BYTES)).copy(out, REPORT_LAYOUT.signatureS[0]);
  return out;
}

/**
 * The report's signature as r ‖ s, big-endian, 48 bytes each: the IEEE P1363 form WebCrypto's
 * ECDSA verify takes. Null when r or s does not fit P-384 (bytes 48–71 of a component are not zero).
 */
export function reportSignatureP1363(report: Uint8Array): Buffer | null {
  const b = Buffer.from(report.buffer, report.byteOffset, report.byteLength);
  const parts: Buffer[] = [];
  for (const off of [REPORT_LAYOUT.signatureR[0], REPORT_LAYOUT.signatureS[0]]) {
    const le = b.subarray(off, off + SIG_COMPONENT);
    if (le.subarray(P384_BYTES).some((x) => x !== 0)) return null;
    parts.push(Buffer.from(le.subarray(0, P384_BYTES)).reverse());
  }
  return Buffer.concat(parts);
}
