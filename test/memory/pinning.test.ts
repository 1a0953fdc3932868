import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvmError } from '../../fakelibvirt/kvm/errno.ts';
import { HostMemory, MemlockAccount, QEMU_COMM, memlockExceededLog, oomKillLine } from '../../fakelibvirt/memory/pinning.ts';
import { thrown } from '../support/thrown.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const kvmErr = (fn: () => unknown): KvmError => thrown(KvmError, fn);

describe('sev_pin_memory RLIMIT_MEMLOCK rule', () => {
  it('reproduces the real failure: 512 MiB against a 64 MiB limit', () => {
    const acct = new MemlockAccount({ limitBytes: 64 * MiB });
    expect(acct.limitPages).toBe(16384);
    const e = kvmErr(() => acct.pin(512 * MiB));
    expect(e.code).toBe('ENOMEM');
    expect(e.ret).toBe(-12);
    expect(e.kernelLog).toEqual(['SEV: 131072 locked pages exceed the lock limit of 16384.']);
    expect(e.kernelLog[0]).toBe(memlockExceededLog(131072, 16384));
    expect(acct.pagesLocked).toBe(0);
  });

  it('counts this VM\'s earlier pins: locked + new > limit', () => {
    const acct = new MemlockAccount({ limitBytes: 64 * MiB });
    expect(acct.pin(60 * MiB)).toBe(15360);
    acct.pin(4 * MiB); // exactly at the limit is allowed
    const e = kvmErr(() => acct.pin(128 * 1024));
    expect(e.kernelLog).toEqual(['SEV: 16416 locked pages exceed the lock limit of 16384.']);
    acct.unpin(1024);
    acct.pin(128 * 1024);
    expect(acct.pagesLocked).toBe(16384 - 1024 + 32);
  });

  it('counts every page the range touches', () => {
    const acct = new MemlockAccount({ limitBytes: 'unlimited' });
    expect(acct.pin(2, 4095)).toBe(2);
    expect(acct.pin(4096, 8192)).toBe(1);
    expect(kvmErr(() => acct.pin(0)).code).toBe('EINVAL');
  });

  it('unlimited and CAP_IPC_LOCK never fail', () => {
    expect(new MemlockAccount({ limitBytes: 'unlimited' }).pin(64 * GiB)).toBe(16 * 1024 * 1024);
    expect(new MemlockAccount({ limitBytes: 0, capIpcLock: true }).pin(GiB)).toBe(262144);
    expect(new MemlockAccount({ limitBytes: 'unlimited' }).limitPages).toBeNull();
  });
});

describe('host memory and the OOM killer', () => {
  const host = () => new HostMemory({ totalKiB: 12 * 1024 * 1024, reservedKiB: 2 * 1024 * 1024 });
  const a = { pid: 1001, domain: 'a' };
  const b = { pid: 1002, domain: 'b' };
  const c = { pid: 1003, domain: 'c' };

  it('tracks pins against total minus reserved', () => {
    const h = host();
    expect(h.capacityBytes).toBe(10 * GiB);
    expect(h.pin(a, 4 * GiB)).toEqual({ ok: true, pinnedBytes: 4 * GiB });
    expect(h.pin(a, GiB)).toEqual({ ok: true, pinnedBytes: 5 * GiB });
    expect(h.freeBytes).toBe(5 * GiB);
    h.release(a.pid);
    expect(h.usedBytes).toBe(0);
  });

  it('picks the largest pinned process as the victim and pins nothing', () => {
    const h = host();
    h.pin(a, 5 * GiB);
    h.pin(b, 3 * GiB);
    const r = h.pin(c, 4 * GiB);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.victim.domain).toBe('a');
    expect(r.event).toBe(
      'Out of memory: Killed process 1001 (qemu-system-x86) total-vm:5242880kB, anon-rss:5242880kB, file-rss:0kB, shmem-rss:0kB, UID:107 pgtables:10240kB oom_score_adj:0',
    );
    expect(h.events).toEqual([r.event]);
    expect(h.pinnedBy(c.pid)).toBe(0);
    // The caller kills domain a; the retry fits.
    h.release(r.victim.pid);
    expect(h.pin(c, 4 * GiB).ok).toBe(true);
  });

  it('the requester itself can be the victim, counting what it is pinning', () => {
    const h = host();
    h.pin(a, 2 * GiB);
    h.pin(b, 2 * GiB);
    h.pin(c, 3 * GiB);
    const r = h.pin(c, 4 * GiB);
    expect(!r.ok && r.victim.pid).toBe(c.pid);
  });

  it('ties go to the earliest process', () => {
    const h = host();
    h.pin(a, 4 * GiB);
    const r = h.pin(b, 7 * GiB);
    expect(!r.ok && r.victim.pid).toBe(b.pid);
    h.pin(b, 4 * GiB);
    const t = h.pin(c, 4 * GiB);
    expect(!t.ok && t.victim.pid).toBe(a.pid);
  });

  it('truncates comm to 15 characters like the kernel', () => {
    expect(QEMU_COMM).toBe('qemu-system-x86');
    expect(oomKillLine({ pid: 7, domain: 'd', comm: 'qemu-kvm', uid: 0, totalVmKiB: 9000 }, 1024)).toBe(
      'Out of memory: Killed process 7 (qemu-kvm) total-vm:9000kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2kB oom_score_adj:0',
    );
  });
});

describe('property: host memory accounting', () => {
  it('used and free bytes are the sum of what each process holds, through pins, kills and releases', () => {
    type Op = { op: 'pin'; pid: number; pages: number } | { op: 'release'; pid: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('pin' as const), pid: fc.integer({ min: 1, max: 6 }), pages: fc.integer({ min: 1, max: 4096 }) }),
      fc.record({ op: fc.constant('release' as const), pid: fc.integer({ min: 1, max: 7 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(opArb, { maxLength: 80 }), (capMiB, ops) => {
        const mem = new HostMemory({ totalKiB: capMiB * 1024 + 512, reservedKiB: 512 });
        const held = new Map<number, number>();
        for (const o of ops) {
          if (o.op === 'pin') {
            const r = mem.pin({ pid: o.pid, domain: `d${o.pid}` }, o.pages * 4096);
            if (r.ok) held.set(o.pid, (held.get(o.pid) ?? 0) + o.pages * 4096);
          } else {
            mem.release(o.pid);
            held.delete(o.pid);
          }
          const sum = [...held.values()].reduce((a, b) => a + b, 0);
          expect(mem.usedBytes).toBe(sum);
          expect(mem.freeBytes).toBe(capMiB * MiB - sum);
          for (const pid of [1, 2, 3, 4, 5, 6, 7]) expect(mem.pinnedBy(pid)).toBe(held.get(pid) ?? 0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
