/**
 * Keeps a materialised sysroot in step with a host whose faults change its files: on every change
 * the tree is written again and the files the host no longer has (a removed /dev/sev) are deleted,
 * so a driver reading the directory sees the host as it is now.
 */
import { lstatSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { FakeHost } from '../host/fake-host.ts';
import { materializeSysroot, type SysrootManifest } from '../views/sysroot.ts';

function manifestPaths(dir: string): string[] {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'sysroot.json'), 'utf8')) as SysrootManifest;
    return m.entries.map((e) => e.path);
  } catch {
    return [];
  }
}

/** Writes the host's tree under `dir` and deletes what the previous tree had and this one lacks. */
export function syncSysroot(host: FakeHost, dir: string): void {
  const before = manifestPaths(dir);
  const now = new Set(materializeSysroot(host.profile, host.kernel, dir).entries.map((e) => e.path));
  for (const p of before) {
    if (now.has(p)) continue;
    const target = resolve(dir, p);
    // Only paths inside the tree, and never through a link: lstat, then unlink the entry itself.
    if (relative(dir, target).startsWith('..')) continue;
    try {
      if (!lstatSync(target).isDirectory()) rmSync(target, { force: true });
    } catch {
      // already gone
    }
  }
}

/** Rewrites `dir` after every control-plane change of `host`; returns the function that stops it. */
export function followSysroot(host: FakeHost, dir: string): () => void {
  return host.control.onChange(() => syncSysroot(host, dir));
}
