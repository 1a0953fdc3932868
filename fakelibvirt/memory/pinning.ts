/**
 * Pinning SEV guest memory: KVM's per-VM RLIMIT_MEMLOCK check in `sev_pin_memory`
 * (`MemlockAccount`), and the host-wide view where pinned pages cannot be reclaimed, so
 * over-commit ends with the OOM killer choosing a victim (`HostMemory`).
 */
import { KvmError } from '../kvm/errno.ts';

export const PAGE_SIZE = 4096;

/** The kernel's pr_err when a registration would exceed RLIMIT_MEMLOCK. */
export const memlockExceededLog = (lockedPages: number, limitPages: number): string =>
  `SEV: ${lockedPages} locked pages exceed the lock limit of ${limitPages}.`;

export interface MemlockOptions {
  /** RLIMIT_MEMLOCK of the QEMU process in bytes, or 'unlimited' (libvirt with <locked/>). */
  readonly limitBytes: number | 'unlimited';
  /** CAP_IPC_LOCK bypasses the limit. */
  readonly capIpcLock?: boolean;
}

/**
 * One VM's `sev->pages_locked` against RLIMIT_MEMLOCK. The check counts this VM's SEV pins only
 * (not the process's other mlocked memory) and compares pages: locked + new > limit >> PAGE_SHIFT.
 */
export class MemlockAccount {
  private lockedPages = 0;
  private readonly opts: MemlockOptions;

  constructor(opts: MemlockOptions) {
    this.opts = opts;
  }

  get pagesLocked(): number {
    return this.lockedPages;
  }

  /** rlimit >> PAGE_SHIFT, as the kernel prints it; null when unlimited. */
  get limitPages(): number | null {
    return this.opts.limitBytes === 'unlimited' ? null : Math.floor(this.opts.limitBytes / PAGE_SIZE);
  }

  /**
   * KVM_MEMORY_ENCRYPT_REG_REGION for [uaddr, uaddr + len): the pages it spans are pinned, or the
   * call fails with -ENOMEM (and the kernel log line) when the limit would be exceeded. Returns
   * the number of pages pinned.
   */
  pin(len: number, uaddr = 0): number {
    if (len <= 0 || !Number.isSafeInteger(uaddr + len)) throw new KvmError('EINVAL', 'KVM_MEMORY_ENCRYPT_REG_REGION');
    const first = Math.floor(uaddr / PAGE_SIZE);
    const last = Math.floor((uaddr + len - 1) / PAGE_SIZE);
    const npages = last - first + 1;
    const locked = this.lockedPages + npages;
    const limit = this.limitPages;
    if (limit !== null && locked > limit && !this.opts.capIpcLock) {
      throw new KvmError('ENOMEM', 'KVM_MEMORY_ENCRYPT_REG_REGION', [memlockExceededLog(locked, limit)]);
    }
    this.lockedPages = locked;
    return npages;
  }

  /** KVM_MEMORY_ENCRYPT_UNREG_REGION (or VM teardown) releases the pages. */
  unpin(pages: number): void {
    if (pages > this.lockedPages) throw new Error(`unpinning ${pages} pages but only ${this.lockedPages} are locked`);
    this.lockedPages -= pages;
  }
}

/** A QEMU process as the OOM killer reports it. */
export interface PinningProcess {
  readonly pid: number;
  /** The domain the process runs; the caller uses it to kill the right domain. */
  readonly domain: string;
  /** task comm; truncated to 15 characters like the kernel's TASK_COMM_LEN. */
  readonly comm?: string;
  readonly uid?: number;
  /** total-vm in KiB; defaults to the pinned size (the model knows nothing else about the VMA layout). */
  readonly totalVmKiB?: number;
}

export type PinResult =
  | { readonly ok: true; readonly pinnedBytes: number }
  | {
      readonly ok: false;
      /** The process to kill (it may be the requester itself). Nothing was pinned. */
      readonly victim: PinningProcess;
      /** The kernel's log line for the kill. */
      readonly event: string;
    };

/** QEMU's binary name as the kernel's comm holds it. */
export const QEMU_COMM = 'qemu-system-x86_64'.slice(0, 15);
/** The qemu user on Fedora/RHEL. */
export const QEMU_UID = 107;

/**
 * The kernel's kill report (mm/oom_kill.c, 5.x+ shape). anon-rss is the pinned memory; page tables
 * are estimated at one 8-byte PTE per 4 KiB page.
 */
export function oomKillLine(p: PinningProcess, anonRssKiB: number): string {
  const comm = (p.comm ?? QEMU_COMM).slice(0, 15);
  const totalVm = p.totalVmKiB ?? anonRssKiB;
  const pgtables = Math.ceil(anonRssKiB / 512);
  return `Out of memory: Killed process ${p.pid} (${comm}) total-vm:${totalVm}kB, anon-rss:${anonRssKiB}kB, file-rss:0kB, shmem-rss:0kB, UID:${p.uid ?? QEMU_UID} pgtables:${pgtables}kB oom_score_adj:0`;
}

/**
 * Host memory available to guests (total minus what the host reserves) and what each QEMU has
 * pinned. Pinned pages are unreclaimable, so a pin that does not fit means the OOM killer runs.
 */
export class HostMemory {
  readonly capacityBytes: number;
  private readonly pinned = new Map<number, { proc: PinningProcess; bytes: number }>();
  /** The sum over `pinned`, kept as it changes: a start must not walk every running guest. */
  private used = 0;
  /** Kernel log lines (OOM kills), oldest first. */
  readonly events: string[] = [];

  constructor(opts: { readonly totalKiB: number; readonly reservedKiB: number }) {
    this.capacityBytes = Math.max(0, opts.totalKiB - opts.reservedKiB) * 1024;
  }

  get usedBytes(): number {
    return this.used;
  }

  get freeBytes(): number {
    return this.capacityBytes - this.usedBytes;
  }

  pinnedBy(pid: number): number {
    return this.pinned.get(pid)?.bytes ?? 0;
  }

  /**
   * Pin `bytes` more for `proc`. If they do not fit, nothing is pinned and the result names the OOM
   * victim: the process with the most pinned memory, counting the requester with what it is
   * trying to pin (its pages are being faulted in), ties going to the earliest-started process.
   * The caller kills the victim's domain, calls `release`, and may retry.
   */
  pin(proc: PinningProcess, bytes: number): PinResult {
    if (bytes <= this.freeBytes) {
      const e = this.pinned.get(proc.pid);
      if (e) e.bytes += bytes;
      else this.pinned.set(proc.pid, { proc, bytes });
      this.used += bytes;
      return { ok: true, pinnedBytes: this.pinnedBy(proc.pid) };
    }
    const candidates = [...this.pinned.values()].map((e) => ({ proc: e.proc, bytes: e.bytes }));
    const self = candidates.find((c) => c.proc.pid === proc.pid);
    if (self) self.bytes += bytes;
    else candidates.push({ proc, bytes });
    let victim = candidates[0]!;
    for (const c of candidates) if (c.bytes > victim.bytes) victim = c;
    const event = oomKillLine(victim.proc, Math.ceil(victim.bytes / 1024));
    this.events.push(event);
    return { ok: false, victim: victim.proc, event };
  }

  /** The process exited (domain destroyed or killed): its pins are gone. */
  release(pid: number): void {
    const e = this.pinned.get(pid);
    if (!e) return;
    this.used -= e.bytes;
    this.pinned.delete(pid);
  }
}
