/**
 * The in-process boot path: the reference driver's SEV guest (its builder's 2 KB document with
 * UEFI, locked memory and a dozen devices) through FakeHost define → start → destroy → undefine,
 * against floors measured in the same run: the XML scan of the same document (the least any
 * define must do) and define + undefine alone (so start/destroy's share shows); and the slot cases'
 * pattern, the same cycle with a new name and uuid each time (the define memo's template hits).
 *   node bin/run-ts.js bench/inprocess.bench.ts            tinybench, ratios
 *   node bin/run-ts.js bench/inprocess.bench.ts 3000       a plain loop of N cycles (for --cpu-prof)
 *   node bin/run-ts.js bench/inprocess.bench.ts 3000 boot  a plain loop of N start+destroy of one defined guest
 */
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { parseXmlDocument } from '../fakelibvirt/libvirt/xml-tree.ts';
import { sysrootFiles } from '../fakelibvirt/views/sysroot.ts';
import { buildDomainXml, hostFragments } from '../src/driver/builder.ts';
import { detectHost } from '../src/driver/detect.ts';
import { FakeHostSource } from '../conformance/fake-host-source.ts';
import { MapFiles } from '../src/driver/host-source.ts';
import { planGuest } from '../src/driver/request.ts';
import { DomainFlags } from '../src/libvirt/flags.ts';

/** Issue #17's target for one in-process SEV cycle. */
const TARGET_US = 60;

const host = new FakeHost(loadProfile('milan-7003-es8'));
const files = new MapFiles(new Map([...sysrootFiles(host.profile, host.kernel)].map(([k, v]) => [k, v.content] as const)));
const report = await detectHost(new FakeHostSource(host), files, { hw_machine_type: { x86_64: 'q35' } });
const plan = planGuest({ name: 'instance-00000001', flavor: { name: 'm1', vcpus: 2, memory_mb: 2048, extra_specs: { 'hw:mem_encryption': 'true' } }, image: { id: 'i', name: 'img', properties: { hw_firmware_type: 'uefi' } } }, report);
const SEV_XML = buildDomainXml(plan, hostFragments(report), { uuid: '3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b' });

function cycle(): void {
  const ref = host.defineXML(SEV_XML);
  host.create(ref);
  host.destroy(ref);
  host.undefine(ref, DomainFlags.UNDEFINE_NVRAM);
}

/** The builder's document for the i-th guest: its name is in the disk paths too, its uuid new. */
let slot = 0;
function slotXml(): string {
  const i = ++slot;
  return SEV_XML.replaceAll('instance-00000001', `instance-${String(i + 1).padStart(8, '0')}`).replace('3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b', `3f1c2a9e-8b7d-4e6f-9a0b-${i.toString(16).padStart(12, '0')}`);
}

function slotCycle(): void {
  const ref = host.defineXML(slotXml());
  host.create(ref);
  host.destroy(ref);
  host.undefine(ref, DomainFlags.UNDEFINE_NVRAM);
}

function defineUndefine(): void {
  host.undefine(host.defineXML(SEV_XML), DomainFlags.UNDEFINE_NVRAM);
}

/** The boot path alone: a guest defined once, started and destroyed (QEMU, firmware, ASID, pins, events). */
const BOOTED = host.defineXML(slotXml());
function startDestroy(): void {
  host.create(BOOTED);
  host.destroy(BOOTED);
}

let sink = 0;
function scanFloor(): void {
  sink += parseXmlDocument(SEV_XML, 'domain_definition').children.length;
}

const N = Number(process.argv[2] ?? 0);
if (N > 0) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const one = process.argv[3] === 'boot' ? startDestroy : cycle;
  for (let i = 0; i < N; i++) one();
  const cpu = process.cpuUsage(c0);
  console.log(`${N} ${one === cycle ? 'cycles' : 'start+destroy'}: ${(((performance.now() - t0) * 1000) / N).toFixed(1)} µs/op wall, ${((cpu.user + cpu.system) / N).toFixed(1)} µs/op CPU`);
} else {
  const bench = new Bench({ time: 2000, warmupTime: 300 });
  bench.add('SEV define+start+destroy+undefine', cycle).add('same, new name and uuid each time', slotCycle).add('define+undefine', defineUndefine).add('start+destroy (defined once)', startDestroy).add('floor: XML scan of the document', scanFloor);
  const c0 = process.cpuUsage();
  await bench.run();
  const cpu = process.cpuUsage(c0);
  console.table(bench.table());
  const med = (name: string) => bench.tasks.find((t) => t.name === name)!.result!.latency.p50! * 1000;
  const [c, s, d, b, f] = [med('SEV define+start+destroy+undefine'), med('same, new name and uuid each time'), med('define+undefine'), med('start+destroy (defined once)'), med('floor: XML scan of the document')];
  console.log(`cycle ${c.toFixed(0)} µs (median) = ${(c / f).toFixed(1)}× the scan floor (${f.toFixed(1)} µs); new name and uuid ${s.toFixed(0)} µs; define+undefine ${d.toFixed(0)} µs, start+destroy ${b.toFixed(1)} µs (cycle − define+undefine ${(c - d).toFixed(0)} µs); target ≤ ${TARGET_US} µs: ${c <= TARGET_US ? 'met' : 'missed'} (${(c / TARGET_US).toFixed(2)}× the target)`);
  console.log(`(process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s for the five tasks; load ${loadavg()[0]!.toFixed(2)}; sink ${sink % 7})`);
}
