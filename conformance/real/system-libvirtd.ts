/**
 * Gate for tests that need the system libvirtd (qemu:///system): starts it with
 * scripts/start-system-libvirtd.sh when its socket is missing. Outside CI a host that cannot run it
 * (no root, no libvirt) skips with a printed notice; with CI=true that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireRealStack } from '../../test/support/real-stack.ts';

export const SYSTEM_SOCKET = '/run/libvirt/libvirt-sock';
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'start-system-libvirtd.sh');

export interface SystemLibvirtd {
  readonly available: boolean;
  readonly reason?: string;
}

function unavailable(reason: string): SystemLibvirtd {
  if (process.env.CI === 'true') throw new Error(`qemu:///system is required because CI=true: ${reason}`);
  process.stderr.write(`NOTICE: skipping qemu:///system tests, ${reason}\n`);
  return { available: false, reason };
}

export function requireSystemLibvirtd(): SystemLibvirtd {
  const stack = requireRealStack(['libvirtd', 'virtlogd', 'qemu-system-x86_64']);
  if (!stack.available) return { available: false, reason: `missing ${stack.missing.join(', ')}` };
  if (process.getuid?.() !== 0 && !existsSync(SYSTEM_SOCKET)) return unavailable('the system libvirtd is not running and starting it needs root');
  const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return unavailable(`${SCRIPT} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  return { available: true };
}
