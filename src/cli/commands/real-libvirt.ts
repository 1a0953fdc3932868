/**
 * `sevharness real-libvirt --distro bullseye|bookworm|trixie [--json]`: a real libvirtd of that
 * Debian release (libvirt 7.0, 9.0 or 11.3 with its QEMU) in a container with no network, its
 * socket on this machine, until SIGINT/SIGTERM; then the container is stopped and removed. The
 * image is built from Debian's archive when missing (containers/build.sh; root and debootstrap).
 */
import { DISTROS, isDistro } from '../../../containers/images.ts';
import { startRealLibvirt } from '../../../containers/real-libvirt.ts';
import { UsageError, requireString, type Command } from '../command.ts';

/**
 * Resolves on SIGINT/SIGTERM; until then a timer keeps Node alive (the container is no handle of
 * ours). The handlers stay registered until release(), after the container is gone: signal-exit
 * (loaded by testcontainers' dependencies) re-sends the signal, killing the process mid clean-up,
 * when it finds itself the only listener left.
 */
function untilSignal(): { readonly signalled: Promise<void>; release(): void } {
  let done: () => void = () => {};
  const signalled = new Promise<void>((resolve) => {
    done = resolve;
  });
  const alive = setInterval(() => {}, 1 << 30);
  const onSignal = () => {
    clearInterval(alive);
    done();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signalled,
    release() {
      clearInterval(alive);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
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
    const stop = untilSignal();
    let real;
    try {
      real = await startRealLibvirt(distro);
    } catch (e) {
      stop.release();
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
      await stop.signalled;
    } finally {
      await real.stop();
      stop.release();
    }
    return 0;
  },
};
