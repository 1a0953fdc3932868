/**
 * Placements per second on a 10,000-host fleet: the indexed scheduler vs the linear-scan baseline.
 * Each iteration places one guest (70% plain, 25% SEV, 5% SEV-ES) and releases the oldest once 5,000
 * are live, so the fleet stays loaded but never fills. Run: node bin/run-ts.js bench/scheduler.bench.ts
 */
import { Bench } from 'tinybench';
import { poolKey } from '../src/driver/inventory.ts';
import { LinearScheduler } from '../src/driver/scheduler-linear.ts';
import { IndexedScheduler, type BaseScheduler, type Demand } from '../src/driver/scheduler.ts';

const HOSTS = 10_000;
const SEV = poolKey('amd-sev');
const ES = poolKey('amd-sev-es');

function fleet(s: BaseScheduler): BaseScheduler {
  for (let i = 0; i < HOSTS; i++) {
    const kind = i % 10; // 40% plain, 40% SEV, 20% SEV + SEV-ES
    const traits = kind < 4 ? [] : kind < 8 ? ['HW_CPU_X86_AMD_SEV'] : ['HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_ES'];
    const capacity: Record<string, number> = { MEMORY_MB: 262_144 + (i % 7) * 32_768, VCPU: 128 };
    if (kind >= 4) capacity[SEV] = 253 + (i % 5);
    if (kind >= 8) capacity[ES] = 8;
    s.addHost({ id: `host-${i}`, traits, capacity });
  }
  return s;
}

const demands: Demand[] = [
  ...Array.from({ length: 14 }, () => ({ resources: { MEMORY_MB: 2048, VCPU: 2 }, requiredTraits: [] })),
  ...Array.from({ length: 5 }, () => ({ resources: { MEMORY_MB: 4096, VCPU: 2, [SEV]: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV'] })),
  { resources: { MEMORY_MB: 4096, VCPU: 4, [ES]: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV_ES'] },
];

function driver(s: BaseScheduler): () => void {
  let n = 0;
  let oldest = 0;
  return () => {
    s.place(`vm-${n}`, demands[n % demands.length]!);
    n++;
    if (n - oldest > 5_000) s.release(`vm-${oldest++}`);
  };
}

const indexed = driver(fleet(new IndexedScheduler()));
const linear = driver(fleet(new LinearScheduler()));
const bench = new Bench({ time: 2000, warmupTime: 300 });
bench.add('indexed: place (+release)', indexed).add('linear: place (+release)', linear);
await bench.run();
console.table(bench.table());
const hz = (name: string) => bench.tasks.find((t) => t.name === name)!.result!.throughput.mean;
const [hi, hl] = [hz('indexed: place (+release)'), hz('linear: place (+release)')];
console.log(`${HOSTS} hosts: indexed ${Math.round(hi).toLocaleString('en')} placements/s, linear ${Math.round(hl).toLocaleString('en')} placements/s, speed-up ${(hi / hl).toFixed(1)}× (targets ≥ 20×, ≥ 200,000/s)`);
