import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SevFirmware } from '../../fakelibvirt/firmware/sev-firmware.ts';
import { SevStatus } from '../../fakelibvirt/firmware/status.ts';
import { AsidPool, dfFlushFailedLog, type AsidKind, type AsidPoolOptions } from '../../fakelibvirt/kvm/asid-pool.ts';
import { KvmError, type ErrnoCode } from '../../fakelibvirt/kvm/errno.ts';
import { MiscCgroup, ROOT_CGROUP } from '../../fakelibvirt/kvm/misc-cgroup.ts';
import { errnoOf } from './errno-of.ts';


const pool = (o: Partial<AsidPoolOptions> & Pick<AsidPoolOptions, 'maxSevAsid' | 'minSevAsid'>) =>
  new AsidPool({ sevEnabled: true, sevEsEnabled: o.minSevAsid > 1, cgroup: null, ...o });

describe('Naples (ECX 15, EDX 1)', () => {
  it('hands out 1..15 in order; the 16th is -EBUSY without a flush when nothing was freed', () => {
    const p = pool({ maxSevAsid: 15, minSevAsid: 1 });
    const got = Array.from({ length: 15 }, () => p.allocate('sev'));
    expect(got).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(errnoOf(() => p.allocate('sev'))).toBe('EBUSY');
    // __sev_recycle_asids flushes only when some ASID in the range is reclaimable.
    expect(p.flushCount).toBe(0);
  });

  it('freed ASIDs are not reused until exhaustion, then one flush recycles them all', () => {
    let flushes = 0;
    const p = pool({ maxSevAsid: 15, minSevAsid: 1, onFlush: () => flushes++ });
    for (let i = 0; i < 5; i++) p.allocate('sev');
    p.free(2);
    p.free(4);
    expect(p.reclaimable()).toEqual([2, 4]);
    // Ascending order continues past the freed ones.
    const next = Array.from({ length: 10 }, () => p.allocate('sev'));
    expect(next).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(p.flushCount).toBe(0);
    // Exhausted: one flush, both freed ASIDs become free, the lowest is handed out.
    expect(p.allocate('sev')).toBe(2);
    expect(flushes).toBe(1);
    expect(p.reclaimable()).toEqual([]);
    expect(p.allocate('sev')).toBe(4);
    expect(p.flushCount).toBe(1);
    // Full again with nothing reclaimable: -EBUSY after that one flush.
    expect(errnoOf(() => p.allocate('sev'))).toBe('EBUSY');
    expect(p.flushCount).toBe(1);
  });

  it('with the misc cgroup (5.13+), the 16th fails in the cgroup charge first', () => {
    const cg = new MiscCgroup({ sev: 15 });
    cg.create('/machine.slice');
    const p = pool({ maxSevAsid: 15, minSevAsid: 1, cgroup: cg });
    for (let i = 0; i < 15; i++) p.allocate('sev', '/machine.slice');
    expect(errnoOf(() => p.allocate('sev', '/machine.slice'))).toBe('EBUSY');
    expect(cg.formatEvents('/machine.slice')).toBe('sev.max 1\n');
    expect(cg.formatCurrent('/machine.slice')).toBe('sev 15\n');
  });

  it('a -EBUSY from the search undoes the cgroup charge', () => {
    const fw = new SevFirmware({ apiMajor: 0, apiMinor: 17, build: 1, esInitialised: false, snpInitialised: false });
    const cg = new MiscCgroup({ sev: 15 });
    const p = pool({ maxSevAsid: 15, minSevAsid: 1, cgroup: cg, onFlush: () => fw.dfFlush() });
    for (let i = 0; i < 15; i++) p.allocate('sev');
    p.free(1);
    // The cgroup has room (14 live), but the bitmap is full and the recycling flush fails.
    fw.use({ command: 'DF_FLUSH', status: SevStatus.HWERROR_PLATFORM });
    expect(errnoOf(() => p.allocate('sev'))).toBe('EBUSY');
    expect(cg.current(ROOT_CGROUP, 'sev')).toBe(14);
    expect(cg.peak(ROOT_CGROUP, 'sev')).toBe(15);
  });
});

