/**
 * The two GUID-keyed tables of a measured SEV launch: the kernel hashes table QEMU encrypts after
 * the firmware for `kernel-hashes=on` (sev-hardware.md §4.3: entries GUID ‖ u16 length ‖ SHA-256,
 * cmdline with its NUL, then initrd, then kernel, padded to 16 bytes), and OVMF's launch-secret table
 * a guest owner injects (GUID ‖ u32 length ‖ entries of GUID ‖ u32 length ‖ data).
 */
import { createHash } from 'node:crypto';
import { guidLe } from './ovmf.ts';

export const HASHES_GUID = {
  table: '9438d606-4f22-4cc9-b479-a793d411fd21',
  cmdline: '97d02dd8-bd20-4c94-aa78-e7714d36ab2a',
  initrd: '44baf731-3a2f-4bd7-9af1-41e29169781d',
  kernel: '4de79437-abd2-427f-b835-d5b172d2045b',
} as const;

export const SECRET_TABLE_GUID = '1e74f542-71dd-4d66-963e-ef4287ff173b';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

function entry(guid: string, payload: Buffer, lenBytes: 2 | 4): Buffer {
  const len = Buffer.alloc(lenBytes);
  if (lenBytes === 2) len.writeUInt16LE(16 + lenBytes + payload.length);
  else len.writeUInt32LE(16 + lenBytes + payload.length);
  return Buffer.concat([guidLe(guid), len, payload]);
}

export interface DirectKernelBoot {
  readonly kernel: Buffer;
  /** Absent initrd hashes as empty. */
  readonly initrd?: Buffer;
  /** Absent cmdline hashes as the lone NUL QEMU passes. */
  readonly cmdline?: string;
}

/** SevHashTable padded to 16 bytes, as sev_add_kernel_loader_hashes lays it out. */
export function kernelHashesTable(boot: DirectKernelBoot): Buffer {
  const body = Buffer.concat([
    entry(HASHES_GUID.cmdline, sha256(Buffer.concat([Buffer.from(boot.cmdline ?? '', 'utf8'), Buffer.from([0])])), 2),
    entry(HASHES_GUID.initrd, sha256(boot.initrd ?? Buffer.alloc(0)), 2),
    entry(HASHES_GUID.kernel, sha256(boot.kernel), 2),
  ]);
  const table = entry(HASHES_GUID.table, body, 2);
  return Buffer.concat([table, Buffer.alloc((16 - (table.length % 16)) % 16)]);
}

export interface SecretEntry {
  readonly guid: string;
  readonly data: Buffer;
}

const guidString = (le: Buffer) => {
  const h = Buffer.concat([Buffer.from(le.subarray(0, 4)).reverse(), Buffer.from(le.subarray(4, 6)).reverse(), Buffer.from(le.subarray(6, 8)).reverse(), le.subarray(8, 16)]).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The entries of an injected secret table, or null when the plaintext is not one. */
export function parseSecretTable(plain: Buffer): SecretEntry[] | null {
  if (plain.length < 20 || !plain.subarray(0, 16).equals(guidLe(SECRET_TABLE_GUID))) return null;
  const total = plain.readUInt32LE(16);
  if (total < 20 || total > plain.length) return null;
  const out: SecretEntry[] = [];
  for (let off = 20; off + 20 <= total; ) {
    const len = plain.readUInt32LE(off + 16);
    if (len < 20 || off + len > total) return null;
    out.push({ guid: guidString(plain.subarray(off, off + 16)), data: Buffer.from(plain.subarray(off + 20, off + len)) });
    off += len;
  }
  return out;
}

/** Builds a secret table (the guest owner's side; the validator builds the same). */
export function secretTable(entries: readonly SecretEntry[]): Buffer {
  const body = Buffer.concat(entries.map((e) => entry(e.guid, e.data, 4)));
  const table = entry(SECRET_TABLE_GUID, body, 4);
  return Buffer.concat([table, Buffer.alloc(16 - (table.length % 16))]);
}
