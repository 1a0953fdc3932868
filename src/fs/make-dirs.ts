/**
 * `mkdir -p` that always ends. Node 20's `mkdirSync(dir, { recursive: true })` loops forever when
 * the kernel answers ENOENT for a directory whose parent exists (any path under /proc), so a bad
 * `--dir /proc/x` hung the CLI. Here each level is created once, from the deepest existing one
 * down, and the first failure is thrown as the system error it is.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function isDirectory(path: string): boolean | null {
  try {
    return statSync(path).isDirectory();
  } catch {
    return null;
  }
}

export function makeDirs(dir: string): void {
  const path = resolve(dir);
  const missing: string[] = [];
  for (let p = path; isDirectory(p) === null && dirname(p) !== p; p = dirname(p)) missing.push(p);
  // An existing file in the way: mkdir names it (EEXIST here, ENOTDIR for a level below it).
  if (missing.length === 0 && isDirectory(path) !== true) missing.push(path);
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      // Someone else may have made it meanwhile; anything else is the caller's error to report.
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST' && isDirectory(p) === true)) throw e;
    }
  }
}
