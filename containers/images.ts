/**
 * The real-libvirt images (containers/build.sh builds them from Debian's archive) and whether this
 * machine can run them: one Docker daemon reached over its UNIX socket, never a registry.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageFile } from '../src/fs/package-files.ts';

export const CONTAINERS_DIR = packageFile('containers');
const BUILD = join(CONTAINERS_DIR, 'build.sh');

/**
 * Debian releases with the libvirt and the QEMU stable branch their archive ships (what each image
 * runs; Debian follows QEMU's stable releases, so bookworm's QEMU reports 7.2.x).
 */
export const DISTROS = {
  bullseye: { debian: 11, libvirt: '7.0.0', qemu: '5.2' },
  bookworm: { debian: 12, libvirt: '9.0.0', qemu: '7.2' },
  trixie: { debian: 13, libvirt: '11.3.0', qemu: '10.0' },
} as const;
export type Distro = keyof typeof DISTROS;
export const isDistro = (s: string): s is Distro => Object.hasOwn(DISTROS, s);

/**
 * testcontainers' settings for our machines (shared reference machine.md §10): the local daemon's
 * socket, no Ryuk (it needs a pulled image), and localhost as the host (the machines carry
 * /.dockerenv, so testcontainers would otherwise look for a bridge network).
 */
export function dockerEnvironment(): void {
  process.env.DOCKER_HOST ??= 'unix:///var/run/docker.sock';
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
}

function docker(args: readonly string[]) {
  dockerEnvironment();
  return spawnSync('docker', args, { encoding: 'utf8', timeout: 30_000 });
}

/** Why containers cannot run here, or null when a Docker daemon answers. */
export function dockerUnavailable(): string | null {
  const r = docker(['version', '--format', '{{.Server.Version}}']);
  if (r.error) return `the docker client cannot run (${r.error.message})`;
  if (r.status !== 0) return `no Docker daemon answers at ${process.env.DOCKER_HOST} (${(r.stderr || r.stdout).trim().split('\n')[0]})`;
  return null;
}

/** The tag the current recipe gives a release's image (a hash of the recipe is part of it). */
export function imageTag(distro: Distro): string {
  const r = spawnSync('bash', [BUILD, '--tag', distro], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`containers: cannot compute the image tag: ${r.stderr}`);
  return r.stdout.trim();
}

export const imagePresent = (distro: Distro): boolean => docker(['image', 'inspect', imageTag(distro)]).status === 0;

/** Builds the release's image when the current recipe has none yet (debootstrap, import, build). */
export function ensureImage(distro: Distro): string {
  const tag = imageTag(distro);
  if (docker(['image', 'inspect', tag]).status === 0) return tag;
  // Progress goes to stderr: stdout may be a --json consumer's.
  const r = spawnSync('bash', [BUILD, distro], { stdio: ['ignore', 2, 2], timeout: 900_000 });
  if (r.status !== 0) throw new Error(`containers: building ${tag} failed (containers/build.sh ${distro}, exit ${r.status ?? r.signal})`);
  return tag;
}
