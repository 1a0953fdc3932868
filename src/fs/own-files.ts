/**
 * Writing into a directory tree the daemon owns without following links someone else planted in it.
 * Every file is written under a fresh random name opened with O_CREAT|O_EXCL|O_NOFOLLOW (a planted
 * name or symlink makes the open fail instead of writing through it), synced, and renamed over its
 * target (rename replaces a symlink, never follows it); the directory is synced after the rename,
 * so a crash leaves either the old file or the new one. Directories on the way must be real
 * directories: a symlink among them is refused.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = constants;

/** Temporary files end with this; `sweepTemporaryFiles` removes the ones a killed writer left. */
export const TEMP_SUFFIX = '.tmp';
/** Ours (16 hex digits), and the pid-named ones earlier versions wrote. */
const TEMP_PATTERN = /^\..*\.(?:[0-9a-f]{16}|\d+)\.tmp$/;

/** A symlink, or something other than a directory, where the tree needs one of its directories. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

/** Creates `dir` (and missing parents below `root`), refusing any level that is a symlink or not a directory. */
export function ensureOwnDir(root: string, dir: string): void {
  const rel = relative(root, dir);
  if (rel.startsWith('..')) throw new UnsafePathError(`${dir} is outside ${root}`);
  let p = root;
  for (const part of ['', ...(rel === '' ? [] : rel.split(sep))]) {
    p = part === '' ? root : join(p, part);
    try {
      mkdirSync(p, { mode: 0o755 });
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
    }
    const st = lstatSync(p);
    if (st.isSymbolicLink()) throw new UnsafePathError(`${p} is a symbolic link; not following it`);
    if (!st.isDirectory()) throw new UnsafePathError(`${p} is not a directory`);
  }
}

export interface WriteOptions {
  readonly mode?: number;
  /** fsync the file and its directory (default); off for files regenerated at every start. */
  readonly durable?: boolean;
}

/** Replaces `path` with `content` atomically (and durably), never through a link (see the file comment). */
export function writeOwnFile(path: string, content: string | Uint8Array, opts: WriteOptions = {}): void {
  const { mode = 0o644, durable = true } = opts;
  const dir = dirname(path);
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
  const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) syncDir(dir);
}

/**
 * writeOwnFile off the event loop (libuv's thread pool does the writes and the fsyncs), for a
 * server that must keep answering while it makes a change durable.
 */
export async function writeOwnFileAsync(path: string, content: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const { mode = 0o644, durable = true } = opts;
  const dir = dirname(path);
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
  const fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    await fh.writeFile(content);
    if (durable) await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (durable) await syncDirAsync(dir);
}

/** removeOwnFile off the event loop. */
export async function removeOwnFileAsync(path: string): Promise<void> {
  await rm(path, { force: true });
  await syncDirAsync(dirname(path));
}

async function syncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, O_RDONLY | O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes `path` (a symlink itself, never its target) and makes the removal durable. */
export function removeOwnFile(path: string): void {
  rmSync(path, { force: true });
  syncDir(dirname(path));
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, O_RDONLY | O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a regular file, refusing a symlink (ELOOP) or anything larger than `maxBytes`. */
export function readOwnFile(path: string, maxBytes: number): string {
  const fd = openSync(path, O_RDONLY | O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafePathError(`${path} is not a regular file`);
    if (st.size > maxBytes) throw new UnsafePathError(`${path} is ${st.size} bytes, more than the ${maxBytes}-byte limit`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Removes the temporary files a writer killed mid-write left in `dir`; returns their names. */
export function sweepTemporaryFiles(dir: string): string[] {
  const swept = readdirSync(dir).filter((n) => TEMP_PATTERN.test(n));
  for (const n of swept) rmSync(join(dir, n), { force: true });
  if (swept.length > 0) syncDir(dir);
  return swept;
}
