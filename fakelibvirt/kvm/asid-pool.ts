/**
 * KVM's SEV ASID allocator (arch/x86/kvm/svm/sev.c `sev_asid_new` / `sev_asid_free` /
 * `__sev_recycle_asids`), with its two bitmaps:
 *
 *   used    — every ASID handed out and not yet recycled, live or freed;
 *   reclaim — ASIDs whose VM was destroyed but whose cache lines may still hold its data.
 *
 * A freed ASID stays unusable until an allocation finds its range exhausted; only then does
 * KVM pay for WBINVD on every CPU plus DF_FLUSH, and that flush recycles every reclaimable ASID at
 * once. So ASIDs are handed out in ascending order until the range is used up.
 */
import { KvmError } from './errno.ts';
import type { MiscCgroup, MiscResource } from './misc-cgroup.ts';
import { ROOT_CGROUP } from './misc-cgroup.ts';

export type AsidKind = 'sev' | 'sev-es' | 'sev-snp';

/** The kernel's log line when the DF_FLUSH behind a recycle fails (`sev_flush_asids`). */
export const dfFlushFailedLog = (snp: boolean, ret: number, error: number): string =>
  `SEV${snp ? '-SNP' : ''}: DF_FLUSH failed, ret=${ret}, error=${error === 0 ? '0' : `0x${error.toString(16)}`}`;

export interface AsidPoolOptions {
  /** CPUID 0x8000001F ECX. */
  readonly maxSevAsid: number;
  /** CPUID 0x8000001F EDX: first plain-SEV ASID; ES and SNP use 1 .. min-1. */
  readonly minSevAsid: number;
  readonly sevEnabled: boolean;
  readonly sevEsEnabled: boolean;
  /** Default false. */
  readonly snpEnabled?: boolean;
  /** Null for kernels without the misc controller (before 5.13). */
  readonly cgroup: MiscCgroup | null;
  /**
   * The DF_FLUSH (SNP_DF_FLUSH when SNP is on) the recycle issues, e.g. `() => fw.dfFlush()`.
   * Throwing an error with a numeric `status` (a SevFirmwareError) makes the flush fail.
   */
  readonly onFlush?: () => unknown;
  /**
   * Kernels with commit 0aa6b90ef9d7 ("allow zero SEV ASIDs", 2024, also in stable) check the range
   * before charging the cgroup and answer an empty range with -ENOTTY. Older kernels charge first,
   * so an empty range fails the charge (-EINVAL at capacity 0) or the search (-EBUSY). Default true.
   */
  readonly rangeCheckFirst?: boolean;
}

interface Holder {
  readonly kind: AsidKind;
  readonly cgroup: string;
}

export class AsidPool {
  readonly maxSevAsid: number;
  readonly minSevAsid: number;
  /** pr_err lines the allocator emitted, oldest first. */
  readonly kernelLog: string[] = [];
  private readonly opts: AsidPoolOptions;
  /** Index = ASID; bit 0 unused, as in the kernel (nr_asids = max + 1). */
  private readonly used: Uint8Array;
  private readonly reclaim: Uint8Array;
  private readonly live = new Map<number, Holder>();
  /**
   * Per range (by its first ASID), where the search for a zero bit may start: every ASID below it
   * is used. Bits only clear in a recycle, which forgets these; so the search finds what the
   * kernel's find_next_zero_bit from the range's start finds, without walking a full range.
   */
  private readonly scanFrom = new Map<number, number>();
  private flushes = 0;

  constructor(opts: AsidPoolOptions) {
    this.opts = opts;
    this.maxSevAsid = opts.maxSevAsid;
    this.minSevAsid = opts.minSevAsid;
    this.used = new Uint8Array(opts.maxSevAsid + 1);
    this.reclaim = new Uint8Array(opts.maxSevAsid + 1);
  }

  /** DF_FLUSHes issued by recycles (successful or not). */
  get flushCount(): number {
    return this.flushes;
  }

  /** The ASID range a VM of this kind draws from; min > max means the range is empty. */
  range(kind: AsidKind): { min: number; max: number } {
    return kind === 'sev' ? { min: this.minSevAsid, max: this.maxSevAsid } : { min: 1, max: this.minSevAsid - 1 };
  }

