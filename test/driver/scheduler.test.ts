import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demandFor } from '../../src/driver/index.ts';
import { poolKey } from '../../src/driver/inventory.ts';
import { DriverRefusal } from '../../src/driver/refusals.ts';
import { translateRequest } from '../../src/driver/request.ts';
import { LinearScheduler } from '../../src/driver/scheduler-linear.ts';
import { firstPlacement, IndexedScheduler, noValidHost, type BaseScheduler, type Demand, type HostSpec } from '../../src/driver/scheduler.ts';
import { plainFlavor, sevFlavor, uefiImage } from './helpers.ts';

const SEV = poolKey('amd-sev');
const ES = poolKey('amd-sev-es');
const sevDemand = demandFor(translateRequest(sevFlavor(), uefiImage()), { memory_mb: 2048, vcpus: 2 });
const plainDemand = demandFor(translateRequest(plainFlavor, uefiImage()), { memory_mb: 1024, vcpus: 1 });

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof DriverRefusal) return `${e.code}: ${e.message}`;
    throw e;
  }
};

describe.each([['indexed', () => new IndexedScheduler()], ['linear', () => new LinearScheduler()]] as const)('%s scheduler', (_n, make) => {
  const fleet = (): BaseScheduler => {
    const s = make();
    s.addHost({ id: 'sev', traits: ['HW_CPU_X86_AMD_SEV'], capacity: { MEMORY_MB: 65536, VCPU: 64, [SEV]: 2 } });
    s.addHost({ id: 'plain', traits: [], capacity: { MEMORY_MB: 131072, VCPU: 64 } });
    return s;
  };

  it('2-slot SEV host: two SEV guests land there, the third gets NoValidHost, plain guests still place', () => {
    const s = fleet();
    expect([s.place('a', sevDemand), s.place('b', sevDemand)]).toEqual(['sev', 'sev']);
    expect(code(() => s.place('c', sevDemand))).toBe(`NO_VALID_HOST: ${noValidHost}`);
    expect(s.place('p', plainDemand)).toBe('plain');
    expect(s.freeOf('sev').get(SEV)).toBe(0);
  });

  it('deleting an SEV guest frees its slot', () => {
    const s = fleet();
    s.place('a', sevDemand);
    s.place('b', sevDemand);
    s.release('a');
    expect(s.place('c', sevDemand)).toBe('sev');
  });

  it('no SEV host in the cloud → NoValidHost', () => {
    const s = make();
    s.addHost({ id: 'plain', traits: [], capacity: { MEMORY_MB: 4096, VCPU: 4 } });
    expect(code(() => s.place('a', sevDemand))).toMatch(/^NO_VALID_HOST/);
  });

  it('cold migration keeps the source allocation until confirm; revert drops the target', () => {
    const s = make();
    for (const id of ['h1', 'h2', 'h3']) s.addHost({ id, traits: ['HW_CPU_X86_AMD_SEV'], capacity: { MEMORY_MB: 8192, VCPU: 8, [SEV]: 1 } });
    const src = s.place('vm', sevDemand);
    const dst = s.startMigration('vm', sevDemand);
    expect(dst).not.toBe(src);
    expect(s.allocationsOf('vm')).toEqual([src, dst]);
    expect(s.freeOf(src).get(SEV)).toBe(0);
    s.revertMigration('vm');
    expect(s.allocationsOf('vm')).toEqual([src]);
    expect(s.freeOf(dst).get(SEV)).toBe(1);
    const dst2 = s.startMigration('vm', sevDemand);
    s.confirmMigration('vm');
    expect(s.allocationsOf('vm')).toEqual([dst2]);
    expect(s.freeOf(src).get(SEV)).toBe(1);
  });

  it('spreads by free RAM', () => {
    const s = make();
    s.addHost({ id: 'small', traits: [], capacity: { MEMORY_MB: 4096, VCPU: 8 } });
    s.addHost({ id: 'big', traits: [], capacity: { MEMORY_MB: 8192, VCPU: 8 } });
    expect([1, 2, 3, 4].map((i) => s.place(`v${i}`, plainDemand))).toEqual(['big', 'big', 'big', 'big']);
    expect(s.place('v5', plainDemand)).toBe('small');
  });
});

const TRAIT_SETS = [[], ['HW_CPU_X86_AMD_SEV'], ['HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_ES']];
const hostArb = fc.record({
  traits: fc.integer({ min: 0, max: 2 }),
  ram: fc.integer({ min: 1, max: 16 }).map((x) => x * 1024),
  vcpu: fc.integer({ min: 1, max: 16 }),
  sev: fc.integer({ min: 0, max: 3 }),
  es: fc.integer({ min: 0, max: 2 }),
});
const demandArb = fc.record({ model: fc.constantFrom('none', 'sev', 'es'), ram: fc.integer({ min: 1, max: 8 }).map((x) => x * 512), vcpu: fc.integer({ min: 1, max: 8 }) });
type DemandSpec = { model: string; ram: number; vcpu: number };
type Op = { kind: 'place'; d: DemandSpec } | { kind: 'release' | 'migrate' | 'confirm' | 'revert'; i: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: demandArb.map((d) => ({ kind: 'place' as const, d })) },
  fc.record({ kind: fc.constantFrom('release', 'migrate', 'confirm', 'revert'), i: fc.nat() }) as fc.Arbitrary<Op>,
);

