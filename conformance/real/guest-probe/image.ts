/**
 * The probe guest's boot image: a kernel and a tiny busybox initramfs whose /init reports what the
 * guest kernel sees (init-script.ts). The kernel is the host's own /boot/vmlinuz-* when readable,
 * else Debian's linux-image-* package fetched with `apt-get download` and unpacked with
 * `dpkg-deb -x` — never installed; busybox comes from busybox-static the same way. Everything is
 * cached outside the repository by content hash, in a directory the QEMU user can traverse.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initramfs, S_IFDIR, S_IFREG } from './cpio.ts';
import { INIT_SCRIPT } from './init-script.ts';

export interface ProbeImage {
  readonly kernel: string;
  readonly initrd: string;
  /** Where the kernel came from: the host's /boot or a Debian package. */
  readonly kernelSource: string;
  readonly bytes: number;
  /** Time spent building (0 when everything came from the cache). */
  readonly buildMs: number;
}

// Asynchronous: a connection to libvirtd stays open meanwhile and must keep answering its keepalives.
const run = promisify(execFile);

export class ProbeImageError extends Error {
  override readonly name = 'ProbeImageError';
}

/** The image must stay small: kernel plus initramfs under this. */
export const PROBE_IMAGE_LIMIT = 20 * 1024 * 1024;

export function probeCacheDir(): string {
  return process.env.SEVHARNESS_PROBE_CACHE ?? join(tmpdir(), 'sevharness-probe');
}

function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  // QEMU runs as its own user and opens the kernel and initrd by path: the directory must be traversable.
  chmodSync(dir, 0o755);
  return dir;
}

/** The unpacked tree of a Debian package, downloaded once into the cache. */
async function debianPackage(cache: string, pkg: string): Promise<string> {
  const tree = join(cache, 'pkgs', pkg);
  if (existsSync(join(tree, '.unpacked'))) return tree;
  const debs = ensureDir(join(cache, 'debs'));
  const before = new Set(readdirSync(debs));
  try {
    await run('apt-get', ['download', pkg], { cwd: debs, timeout: 300_000 });
  } catch (e) {
    throw new ProbeImageError(`apt-get download ${pkg} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
  }
  const deb = readdirSync(debs).find((f) => !before.has(f) && f.endsWith('.deb')) ?? readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new ProbeImageError(`apt-get download ${pkg} left no .deb in ${debs}`);
  ensureDir(tree);
  await run('dpkg-deb', ['-x', join(debs, deb), tree], { timeout: 120_000 });
  writeFileSync(join(tree, '.unpacked'), `${deb}\n`);
  return tree;
}

/** The Debian kernel package linux-image-amd64 stands for (linux-image-6.1.0-NN-amd64). */
async function debianKernelPackage(): Promise<string> {
  const { stdout: out } = await run('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8', timeout: 60_000 });
  const m = /Depends:\s*(linux-image-\S+)/.exec(out);
  if (!m) throw new ProbeImageError('apt-cache knows no linux-image-amd64 dependency');
  return m[1]!;
}

function hostKernel(): string | null {
  try {
    const k = readdirSync('/boot').filter((f) => /^vmlinuz-/.test(f)).sort().at(-1);
    if (!k) return null;
    readFileSync(join('/boot', k)).subarray(0, 1);
    return join('/boot', k);
  } catch {
    return null;
  }
}

async function kernelFrom(cache: string): Promise<{ path: string; source: string }> {
  const host = hostKernel();
  if (host) return { path: host, source: `host ${host}` };
  const pkg = await debianKernelPackage();
  const boot = join(await debianPackage(cache, pkg), 'boot');
  const k = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (!k) throw new ProbeImageError(`${pkg} holds no boot/vmlinuz-*`);
  return { path: join(boot, k), source: `Debian package ${pkg}` };
}

/** Builds (or finds in the cache) the kernel and initramfs of the probe guest. */
export async function probeImage(): Promise<ProbeImage> {
  const t0 = performance.now();
  const cache = ensureDir(probeCacheDir());
  const kernel = await kernelFrom(cache);
  const busybox = readFileSync(join(await debianPackage(cache, 'busybox-static'), 'bin', 'busybox'));
  const hash = createHash('sha256').update(INIT_SCRIPT).update(busybox).digest('hex').slice(0, 16);
  const initrd = join(cache, `initramfs-${hash}.img`);
  if (!existsSync(initrd)) {
    const image = initramfs([
      { name: 'bin', mode: S_IFDIR | 0o755 },
      { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
      { name: 'dev', mode: S_IFDIR | 0o755 },
      { name: 'proc', mode: S_IFDIR | 0o755 },
      { name: 'sys', mode: S_IFDIR | 0o755 },
      { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(INIT_SCRIPT) },
    ]);
    writeFileSync(initrd, image, { mode: 0o644 });
  }
  const bytes = statSync(kernel.path).size + statSync(initrd).size;
  if (bytes > PROBE_IMAGE_LIMIT) throw new ProbeImageError(`the probe image is ${bytes} bytes, over the ${PROBE_IMAGE_LIMIT}-byte limit`);
  return { kernel: kernel.path, initrd, kernelSource: kernel.source, bytes, buildMs: Math.round(performance.now() - t0) };
}
