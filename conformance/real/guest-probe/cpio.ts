/**
 * A gzip'd cpio archive in the "newc" format the kernel unpacks as its initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header per entry,
 * the NUL-terminated name and the data each padded to 4 bytes, and a TRAILER!!! entry at the end.
 */
import { gzipSync } from 'node:zlib';

export interface CpioEntry {
  readonly name: string;
  /** File type and permission bits, e.g. 0o100755 (regular, rwxr-xr-x) or 0o040755 (directory). */
  readonly mode: number;
  readonly data?: Uint8Array;
}

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

function entryBytes(e: CpioEntry, ino: number): Buffer {
  const data = Buffer.from(e.data ?? new Uint8Array());
  const name = Buffer.from(`${e.name}\0`, 'utf8');
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [ino, e.mode, 0, 0, (e.mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return Buffer.concat([header, name, Buffer.alloc(pad4(header.length + name.length)), data, Buffer.alloc(pad4(data.length))]);
}

/** The archive of `entries` (parents before children), gzip'd. */
export function initramfs(entries: readonly CpioEntry[]): Buffer {
  const parts = entries.map((e, i) => entryBytes(e, i + 1));
  parts.push(entryBytes({ name: 'TRAILER!!!', mode: 0 }, 0));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}
