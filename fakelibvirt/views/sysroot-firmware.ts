/**
 * The firmware images of the sysroot: each OVMF code image the profile lists, at its path under the
 * root, with the bytes the fake's QEMU measures for that loader path (this machine's file when it has
 * it, else the deterministic synthesized image). A guest owner validating a launch reads
 * SYSROOT/usr/share/…/OVMF_CODE.fd and gets exactly what was measured.
 */
import { linkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ovmfImage } from '../firmware/ovmf.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import type { SysrootEntry, TreeWriter } from './sysroot-entry.ts';

/** The loader paths whose images the sysroot carries: the profile's OVMF code builds. */
export function firmwareImagePaths(profile: HardwareProfile): string[] {
  return [...new Set(profile.qemu.ovmf.map((o) => o.code))];
}

/**
 * Writes every image under `dir` and returns their manifest entries. With `linkFrom` (another tree
 * these images were written into: an image's bytes depend on its path alone), an image found there
 * is hard-linked instead of written again: trees of one host differ in a few text files, not in
 * their megabytes of firmware.
 */
export function materializeFirmwareImages(profile: HardwareProfile, dir: string, tree: TreeWriter, linkFrom?: string): SysrootEntry[] {
  return firmwareImagePaths(profile).map((path) => {
    const rel = path.replace(/^\/+/, '');
    const target = join(dir, rel);
    tree.ensureDir(dirname(target));
    if (!(linkFrom !== undefined && linked(join(linkFrom, rel), target))) tree.write(target, ovmfImage(path).bytes);
    return { path: rel, kind: 'file', mode: '0644', owner: 'root', group: 'root' };
  });
}

/** A new name for an existing image; false (and the caller writes it) when there is none or the name is taken. */
function linked(from: string, target: string): boolean {
  try {
    linkSync(from, target);
    return true;
  } catch {
    return false;
  }
}
