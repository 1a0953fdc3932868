/**
 * The firmware images of the sysroot: each OVMF code image the profile lists, at its path under the
 * root, with the bytes the fake's QEMU measures for that loader path (this machine's file when it has
 * it, else the deterministic synthesized image). A guest owner validating a launch reads
 * SYSROOT/usr/share/…/OVMF_CODE.fd and gets exactly what was measured.
 */
import { dirname, join } from 'node:path';
import { ensureOwnDir, writeOwnFile } from '../../src/fs/own-files.ts';
import { ovmfImage } from '../firmware/ovmf.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import type { SysrootEntry } from './sysroot.ts';

/** The loader paths whose images the sysroot carries: the profile's OVMF code builds. */
export function firmwareImagePaths(profile: HardwareProfile): string[] {
  return [...new Set(profile.qemu.ovmf.map((o) => o.code))];
}

/** Writes every image under `dir` and returns their manifest entries. */
export function materializeFirmwareImages(profile: HardwareProfile, dir: string): SysrootEntry[] {
  return firmwareImagePaths(profile).map((path) => {
    const rel = path.replace(/^\/+/, '');
    const target = join(dir, rel);
    ensureOwnDir(dir, dirname(target));
    writeOwnFile(target, ovmfImage(path).bytes, { durable: false });
    return { path: rel, kind: 'file', mode: '0644', owner: 'root', group: 'root' };
  });
}
