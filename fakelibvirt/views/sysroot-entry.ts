/** How a sysroot tree's directories and files are made (sysroot.ts's writers; sysroot-firmware.ts writes its images through one). */
export interface TreeWriter {
  /** `dir` (inside the tree) and its missing parents. */
  ensureDir(dir: string): void;
  write(path: string, content: string | Uint8Array): void;
}

/** One file or device node of a materialised sysroot, as its manifest lists it. */
export interface SysrootEntry {
  readonly path: string;
  readonly kind: 'file' | 'chardev';
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
  readonly major?: number;
  readonly minor?: number;
  /**
   * For the cpuid device (/dev/cpu/0/cpuid, read with pread at the leaf's offset): the leaves the
   * host answers, as hex leaf → [EAX, EBX, ECX, EDX]. A placeholder file cannot be read that way.
   */
  readonly registers?: Readonly<Record<string, readonly [number, number, number, number]>>;
}