describe('Rome default (ECX 509, EDX 1): no SEV-ES ASIDs', () => {
  it('KVM_SEV_ES_INIT with sev_es disabled is -ENOTTY before any ASID logic', () => {
    const cg = new MiscCgroup({ sev: 509 });
    const p = new AsidPool({ maxSevAsid: 509, minSevAsid: 1, sevEnabled: true, sevEsEnabled: false, cgroup: cg });
    expect(errnoOf(() => p.allocate('sev-es'))).toBe('ENOTTY');
    expect(p.allocate('sev')).toBe(1);
  });

  it('current kernels check the empty ES range first: -ENOTTY', () => {
    const cg = new MiscCgroup({ sev: 509 });
    const p = new AsidPool({ maxSevAsid: 509, minSevAsid: 1, sevEnabled: true, sevEsEnabled: true, cgroup: cg });
    expect(p.range('sev-es')).toEqual({ min: 1, max: 0 });
    expect(errnoOf(() => p.allocate('sev-es'))).toBe('ENOTTY');
  });

  it('older kernels charge first: sev_es capacity 0 gives -EINVAL from the cgroup', () => {
    const cg = new MiscCgroup({ sev: 509 });
    const p = new AsidPool({ maxSevAsid: 509, minSevAsid: 1, sevEnabled: true, sevEsEnabled: true, cgroup: cg, rangeCheckFirst: false });
    expect(errnoOf(() => p.allocate('sev-es'))).toBe('EINVAL');
    // Without the controller the empty search is -EBUSY, as pre-5.13 kernels answered.
    const old = new AsidPool({ maxSevAsid: 509, minSevAsid: 1, sevEnabled: true, sevEsEnabled: true, cgroup: null, rangeCheckFirst: false });
    expect(errnoOf(() => old.allocate('sev-es'))).toBe('EBUSY');
  });
});

describe('Milan all-ES (ECX 509, EDX 510)', () => {
  it('plain SEV is -ENOTTY; ES and SNP draw from 1..509 and charge sev_es', () => {
    const cg = new MiscCgroup({ sev_es: 509 });
    const p = new AsidPool({ maxSevAsid: 509, minSevAsid: 510, sevEnabled: true, sevEsEnabled: true, snpEnabled: true, cgroup: cg });
    expect(errnoOf(() => p.allocate('sev'))).toBe('ENOTTY');
    expect(p.allocate('sev-es')).toBe(1);
    expect(p.allocate('sev-snp')).toBe(2);
    expect(cg.formatCurrent(ROOT_CGROUP)).toBe('sev_es 2\n');
  });
});

describe('Milan ES limit 8 (ECX 509, EDX 8)', () => {
  it('keeps the SEV and ES ranges apart, and a flush recycles both ranges', () => {
    const p = pool({ maxSevAsid: 509, minSevAsid: 8, snpEnabled: true });
    expect(p.allocate('sev')).toBe(8);
    const es = Array.from({ length: 7 }, () => p.allocate('sev-es'));
    expect(es).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(errnoOf(() => p.allocate('sev-snp'))).toBe('EBUSY');
    p.free(8);
    p.free(3);
    expect(p.allocate('sev-snp')).toBe(3);
    // The flush for the ES range also freed SEV ASID 8.
    expect(p.reclaimable()).toEqual([]);
    expect(p.allocate('sev')).toBe(8);
    expect(p.kindOf(3)).toBe('sev-snp');
  });

  it('SNP without SNP enabled, or anything without SEV, is -ENOTTY', () => {
    expect(errnoOf(() => pool({ maxSevAsid: 509, minSevAsid: 8 }).allocate('sev-snp'))).toBe('ENOTTY');
    expect(errnoOf(() => pool({ maxSevAsid: 509, minSevAsid: 8, sevEnabled: false }).allocate('sev'))).toBe('ENOTTY');
  });
});

describe('flush through the firmware', () => {
  it('calls DF_FLUSH on the firmware, which then lets ACTIVATE reuse the ASID', () => {
    const fw = new SevFirmware({ apiMajor: 0, apiMinor: 17, build: 1, esInitialised: false, snpInitialised: false });
    const p = pool({ maxSevAsid: 2, minSevAsid: 1, onFlush: () => fw.dfFlush() });
    const a = fw.launchStart(0x1);
    fw.activate(a, p.allocate('sev'), false);
    const b = fw.launchStart(0x1);
    fw.activate(b, p.allocate('sev'), false);
    fw.deactivate(a);
    fw.decommission(a);
    p.free(1);
    const c = fw.launchStart(0x1);
    const asid = p.allocate('sev');
    expect(asid).toBe(1);
    expect(fw.dfFlushCount).toBe(1);
    fw.activate(c, asid, false);
  });

  it('a failing DF_FLUSH logs the kernel line and the allocation is -EBUSY', () => {
    const fw = new SevFirmware({ apiMajor: 1, apiMinor: 52, build: 4, esInitialised: false, snpInitialised: false });
    fw.use({ command: 'DF_FLUSH', status: SevStatus.HWERROR_PLATFORM });
    const p = pool({ maxSevAsid: 1, minSevAsid: 1, onFlush: () => fw.dfFlush() });
    p.free(p.allocate('sev'));
    expect(errnoOf(() => p.allocate('sev'))).toBe('EBUSY');
    expect(p.kernelLog).toEqual(['SEV: DF_FLUSH failed, ret=-5, error=0x13']);
    expect(p.reclaimable()).toEqual([1]);
    // The next exhaustion tries again and succeeds.
    expect(p.allocate('sev')).toBe(1);
    expect(p.flushCount).toBe(2);
  });

  it('formats the SNP variant and error 0 as the kernel does', () => {
    expect(dfFlushFailedLog(true, -5, 0)).toBe('SEV-SNP: DF_FLUSH failed, ret=-5, error=0');
  });
});

