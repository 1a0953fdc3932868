/**
 * OVMF images as QEMU maps and measures them. An image ends with OVMF's GUIDed table, read from the
 * back: 32 bytes of reset vector, the footer GUID, the table length, then entries of
 * data ‖ u16 length ‖ GUID (edk2 OvmfPkg ResetVector; QEMU pc_system_ovmf_table_find). QEMU takes
 * the SEV-ES AP reset address, the launch-secret area and the kernel-hashes area from it.
 *
 * The bytes are the real file where this machine has it (Debian's ovmf package), otherwise
 * deterministic bytes of the real image's size with a table like the real build's, so the same path
 * measures the same everywhere. Each image is read or made once per process and never written.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { markUnchanging, unchangingSha256 } from './measurement.ts';

/** GUIDs of the table (bytes as stored: the first three fields little-endian). */
export function guidLe(guid: string): Buffer {
  const h = guid.replace(/-/g, '');
  const b = Buffer.from(h, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

export const OVMF_GUID = {
  tableFooter: '96b582de-1fb2-45f7-baea-a366c55a082d',
  sevEsResetBlock: '00f771de-1a7e-4fcb-890e-68c77e2fb44e',
  sevSecretBlock: '4c2eb361-7d9b-4cc3-8081-127c90d3d294',
  sevHashTableBlock: '7255371f-3a3b-4b04-927b-1da6efa8d454',
} as const;

export interface OvmfArea {
  readonly base: number;
  readonly size: number;
}

export interface OvmfTable {
  /** GUID (lower-case) → entry data. */
  readonly entries: ReadonlyMap<string, Buffer>;
  /** SEV-ES AP reset address (CS base ‖ IP), when the image has the block. */
  readonly sevEsResetAddr?: number;
  readonly secretArea?: OvmfArea;
  readonly hashTableArea?: OvmfArea;
}

const guidString = (le: Buffer) => {
  const h = Buffer.concat([Buffer.from(le.subarray(0, 4)).reverse(), Buffer.from(le.subarray(4, 6)).reverse(), Buffer.from(le.subarray(6, 8)).reverse(), le.subarray(8, 16)]).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The image's table, or null when it has none (not OVMF, or too old a build). */
export function parseOvmfTable(image: Buffer): OvmfTable | null {
  if (image.length < 50 || !image.subarray(image.length - 48, image.length - 32).equals(guidLe(OVMF_GUID.tableFooter))) return null;
  const tableLen = image.readUInt16LE(image.length - 50);
  if (tableLen < 18 || tableLen + 32 > image.length) return null;
  let table = image.subarray(image.length - 32 - tableLen, image.length - 50);
  const entries = new Map<string, Buffer>();
  while (table.length >= 18) {
    const guid = guidString(table.subarray(table.length - 16));
    const len = table.readUInt16LE(table.length - 18);
    if (len < 18 || len > table.length) break;
    entries.set(guid, table.subarray(table.length - len, table.length - 18));
    table = table.subarray(0, table.length - len);
  }
  const area = (g: string): OvmfArea | undefined => {
    const d = entries.get(g);
    return d && d.length >= 8 ? { base: d.readUInt32LE(0), size: d.readUInt32LE(4) } : undefined;
  };
  const reset = entries.get(OVMF_GUID.sevEsResetBlock);
  const secretArea = area(OVMF_GUID.sevSecretBlock);
  const hashTableArea = area(OVMF_GUID.sevHashTableBlock);
  return {
    entries,
    ...(reset && reset.length >= 4 ? { sevEsResetAddr: reset.readUInt32LE(0) } : {}),
    ...(secretArea ? { secretArea } : {}),
    ...(hashTableArea ? { hashTableArea } : {}),
  };
}

/** What a synthesized image looks like, by the real build's file name (Debian's ovmf 2022.11 for the sizes). */
interface ImageShape {
  readonly size: number;
  readonly resetAddr: number;
  readonly secret: OvmfArea;
  readonly hashes: OvmfArea;
}

/**
 * The plain builds carry the secret and hashes blocks with zero areas (measured on Debian's
 * OVMF_CODE*.fd); the AmdSev build (OVMF.amdsev.fd, one 2 MiB image) reserves real pages for both
 * [the addresses are plausible, not read from a real AmdSev build].
 */
function shapeOf(path: string): ImageShape {
  const name = basename(path).toLowerCase();
  const none = { base: 0, size: 0 };
  if (name.includes('amdsev')) return { size: 0x200000, resetAddr: 0x80b004, secret: { base: 0x80c000, size: 0xc00 }, hashes: { base: 0x80cc00, size: 0x400 } };
  if (name.includes('4m')) return { size: 3653632, resetAddr: 0x808004, secret: none, hashes: none };
  return { size: 1966080, resetAddr: 0x80b004, secret: none, hashes: none };
}

function tableEntry(guid: string, data: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16LE(data.length + 18);
  return Buffer.concat([data, len, guidLe(guid)]);
}

const u32s = (...v: number[]) => {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32LE(x >>> 0, 4 * i));
  return b;
};

const KEYSTREAM_PIECE = 64 * 1024;

/** Deterministic image bytes for a path this machine does not have: an AES-CTR keystream, then the table. */
export function synthesizeOvmf(path: string): Buffer {
  const shape = shapeOf(path);
  const key = createHash('sha256').update(`sevharness synthetic OVMF image:${path}`).digest();
  const c = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  // The keystream in pieces into one buffer: the same bytes, without two more image-sized buffers.
  const img = Buffer.allocUnsafe(shape.size);
  const zeros = Buffer.alloc(KEYSTREAM_PIECE);
  for (let off = 0; off < img.length; off += KEYSTREAM_PIECE) c.update(zeros.subarray(0, Math.min(KEYSTREAM_PIECE, img.length - off))).copy(img, off);
  c.final();
  const entries = Buffer.concat([
    tableEntry(OVMF_GUID.sevHashTableBlock, u32s(shape.hashes.base, shape.hashes.size)),
    tableEntry(OVMF_GUID.sevSecretBlock, u32s(shape.secret.base, shape.secret.size)),
    tableEntry(OVMF_GUID.sevEsResetBlock, u32s(shape.resetAddr)),
  ]);
  const footerLen = Buffer.alloc(2);
  footerLen.writeUInt16LE(entries.length + 18);
  const table = Buffer.concat([entries, footerLen, guidLe(OVMF_GUID.tableFooter)]);
  table.copy(img, img.length - 32 - table.length);
  return img;
}

export interface FirmwareImage {
  readonly path: string;
  readonly bytes: Buffer;
  readonly sha256: string;
  /** Read from this machine's file rather than synthesized. */
  readonly real: boolean;
  readonly table: OvmfTable | null;
}

/** Larger files are not firmware images; the fake does not read them. */
const MAX_IMAGE_BYTES = 64 * 1024 * 1024;
/** Only distribution firmware directories are read from this machine; any other path is synthesized. */
const REAL_IMAGE_DIRS = ['/usr/share/'];
/** A host has a handful of firmware files; a client naming thousands of paths must not grow memory. */
const MAX_CACHED_IMAGES = 16;
const IMAGES = new Map<string, FirmwareImage>();

function readRealImage(path: string): Buffer | null {
  try {
    const st = lstatSync(path);
    if (!st.isFile() && !st.isSymbolicLink()) return null;
    const bytes = readFileSync(path);
    return bytes.length > 0 && bytes.length <= MAX_IMAGE_BYTES ? bytes : null;
  } catch {
    return null;
  }
}

/** The image QEMU maps for a loader path: this machine's file when present, else synthesized. */
export function ovmfImage(path: string): FirmwareImage {
  let img = IMAGES.get(path);
  if (img) return img;
  const realBytes = REAL_IMAGE_DIRS.some((d) => path.startsWith(d)) && !path.includes('/../') ? readRealImage(path) : null;
  const bytes = markUnchanging(realBytes ?? synthesizeOvmf(path));
  let sha256: string | null = null;
  img = {
    path,
    bytes,
    // Hashed when first asked for, by the same hashing the launch digests of this image share.
    get sha256() {
      sha256 ??= unchangingSha256(bytes);
      return sha256;
    },
    real: realBytes !== null,
    table: parseOvmfTable(bytes),
  };
  if (IMAGES.size >= MAX_CACHED_IMAGES) IMAGES.delete(IMAGES.keys().next().value!);
  IMAGES.set(path, img);
  return img;
}
