/**
 * Where the package's own files are, the same from the source checkout (TypeScript run through
 * tsx) and from an installed package (compiled JavaScript under dist/). Data files (hardware
 * profiles, fake KDS keys) ship at their checkout paths, so they are named from the package root,
 * never relative to a module: a compiled module sits one directory deeper, under dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'sevharness';

function isOurManifest(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

let root: string | null = null;

/** The directory holding sevharness's package.json: the checkout, or node_modules/sevharness. */
export function packageRoot(): string {
  if (root !== null) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isOurManifest(dir)) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`no ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A file shipped with the package, by its path in the checkout (`hardware-profiles`, `fakelibvirt/kds/keys/…`). */
export function packageFile(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

/** The package's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
}

/** Whether the module at `moduleUrl` runs compiled (dist/, plain Node) rather than as TypeScript source. */
export function isCompiled(moduleUrl: string): boolean {
  return moduleUrl.endsWith('.js');
}

/**
 * A sibling module of `moduleUrl` by its stem (`worker`): `worker.js` beside a compiled module,
 * `worker.ts` beside a source one. For the module URLs that tsc does not rewrite (worker entries).
 */
export function siblingModule(moduleUrl: string, stem: string): URL {
  return new URL(`./${stem}${isCompiled(moduleUrl) ? '.js' : '.ts'}`, moduleUrl);
}
