/**
 * `sevharness real-libvirt --distro bullseye|bookworm|trixie [--json]`: a real libvirtd of that
 * Debian release (libvirt 7.0, 9.0 or 11.3 with its QEMU) in a container with no network, its
 * socket on this machine, until SIGINT/SIGTERM; then the container is stopped and removed. The
 * image is built from Debian's archive when missing (containers/build.sh; root and debootstrap).
 */
import { DISTROS, isDistro } from '../../../containers/images.ts';
import { startRealLibvirt } from '../../../containers/real-libvirt.ts';
import { UsageError, requireString, type Command } from '../command.ts';

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export const realLibvirtCommand: Command = {
  name: 'real-libvirt',
  summary: 'run a real libvirtd of a Debian release (libvirt 7.0 / 9.0 / 11.3) in a container until SIGINT/SIGTERM',
  usage: '--distro bullseye|bookworm|trixie [--json]',
  options: {
    distro: { type: 'string', short: 'd' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const distro = requireString(values, 'distro');
    if (!isDistro(distro)) throw new UsageError(`unknown --distro '${distro}'; one of ${Object.keys(DISTROS).join(', ')}`);
    const stopped = untilSignal();
    let real;
    try {
      real = await startRealLibvirt(distro);
    } catch (e) {
      // No Docker, no image and no way to build one, a daemon that never got ready: said, not thrown.
      io.err(`error: cannot start a ${distro} libvirt container: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    try {
      if (values.json === true) {
        io.out(`${JSON.stringify({ uri: real.uri, socket: real.socket, distro, libvirt: real.libvirt })}\n`);
      } else {
        io.out(`${distro}: libvirt ${real.libvirt}, QEMU ${real.qemu}\n  uri:    ${real.uri}\n  virsh -c '${real.uri}' version\n`);
      }
      await stopped;
    } finally {
      await real.stop();
    }
    return 0;
  },
};