  /**
   * KVM_SEV_INIT / KVM_SEV_ES_INIT / KVM_SEV_INIT2 up to the ASID: returns the new ASID or throws
   * a KvmError (-ENOTTY, -EINVAL, -EBUSY) exactly where the kernel would fail.
   */
  allocate(kind: AsidKind, cgroupPath: string = ROOT_CGROUP): number {
    // svm_mem_enc_ioctl: no SEV at all, or KVM_SEV_ES_INIT with sev_es off, is -ENOTTY; an SNP
    // request without SNP fails the same way (QEMU prints ret=-25, AMDESE/AMDSEV#258).
    if (!this.opts.sevEnabled) throw new KvmError('ENOTTY', 'SEV is not enabled in KVM');
    if (kind === 'sev-es' && !this.opts.sevEsEnabled) throw new KvmError('ENOTTY', 'SEV-ES is not enabled in KVM');
    if (kind === 'sev-snp' && !(this.opts.snpEnabled ?? false)) throw new KvmError('ENOTTY', 'SEV-SNP is not enabled in KVM');

    const { min, max } = this.range(kind);
    const rangeFirst = this.opts.rangeCheckFirst ?? true;
    if (rangeFirst && min > max) throw new KvmError('ENOTTY', `no ${kind} ASIDs (range ${min} - ${max})`);

    // ES and SNP VMs both run with es_active, so both charge sev_es.
    const resource: MiscResource = kind === 'sev' ? 'sev' : 'sev_es';
    this.opts.cgroup?.tryCharge(cgroupPath, resource);

    let asid = this.findFree(min, max);
    if (asid === null && this.recycle(min, max)) asid = this.findFree(min, max);
    if (asid === null) {
      this.opts.cgroup?.uncharge(cgroupPath, resource);
      throw new KvmError('EBUSY', `no free ${kind} ASID in ${min} - ${max}`);
    }
    if (this.live.has(asid)) throw new Error(`ASID invariant broken: ASID ${asid} is already held by a live guest`);
    this.used[asid] = 1;
    this.scanFrom.set(min, asid + 1);
    this.live.set(asid, { kind, cgroup: cgroupPath });
    return asid;
  }

  /** VM destroy: the ASID only joins the reclaim bitmap; the cgroup is uncharged at once. */
  free(asid: number): void {
    const holder = this.live.get(asid);
    if (!holder) throw new Error(`ASID ${asid} is not held by a live guest`);
    this.live.delete(asid);
    this.reclaim[asid] = 1;
    this.opts.cgroup?.uncharge(holder.cgroup, holder.kind === 'sev' ? 'sev' : 'sev_es');
  }

  /** Live ASIDs, ascending. */
  inUse(): number[] {
    return [...this.live.keys()].sort((a, b) => a - b);
  }

  /** Freed ASIDs waiting for a flush, ascending. */
  reclaimable(): number[] {
    const out: number[] = [];
    for (let a = 1; a < this.reclaim.length; a++) if (this.reclaim[a]) out.push(a);
    return out;
  }

  kindOf(asid: number): AsidKind | undefined {
    return this.live.get(asid)?.kind;
  }

  /** find_next_zero_bit(used, max + 1, min), or null when it runs past max. */
  private findFree(min: number, max: number): number | null {
    for (let a = Math.max(min, 1, this.scanFrom.get(min) ?? 0); a <= max; a++) if (!this.used[a]) return a;
    return null;
  }

  /**
   * `sev_hardware_unsetup` when kvm_amd unloads: all guests are gone and every ASID is flushed
   * (`sev_flush_asids(1, max_sev_asid)`), so the next load finds none awaiting DF_FLUSH.
   */
  unload(): void {
    if (!this.opts.sevEnabled) return;
    this.flush();
  }

  /**
   * `__sev_recycle_asids`: flush only if a reclaimable ASID lies in this range; on a successful
   * flush, every reclaimable ASID (of either range) becomes free again.
   */
  private recycle(min: number, max: number): boolean {
    let found = false;
    for (let a = Math.max(min, 1); a <= max && a < this.reclaim.length; a++) if (this.reclaim[a]) { found = true; break; }
    if (!found) return false;
    if (!this.flush()) return false;
    for (let a = 1; a < this.reclaim.length; a++) {
      if (this.reclaim[a]) { this.reclaim[a] = 0; this.used[a] = 0; }
    }
    this.scanFrom.clear();
    return true;
  }

  /** `sev_flush_asids`: DF_FLUSH through the firmware; a failure is logged as the kernel logs it. */
  private flush(): boolean {
    this.flushes++;
    try {
      this.opts.onFlush?.();
      return true;
    } catch (e) {
      const status = typeof e === 'object' && e !== null && 'status' in e && typeof e.status === 'number' ? e.status : 0;
      // sev_do_cmd turns any non-zero firmware status into -EIO.
      this.kernelLog.push(dfFlushFailedLog(this.opts.snpEnabled ?? false, -5, status));
      return false;
    }
  }
}
