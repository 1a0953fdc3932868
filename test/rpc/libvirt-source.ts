/**
 * libvirt 9.0's own sources, as Debian 12 ships them: the orig tarball of the bookworm source
 * package, downloaded from Debian's archive once, checked against the SHA-256 of the package's
 * .dsc, and the few files the procedure-table test reads unpacked into the user's cache
 * (~/.cache/sevharness/, or $XDG_CACHE_HOME). Nothing of it enters the repository.
 *
 * Without the network, a test skips with a printed notice; with CI=true it fails.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const TARBALL = 'libvirt_9.0.0.orig.tar.xz';
const URL = `https://deb.debian.org/debian/pool/main/libv/libvirt/${TARBALL}`;
/** Checksums-Sha256 of libvirt_9.0.0-4+deb12u2.dsc (Debian 12). */
const SHA256 = 'deca5cff1b7baac297bca9663907c61f71a47183371dc7ac019c107806d5435a';
const TOP = 'libvirt-9.0.0';
/** The members the test reads: the protocol, the public API files, and the error domain enum. */
const MEMBERS = [`${TOP}/src/remote/remote_protocol.x`, `${TOP}/src/libvirt*.c`, `${TOP}/include/libvirt/virterror.h`];
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** The unpacked files of libvirt 9.0 the test reads. */
export interface LibvirtSource {
  /** Root of the unpacked tree (holds src/ and include/). */
  readonly root: string;
  readonly remoteProtocol: string;
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'sevharness', `libvirt-9.0.0-${SHA256.slice(0, 12)}`);
}

/** The cached sources, downloading and unpacking them first when absent. Throws on any failure. */
export async function fetchLibvirtSource(): Promise<LibvirtSource> {
  const dir = cacheDir();
  const root = join(dir, TOP);
  const done = join(dir, 'complete');
  if (!existsSync(done)) {
    const res = await fetch(URL, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`GET ${URL}: HTTP ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const sum = createHash('sha256').update(bytes).digest('hex');
    if (sum !== SHA256) throw new Error(`${TARBALL}: SHA-256 ${sum}, Debian's .dsc says ${SHA256}`);
    // Unpack into a scratch directory and rename it into place, so a half-unpacked tree is never used.
    const scratch = `${dir}.partial-${process.pid}`;
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    const archive = join(scratch, TARBALL);
    writeFileSync(archive, bytes);
    const stdio = ['ignore', 'ignore', 'pipe'] as const;
    execFileSync('tar', ['-xJf', archive, '-C', scratch, '--wildcards', ...MEMBERS], { stdio: [...stdio] });
    rmSync(archive);
    writeFileSync(join(scratch, 'complete'), `${URL}\n${SHA256}\n`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(scratch, dir);
  }
  return { root, remoteProtocol: readFileSync(join(root, 'src/remote/remote_protocol.x'), 'utf8') };
}

/**
 * The sources, or null after a printed notice when they cannot be had (no network); in CI
 * (CI=true) the failure is thrown instead, since the check must run there.
 */
export async function libvirtSourceOrSkip(): Promise<LibvirtSource | null> {
  try {
    return await fetchLibvirtSource();
  } catch (e) {
    const msg = `libvirt 9.0 source from Debian's archive unavailable: ${e instanceof Error ? e.message : String(e)}`;
    if (process.env.CI === 'true') throw new Error(`${msg} (required because CI=true)`);
    process.stderr.write(`NOTICE: skipping the procedure-table check, ${msg}\n`);
    return null;
  }
}
