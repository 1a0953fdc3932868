/**
 * Gate for tests that need real libvirt/QEMU binaries. Missing components skip the test with a
 * printed notice on a developer machine, and fail the run in CI (CI=true), where they must exist.
 *
 *   const stack = requireRealStack(['libvirtd', 'virsh']);
 *   describe.skipIf(!stack.available)('against a real libvirtd', () => { ... });
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface RealStack {
  readonly available: boolean;
  readonly missing: readonly string[];
  /** Absolute paths of the components that were found. */
  readonly paths: Readonly<Record<string, string>>;
}

const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** Finds an executable on PATH (plus the sbin directories, where libvirtd lives). */
export function findExecutable(name: string): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d !== '');
  for (const d of dirs) {
    const p = join(d, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function requireRealStack(components: readonly string[]): RealStack {
  const paths: Record<string, string> = {};
  const missing: string[] = [];
  for (const c of components) {
    const p = findExecutable(c);
    if (p) paths[c] = p;
    else missing.push(c);
  }
  if (missing.length > 0) {
    const msg = `real-stack components missing: ${missing.join(', ')}`;
    if (process.env.CI === 'true') throw new Error(`${msg} (required because CI=true)`);
    process.stderr.write(`NOTICE: skipping real-stack tests, ${msg}\n`);
  }
  return { available: missing.length === 0, missing, paths };
}
