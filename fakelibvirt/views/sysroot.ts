/**
 * A directory tree with the host files tools read (kvm_amd parameters, /proc/cpuinfo, /dev/sev,
 * misc cgroup capacity, kernel release and command line, and sysroot-host.ts's memory, limits,
 * topology, KVM and firmware descriptors), plus `sysroot.json` recording the facts a plain file
 * cannot carry (device node type, mode, owner). Real mode (conformance/real/host-files.ts) reads
 * the tree as it reads `/` on a real host, taking device nodes' mode and owner from the manifest.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeDirs } from '../../src/fs/make-dirs.ts';
import { ensureOwnDir, writeOwnFile } from '../../src/fs/own-files.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { KVM_AMD_PARAMS, formatMiscCapacity, type KernelSevState } from '../profile/derive.ts';
import { formatCpuinfo } from './cpuinfo.ts';
import { materializeFirmwareImages } from './sysroot-firmware.ts';
import type { SysrootEntry, TreeWriter } from './sysroot-entry.ts';
import { cpuidRegisters, hostFiles, type PutFile } from './sysroot-host.ts';

export type { SysrootEntry } from './sysroot-entry.ts';

/** Parts of the tree written by other modules; each adds its files through `put`. */
type SysrootPart = (profile: HardwareProfile, kernel: KernelSevState, put: PutFile) => void;
const PARTS: readonly SysrootPart[] = [hostFiles];

/** /dev/sev is a misc device; KubeVirt's tests create it with `mknod /dev/sev c 10 124`. */
const DEV_SEV_NODE = { major: 10, minor: 124 } as const;
/** The x86 cpuid driver's character devices (Documentation/admin-guide/devices.txt: 203 = CPU CPUID). */
const CPUID_NODE = { major: 203, minor: 0 } as const;

export interface SysrootManifest {
  readonly profile: string;
  readonly entries: readonly SysrootEntry[];
}

/** The kernel release as `uname -r` prints it: taken from the boot image name when present. */
export function osRelease(profile: HardwareProfile): string {
  return /BOOT_IMAGE=\S*vmlinuz-(\S+)/.exec(profile.kernel.cmdline)?.[1] ?? profile.kernel.version;
}

/** Every file of the tree with its content, keyed by path relative to the root. */
export function sysrootFiles(profile: HardwareProfile, kernel: KernelSevState): Map<string, { content: string; entry: SysrootEntry }> {
  const files = new Map<string, { content: string; entry: SysrootEntry }>();
  const file = (path: string, content: string, mode = '0444') =>
    files.set(path, { content, entry: { path, kind: 'file', mode, owner: 'root', group: 'root' } });

  if (kernel.kvmAmdLoaded) {
    for (const p of KVM_AMD_PARAMS) {
      const text = kernel.sysfs[p];
      if (text !== undefined) file(`sys/module/kvm_amd/parameters/${p}`, text);
    }
  }
  file('proc/cpuinfo', formatCpuinfo(profile, kernel));
  file('proc/sys/kernel/osrelease', `${osRelease(profile)}\n`, '0444');
  file('proc/cmdline', `${profile.kernel.cmdline}\n`);
  const misc = formatMiscCapacity(kernel.miscCapacity);
  if (misc !== null) file('sys/fs/cgroup/misc.capacity', misc);

  for (const part of PARTS) part(profile, kernel, (path, content, mode = '0444') => file(path, content, mode));

  const d = profile.devSev;
  if (d.present) {
    const entry: SysrootEntry = { path: 'dev/sev', kind: 'chardev', mode: d.mode, owner: d.owner, group: d.group, ...DEV_SEV_NODE };
    const note = `placeholder for /dev/sev: character device ${DEV_SEV_NODE.major}:${DEV_SEV_NODE.minor}, mode ${d.mode}, owner ${d.owner}:${d.group}\n`;
    files.set('dev/sev', { content: note, entry });
  }
  const registers = cpuidRegisters(profile);
  if (registers) {
    const entry: SysrootEntry = { path: 'dev/cpu/0/cpuid', kind: 'chardev', mode: '0400', owner: 'root', group: 'root', ...CPUID_NODE, registers };
    files.set(entry.path, { content: 'placeholder for /dev/cpu/0/cpuid: its leaves are in sysroot.json\n', entry });
  }
  return files;
}

/** Into a tree that may already exist and hold anything: links are never followed (src/fs/own-files.ts). */
function ownTreeWriter(root: string): TreeWriter {
  return {
    ensureDir: (dir) => ensureOwnDir(root, dir),
    write: (path, content) => writeOwnFile(path, content, { durable: false }),
  };
}

/**
 * Into a tree made here and now, inside a directory only this process writes (a run's private
 * temporary directory): nothing can have been planted, so each directory is made once and each file
 * created exclusively (O_EXCL: an existing name is an error, never written through) — a third of
 * the system calls of the general writer.
 */
function freshTreeWriter(root: string): TreeWriter {
  mkdirSync(root);
  const made = new Set([root]);
  return {
    ensureDir(dir) {
      if (made.has(dir)) return;
      mkdirSync(dir, { recursive: true });
      for (let d = dir; !made.has(d); d = dirname(d)) made.add(d);
    },
    write: (path, content) => writeFileSync(path, content, { flag: 'wx' }),
  };
}

export interface MaterializeOptions {
  /** A tree already written whose firmware images may be hard-linked (sysroot-firmware.ts). */
  readonly firmwareFrom?: string;
  /**
   * `dir` does not exist yet and its parent is private to this process: the tree is written
   * without the general writer's guards against what others planted (there is nothing to guard).
   */
  readonly fresh?: boolean;
}

/**
 * Writes the tree under `dir` and returns its manifest (also written as `sysroot.json`). Nothing
 * inside `dir` is followed: a file is replaced by rename (a planted symlink is replaced, not
 * written through) and a symlinked directory on the way is refused.
 */
export function materializeSysroot(profile: HardwareProfile, kernel: KernelSevState, dir: string, opts: MaterializeOptions = {}): SysrootManifest {
  const files = sysrootFiles(profile, kernel);
  let tree: TreeWriter;
  if (opts.fresh === true) tree = freshTreeWriter(dir);
  else {
    makeDirs(dir);
    tree = ownTreeWriter(dir);
  }
  for (const [path, { content }] of files) {
    const target = join(dir, path);
    tree.ensureDir(dirname(target));
    tree.write(target, content);
    // Placeholders of device nodes carry the node's permission bits, so a plain stat sees them too.
    const entry = files.get(path)!.entry;
    if (entry.kind === 'chardev') chmodSync(target, Number.parseInt(entry.mode, 8));
  }
  const firmwareEntries = materializeFirmwareImages(profile, dir, tree, opts.firmwareFrom);
  const manifest: SysrootManifest = { profile: profile.name, entries: [...[...files.values()].map((f) => f.entry), ...firmwareEntries] };
  tree.write(join(dir, 'sysroot.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
