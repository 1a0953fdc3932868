/**
 * Gate for tests that need the real-libvirt containers (containers/): a Docker daemon that answers
 * and, for each release, its image or the means to build it (debootstrap). Outside CI a machine
 * without them skips with a printed notice; with CI=true that is a failure, never a skip.
 */
import { existsSync } from 'node:fs';
import { dockerUnavailable, imagePresent, type Distro } from './images.ts';

/**
 * Why the releases' containers cannot run here, or null. With `build: false` a missing image is
 * reason enough (for tests that fall back to this machine's libvirtd rather than wait minutes
 * for a build inside a hook).
 */
export function containersUnavailable(distros: readonly Distro[], { build = true } = {}): string | null {
  const why = dockerUnavailable();
  if (why) return why;
  const missing = distros.filter((d) => !imagePresent(d));
  if (missing.length > 0 && (!build || !existsSync('/usr/sbin/debootstrap'))) {
    return `no image for ${missing.join(', ')}${build ? ' and no debootstrap to build one' : ''} (containers/build.sh)`;
  }
  return null;
}

/** Null when the containers can run; otherwise the reason, after failing in CI or printing a notice. */
export function requireContainers(distros: readonly Distro[]): string | null {
  const why = containersUnavailable(distros);
  if (why === null) return null;
  if (process.env.CI === 'true') throw new Error(`the real-libvirt containers cannot run: ${why} (required because CI=true)`);
  process.stderr.write(`NOTICE: skipping real-libvirt container tests: ${why}\n`);
  return why;
}