describe('misuse', () => {
  it('freeing an ASID that is not live is a model bug', () => {
    const p = pool({ maxSevAsid: 15, minSevAsid: 1 });
    expect(() => p.free(3)).toThrow('not held by a live guest');
    const a = p.allocate('sev');
    p.free(a);
    expect(() => p.free(a)).toThrow('not held by a live guest');
  });
});

describe('property: no ASID is ever held by two live guests', () => {
  type Op = { op: 'alloc'; kind: AsidKind } | { op: 'free'; pick: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('alloc' as const), kind: fc.constantFrom<AsidKind>('sev', 'sev-es', 'sev-snp') }),
    fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
  );

  it('holds for random allocate/free sequences across ASID splits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 21 }), fc.array(opArb, { maxLength: 120 }), (max, minRaw, ops) => {
        const min = Math.min(minRaw, max + 1);
        const cg = new MiscCgroup({ ...(min <= max ? { sev: max - min + 1 } : {}), ...(min > 1 ? { sev_es: min - 1 } : {}) });
        const p = new AsidPool({ maxSevAsid: max, minSevAsid: min, sevEnabled: true, sevEsEnabled: min > 1, snpEnabled: min > 1, cgroup: cg });
        const live = new Map<number, AsidKind>();
        for (const o of ops) {
          if (o.op === 'alloc') {
            let asid: number;
            try {
              asid = p.allocate(o.kind);
            } catch (e) {
              if (!(e instanceof KvmError)) throw e;
              continue;
            }
            expect(live.has(asid)).toBe(false);
            const r = p.range(o.kind);
            expect(asid).toBeGreaterThanOrEqual(r.min);
            expect(asid).toBeLessThanOrEqual(r.max);
            expect(p.reclaimable()).not.toContain(asid);
            live.set(asid, o.kind);
          } else if (live.size > 0) {
            const asid = [...live.keys()][o.pick % live.size]!;
            p.free(asid);
            live.delete(asid);
          }
          expect(p.inUse()).toEqual([...live.keys()].sort((a, b) => a - b));
          expect(cg.current(ROOT_CGROUP, 'sev')).toBe([...live.values()].filter((k) => k === 'sev').length);
          expect(cg.current(ROOT_CGROUP, 'sev_es')).toBe([...live.values()].filter((k) => k !== 'sev').length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("property: the ASIDs handed out are find_next_zero_bit's from the range start", () => {
  /** The kernel's allocator, bit by bit: search each time from the range's first ASID; recycle when exhausted. */
  class Bitmaps {
    readonly used: boolean[];
    readonly reclaim: boolean[];
    constructor(private readonly max: number, private readonly min: number) {
      this.used = Array.from({ length: max + 1 }, () => false);
      this.reclaim = Array.from({ length: max + 1 }, () => false);
    }
    allocate(kind: AsidKind): number | null {
      const [lo, hi] = kind === 'sev' ? [this.min, this.max] : [1, this.min - 1];
      const find = () => {
        for (let a = Math.max(lo, 1); a <= hi; a++) if (!this.used[a]) return a;
        return null;
      };
      let asid = find();
      if (asid === null && this.reclaim.some((r, a) => r && a >= lo && a <= hi)) {
        this.reclaim.forEach((r, a) => { if (r) { this.reclaim[a] = false; this.used[a] = false; } });
        asid = find();
      }
      if (asid !== null) this.used[asid] = true;
      return asid;
    }
    free(asid: number): void {
      this.reclaim[asid] = true;
    }
  }

  it('matches a bit-by-bit search over long allocate/free runs', () => {
    type Op = { op: 'alloc'; kind: AsidKind } | { op: 'free'; pick: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ op: fc.constant('alloc' as const), kind: fc.constantFrom<AsidKind>('sev', 'sev-es') }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 25 }), fc.array(opArb, { maxLength: 300 }), (max, minRaw, ops) => {
        const min = Math.min(minRaw, max + 1);
        const p = new AsidPool({ maxSevAsid: max, minSevAsid: min, sevEnabled: true, sevEsEnabled: true, cgroup: null });
        const ref = new Bitmaps(max, min);
        const live: number[] = [];
        for (const o of ops) {
          if (o.op === 'alloc') {
            const want = ref.allocate(o.kind);
            let got: number | null;
            try {
              got = p.allocate(o.kind);
            } catch (e) {
              if (!(e instanceof KvmError)) throw e;
              got = null;
            }
            expect(got).toBe(want);
            if (got !== null) live.push(got);
          } else if (live.length > 0) {
            const [asid] = live.splice(o.pick % live.length, 1);
            p.free(asid!);
            ref.free(asid!);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
