/** How to start the nova adapter, and whether this machine can (Debian python3-nova + libvirt-python). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const NOVA_PYTHON = '/usr/bin/python3';
export const NOVA_DRIVER = fileURLToPath(new URL('./driver.py', import.meta.url));
export const NOVA_DRIVER_COMMAND: readonly string[] = [NOVA_PYTHON, NOVA_DRIVER];

const NOVA_PACKAGE = '/usr/lib/python3/dist-packages/nova/virt/libvirt/driver.py';
const LIBVIRT_PYTHON = '/usr/lib/python3/dist-packages/libvirt.py';

/**
 * True when python3-nova and python3-libvirt are installed. Outside CI a missing package skips the
 * nova tests with a notice; with CI=true it is a failure, as for the other real-stack tests.
 */
export function novaAvailable(): boolean {
  const missing = [NOVA_PYTHON, NOVA_PACKAGE, LIBVIRT_PYTHON].filter((p) => !existsSync(p));
  if (missing.length === 0) return true;
  const msg = `nova adapter prerequisites missing: ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${msg} (required because CI=true)`);
  process.stderr.write(`NOTICE: skipping nova adapter tests, ${msg}\n`);
  return false;
}