function toDemand(d: DemandSpec): Demand {
  const resources: Record<string, number> = { MEMORY_MB: d.ram, VCPU: d.vcpu };
  if (d.model === 'sev') resources[SEV] = 1;
  if (d.model === 'es') resources[ES] = 1;
  return { resources, requiredTraits: d.model === 'sev' ? ['HW_CPU_X86_AMD_SEV'] : d.model === 'es' ? ['HW_CPU_X86_AMD_SEV_ES'] : [] };
}

describe('indexed vs linear (differential property)', () => {
  it('same placements for random fleets and operation sequences; no host is ever over-allocated', () => {
    fc.assert(
      fc.property(fc.array(hostArb, { minLength: 1, maxLength: 25 }), fc.array(opArb, { maxLength: 80 }), (hosts, ops) => {
        const a = new IndexedScheduler();
        const b = new LinearScheduler();
        const specs: HostSpec[] = hosts.map((h, i) => {
          const traits = TRAIT_SETS[h.traits]!;
          const capacity: Record<string, number> = { MEMORY_MB: h.ram, VCPU: h.vcpu };
          if (traits.length >= 1 && h.sev > 0) capacity[SEV] = h.sev;
          if (traits.length >= 2 && h.es > 0) capacity[ES] = h.es;
          return { id: `h${i}`, traits, capacity };
        });
        for (const s of specs) {
          a.addHost(s);
          b.addHost(s);
        }
        const consumers: { id: string; d: Demand }[] = [];
        let n = 0;
        for (const op of ops) {
          if (op.kind === 'place') {
            const d = toDemand(op.d);
            const id = `c${n++}`;
            const ra = code(() => a.place(id, d));
            const rb = code(() => b.place(id, d));
            expect(ra).toBe(rb);
            expect(a.allocationsOf(id)).toEqual(b.allocationsOf(id));
            if (ra === 'ok') consumers.push({ id, d });
            continue;
          }
          if (consumers.length === 0) continue;
          const c = consumers[op.i % consumers.length]!;
          const run = (s: IndexedScheduler | LinearScheduler) => {
            try {
              if (op.kind === 'release') s.release(c.id);
              else if (op.kind === 'migrate') s.startMigration(c.id, c.d);
              else if (op.kind === 'confirm') s.confirmMigration(c.id);
              else s.revertMigration(c.id);
              return 'ok';
            } catch (e) {
              return e instanceof DriverRefusal ? e.code : (e as Error).message;
            }
          };
          expect(run(a)).toBe(run(b));
          expect(a.allocationsOf(c.id)).toEqual(b.allocationsOf(c.id));
          if (op.kind === 'release') consumers.splice(consumers.indexOf(c), 1);
        }
        for (const s of specs) {
          for (const [k, v] of a.freeOf(s.id)) {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(s.capacity[k]!);
            expect(b.freeOf(s.id).get(k)).toBe(v);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('firstPlacement (one placement without a ledger)', () => {
  it('chooses what a fresh scheduler of the same hosts places, and nothing where it refuses', () => {
    fc.assert(
      fc.property(fc.array(hostArb, { minLength: 0, maxLength: 25 }), demandArb, fc.array(fc.nat({ max: 4 }), { maxLength: 25 }), (hosts, dspec, ramTies) => {
        const specs: HostSpec[] = hosts.map((h, i) => {
          const traits = TRAIT_SETS[h.traits]!;
          // Few distinct RAM sizes, so ties (the earlier host wins) are common.
          const capacity: Record<string, number> = { MEMORY_MB: (ramTies[i] ?? 0) * 1024 + 512, VCPU: h.vcpu };
          if (traits.length >= 1 && h.sev > 0) capacity[SEV] = h.sev;
          if (traits.length >= 2 && h.es > 0) capacity[ES] = h.es;
          return { id: `h${i}`, traits, capacity };
        });
        const d = toDemand(dspec);
        const linear = new LinearScheduler();
        for (const s of specs) linear.addHost(s);
        const placed = code(() => linear.place('c', d));
        const chosen = firstPlacement(specs, d);
        if (placed === 'ok') expect(chosen).toBe(linear.allocationsOf('c')[0]);
        else expect([chosen, placed]).toEqual([undefined, `NO_VALID_HOST: ${noValidHost}`]);
      }),
      { numRuns: 300 },
    );
  });

  it('a repeated host id is an error, as addHost makes it', () => {
    const h: HostSpec = { id: 'a', traits: [], capacity: { MEMORY_MB: 1024 } };
    expect(() => firstPlacement([h, h], { resources: { MEMORY_MB: 1 }, requiredTraits: [] })).toThrow('host a already added');
  });
});
