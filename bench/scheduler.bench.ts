/**
 * Placements per second on a 10,000-host fleet: the indexed scheduler vs the linear-scan baseline.
 * The workload (fleet and guest mix) is bench/placement-load.ts's. Run: node bin/run-ts.js bench/scheduler.bench.ts
 */
import { Bench } from 'tinybench';
import { LinearScheduler } from '../src/driver/scheduler-linear.ts';
import { IndexedScheduler } from '../src/driver/scheduler.ts';
import { placementLoop, syntheticHostSpecs } from './placement-load.ts';

const HOSTS = 10_000;
const hosts = syntheticHostSpecs(HOSTS);
const indexed = placementLoop(new IndexedScheduler(), hosts);
const linear = placementLoop(new LinearScheduler(), hosts);
const bench = new Bench({ time: 2000, warmupTime: 300 });
bench.add('indexed: place (+release)', indexed).add('linear: place (+release)', linear);
await bench.run();
console.table(bench.table());
const hz = (name: string) => bench.tasks.find((t) => t.name === name)!.result!.throughput.mean;
const [hi, hl] = [hz('indexed: place (+release)'), hz('linear: place (+release)')];
console.log(`${HOSTS} hosts: indexed ${Math.round(hi).toLocaleString('en')} placements/s, linear ${Math.round(hl).toLocaleString('en')} placements/s, speed-up ${(hi / hl).toFixed(1)}× (targets ≥ 20×, ≥ 200,000/s)`);
