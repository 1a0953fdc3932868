/**
 * The define pipeline (virDomainDefineXML's parse, post-parse and validate) as the suite and the
 * drivers call it: the same document again and again (define/undefine loops), and one template
 * whose `<name>` and `<uuid>` change every time (the slot cases boot up to 1,006 guests a host
 * from one document). Each through FakeHost define + undefine, and the pipeline alone, beside the
 * XML scan of the document (the floor of any define); medians in one run.
 *   node bin/run-ts.js bench/define-memo.bench.ts
 */
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { defineDomainXml } from '../fakelibvirt/libvirt/domain-def.ts';
import { domainContext } from '../fakelibvirt/libvirt/domain/context.ts';
import { parseXmlDocument } from '../fakelibvirt/libvirt/xml-tree.ts';
import { sysrootFiles } from '../fakelibvirt/views/sysroot.ts';
import { buildDomainXml, hostFragments } from '../src/driver/builder.ts';
import { detectHost } from '../src/driver/detect.ts';
import { FakeHostSource } from '../conformance/fake-host-source.ts';
import { MapFiles } from '../src/driver/host-source.ts';
import { planGuest } from '../src/driver/request.ts';
import { DomainFlags } from '../src/libvirt/flags.ts';

const host = new FakeHost(loadProfile('milan-7003-es8'));
const files = new MapFiles(new Map([...sysrootFiles(host.profile, host.kernel)].map(([k, v]) => [k, v.content] as const)));
const report = await detectHost(new FakeHostSource(host), files, { hw_machine_type: { x86_64: 'q35' } });
const plan = planGuest({ name: 'instance-00000001', flavor: { name: 'm1', vcpus: 2, memory_mb: 2048, extra_specs: { 'hw:mem_encryption': 'true' } }, image: { id: 'i', name: 'img', properties: { hw_firmware_type: 'uefi' } } }, report);
const UUID = '3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b';
const SEV_XML = buildDomainXml(plan, hostFragments(report), { uuid: UUID });
const ctx = domainContext(host.profile, host.sectypes());

/** The same guest under the i-th name and uuid, as the slot cases define them. */
let slot = 0;
function nextSlotXml(): string {
  const i = ++slot;
  const hex = i.toString(16).padStart(12, '0');
  return SEV_XML.replace('instance-00000001', `instance-${String(i).padStart(8, '0')}`).replace(UUID, `3f1c2a9e-8b7d-4e6f-9a0b-${hex}`);
}

let sink = 0;
const tasks: [string, () => void][] = [
  ['define+undefine, same document', () => host.undefine(host.defineXML(SEV_XML), DomainFlags.UNDEFINE_NVRAM)],
  ['define+undefine, new name and uuid', () => host.undefine(host.defineXML(nextSlotXml()), DomainFlags.UNDEFINE_NVRAM)],
  ['pipeline, same document', () => (sink += defineDomainXml(SEV_XML, ctx).vcpus)],
  ['pipeline, new name and uuid', () => (sink += defineDomainXml(nextSlotXml(), ctx).vcpus)],
  ['floor: XML scan of the document', () => (sink += parseXmlDocument(SEV_XML, 'domain_definition').children.length)],
];

const bench = new Bench({ time: 1500, warmupTime: 300 });
for (const [name, fn] of tasks) bench.add(name, fn);
const c0 = process.cpuUsage();
await bench.run();
const cpu = process.cpuUsage(c0);
const med = (name: string) => (bench.tasks.find((t) => t.name === name)?.result?.latency?.p50 ?? NaN) * 1000;
const floor = med('floor: XML scan of the document');
for (const [name] of tasks) console.log(`${name.padEnd(40)} ${med(name).toFixed(1).padStart(8)} µs median  ${(med(name) / floor).toFixed(2).padStart(6)}× the scan`);
console.log(`(process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s; load ${loadavg()[0]!.toFixed(2)}; ${SEV_XML.length} bytes; sink ${sink % 7})`);
