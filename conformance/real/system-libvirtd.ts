/**
 * Gate for tests that need a real QEMU-driver libvirtd (qemu:///system). Where Docker is available
 * that is Debian 12's libvirtd in a container (containers/, no network, socket bind-mounted), so no
 * test touches this machine's /etc/libvirt or /run/libvirt; elsewhere the machine's own system
 * daemon, started with scripts/start-system-libvirtd.sh when its socket is missing. Outside CI a
 * host that can run neither skips with a printed notice; with CI=true that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startRealLibvirt } from '../../containers/real-libvirt.ts';
import { containersUnavailable } from '../../containers/gate.ts';
import { requireRealStack } from '../../containers/real-stack.ts';

export const SYSTEM_SOCKET = '/run/libvirt/libvirt-sock';
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'start-system-libvirtd.sh');

export type SystemLibvirtd =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      readonly uri: string;
      /** A bookworm container, or this machine's system daemon. */
      readonly where: 'container' | 'machine';
      /** Stops the container (the machine's daemon is left running, as it was found or started). */
      stop(): Promise<void>;
    };

function unavailable(reason: string): SystemLibvirtd {
  if (process.env.CI === 'true') throw new Error(`qemu:///system is required because CI=true: ${reason}`);
  process.stderr.write(`NOTICE: skipping qemu:///system tests, ${reason}\n`);
  return { available: false, reason };
}

/**
 * This machine's own system daemon (for tests whose domains name files on this machine). Always
 * runs the start script when root: a socket file alone proves nothing, since one left by a daemon
 * that died answers ECONNREFUSED. The daemon is left running; the test command's wrapper
 * (`start-system-libvirtd.sh CMD…`) stops what it started.
 */
export function requireMachineLibvirtd(needs: readonly string[] = ['libvirtd', 'qemu-system-x86_64']): boolean {
  const stack = requireRealStack([...needs]);
  if (!stack.available) return false;
  if (process.getuid?.() !== 0) {
    return existsSync(SYSTEM_SOCKET) || unavailable('the system libvirtd is not running and starting it needs root').available;
  }
  const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 || unavailable(`${SCRIPT} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`).available;
}

export async function requireSystemLibvirtd(): Promise<SystemLibvirtd> {
  if (containersUnavailable(['bookworm'], { build: false }) === null) {
    const real = await startRealLibvirt('bookworm');
    return { available: true, uri: real.uri, where: 'container', stop: () => real.stop() };
  }
  const stack = requireRealStack(['libvirtd', 'virtlogd', 'qemu-system-x86_64']);
  if (!stack.available) return { available: false, reason: `missing ${stack.missing.join(', ')}` };
  if (process.getuid?.() !== 0 && !existsSync(SYSTEM_SOCKET)) return unavailable('the system libvirtd is not running and starting it needs root');
  const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return unavailable(`${SCRIPT} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  return { available: true, uri: 'qemu:///system', where: 'machine', stop: async () => {} };
}
