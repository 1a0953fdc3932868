/**
 * FakeFleet at scale: 10,000 in-process hosts of mixed generations — build time and memory — then
 * the reference scheduler placing over them (traits and inventories from the reference driver's
 * own detection, run once per profile on a fleet host, since hosts of a profile detect alike)
 * against the synthetic 10,000-host fleet of bench/scheduler.bench.ts in the same run; guests
 * placed by the scheduler booted on the hosts it chose (plan, XML, define, start); last, the CPU of
 * the conformance suite's scheduling case on its 1,000-host standing fleet.
 *   node --expose-gc bin/run-ts.js bench/fleet.bench.ts [hosts]
 */
import { randomUUID } from 'node:crypto';
import { Bench } from 'tinybench';
import { FakeFleet, type FleetMember } from '../fakelibvirt/fleet/fake-fleet.ts';
import { sysrootFiles } from '../fakelibvirt/views/sysroot.ts';
import { ReferenceSevDriver } from '../src/driver/index.ts';
import { FakeHostSource } from '../conformance/fake-host-source.ts';
import { MapFiles } from '../src/driver/host-source.ts';
import { IndexedScheduler, type Demand, type HostSpec } from '../src/driver/scheduler.ts';
import { placementLoop, SEV, syntheticHostSpecs } from './placement-load.ts';
import { createReferenceDriver } from '../conformance/adapters/reference.ts';
import { FakeTarget } from '../conformance/runner/fake-target.ts';
import { runConformance } from '../conformance/runner/run.ts';

const HOSTS = Number(process.argv[2] ?? 10_000);
/** Targets from issue #17: 10,000 hosts built in ≤ 5 s within ≤ 1.5 GiB. */
const MIX = 'naples-7001:1,rome-7002:3,milan-7003-es8:3,milan-7003-253:1,milan-7003-all-es:1,genoa-9004:3,turin-9005:2,intel-xeon:2,ampere-altra:1';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.log('(run with node --expose-gc for exact memory figures)');
gc?.();
const mem0 = process.memoryUsage();
const t0 = performance.now();
const c0 = process.cpuUsage();
const fleet = new FakeFleet(`${MIX}@${HOSTS}`);
// Members come to life when first reached; the build measured is every host's.
fleet.wake();
const buildS = (performance.now() - t0) / 1000;
const buildCpu = process.cpuUsage(c0);
gc?.();
const mem1 = process.memoryUsage();
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(`build: ${fleet.size} hosts in ${buildS.toFixed(2)} s wall, ${((buildCpu.user + buildCpu.system) / 1e6).toFixed(2)} s CPU (${((buildS * 1e6) / fleet.size).toFixed(0)} µs/host), ${(buildS / 5).toFixed(2)}× the 5 s target; heap +${mib(mem1.heapUsed - mem0.heapUsed)} MiB, RSS ${mib(mem1.rss)} MiB (targets ≤ 5 s, ≤ 1536 MiB)`);
console.log(`  mix: ${[...fleet.groups()].map(([p, g]) => `${p.name} ${g.length}`).join(', ')}`);

// One detection per profile through the reference driver, applied to every host of the group.
const drivers = new Map<FleetMember['profile'], ReferenceSevDriver>();
for (const [profile, group] of fleet.groups()) {
  const host = group[0]!.host;
  const files = new MapFiles(new Map([...sysrootFiles(host.profile, host.kernel)].map(([k, v]) => [k, v.content] as const)));
  const d = new ReferenceSevDriver(new FakeHostSource(host), files, { hw_machine_type: { x86_64: 'q35' } });
  await d.init();
  drivers.set(profile, d);
}
const specs: HostSpec[] = fleet.members().map((m) => {
  const info = m.host.nodeInfo();
  return drivers.get(m.profile)!.hostSpec(m.name, Math.floor(info.memory / 1024), info.cpus);
});

const bench = new Bench({ time: 2000, warmupTime: 300 });
bench.add('indexed scheduler over the FakeFleet', placementLoop(new IndexedScheduler(), specs)).add('indexed scheduler over the synthetic fleet', placementLoop(new IndexedScheduler(), syntheticHostSpecs(HOSTS)));
await bench.run();
console.table(bench.table());
const hz = (name: string) => bench.tasks.find((t) => t.name === name)!.result!.throughput.mean;
const [onFleet, synthetic] = [hz('indexed scheduler over the FakeFleet'), hz('indexed scheduler over the synthetic fleet')];
console.log(`placement over ${fleet.size} fleet hosts ${Math.round(onFleet).toLocaleString('en')}/s vs synthetic ${Math.round(synthetic).toLocaleString('en')}/s: ratio ${(onFleet / synthetic).toFixed(2)} (target ≥ 1: the current rate)`);

// Boots: the scheduler places an SEV guest, the chosen host defines and starts it.
const BOOTS = 2000;
const sched = new IndexedScheduler();
for (const h of specs) sched.addHost(h);
const sevDemand: Demand = { resources: { MEMORY_MB: 2048, VCPU: 2, [SEV]: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV'] };
const request = { flavor: { name: 'm1', vcpus: 2, memory_mb: 2048, extra_specs: { 'hw:mem_encryption': 'true' } }, image: { id: 'i', name: 'img', properties: { hw_firmware_type: 'uefi' } } };
const t1 = performance.now();
for (let i = 0; i < BOOTS; i++) {
  const uuid = randomUUID();
  const member = fleet.member(sched.place(uuid, sevDemand));
  const d = drivers.get(member.profile)!;
  const xml = d.xmlFor(d.plan({ ...request, name: `instance-${i.toString(16).padStart(8, '0')}` }), uuid);
  member.host.create(member.host.defineXML(xml));
}
const bootUs = ((performance.now() - t1) * 1000) / BOOTS;
const running = fleet.members().reduce((s, m) => s + m.host.numOfDomains(), 0);
console.log(`boots: ${BOOTS} SEV guests placed, planned, defined and started on the hosts chosen: ${bootUs.toFixed(0)} µs each; ${running} running across the fleet`);

// The suite's scheduling case on its standing 1,000-host fleet, per profile, against the small-fleet
// case of the same area in the same run: the CPU a judged case costs once the run is warm (its first
// case also reports one host of each of the fleet's profiles and writes their sysroots).
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const target = new FakeTarget();
const caseCpu = async (id: string): Promise<{ perCase: number; judged: number }> => {
  await runConformance({ driver: async () => createReferenceDriver(), cases: [id], target }); // warm: trees, reports, JIT
  const c0 = cpuMs();
  let judged = 0;
  for (let i = 0; i < 3; i++) judged += (await runConformance({ driver: async () => createReferenceDriver(), cases: [id], target })).results.filter((r) => r.status === 'pass').length;
  return { perCase: (cpuMs() - c0) / judged, judged: judged / 3 };
};
const fleetCase = await caseCpu('scheduling.thousand-host-fleet');
const smallCase = await caseCpu('scheduling.mixed-fleet');
await target.close();
console.log(`suite case on the 1,000-host fleet: ${fleetCase.perCase.toFixed(1)} ms CPU per profile (${fleetCase.judged} profiles) vs scheduling.mixed-fleet ${smallCase.perCase.toFixed(1)} ms (${smallCase.judged}); each run also reports the fleet's 8 profiles once`);
