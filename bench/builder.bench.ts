/**
 * Builder hot path vs a bare template-string floor producing a similar document, and (when the
 * Debian nova package is installed) nova Zed's own config objects + to_xml() for the same guest via
 * bench/nova_builder.py, measured in the same run; prints both ratios on the RESULT line.
 * Run: node bin/run-ts.js bench/builder.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { sysrootFiles } from '../fakelibvirt/views/sysroot.ts';
import { buildDomainXml, hostFragments } from '../src/driver/builder.ts';
import { detectHost } from '../src/driver/detect.ts';
import { FakeHostSource } from '../conformance/fake-host-source.ts';
import { MapFiles } from '../src/driver/host-source.ts';
import { planGuest } from '../src/driver/request.ts';

const host = new FakeHost(loadProfile('rome-7002'));
const files = new MapFiles(new Map([...sysrootFiles(host.profile, host.kernel)].map(([k, v]) => [k, v.content] as const)));
const report = await detectHost(new FakeHostSource(host), files, { hw_machine_type: { x86_64: 'q35' } });
const frag = hostFragments(report);
const plan = planGuest({ name: 'instance-00000001', flavor: { name: 'm1', vcpus: 2, memory_mb: 2048, extra_specs: { 'hw:mem_encryption': 'true' } }, image: { id: 'i', name: 'img', properties: { hw_firmware_type: 'uefi' } } }, report);
const uuid = '3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b';

/** The floor: one template literal with the same elements and only the per-guest values interpolated. */
function floor(name: string, memKiB: number, vcpus: number, machine: string): string {
  const d = `/var/lib/sevharness/instances/${name}`;
  return `<domain type='kvm'><name>${name}</name><uuid>${uuid}</uuid><metadata><sh:guest-os xmlns:sh='urn:sevharness:guest-os:1' name='generic-sev-aware' sev='yes' sev-es='yes' virtio-blk-boot='yes'/></metadata><memory unit='KiB'>${memKiB}</memory><currentMemory unit='KiB'>${memKiB}</currentMemory><memoryBacking><locked/></memoryBacking><vcpu>${vcpus}</vcpu><os><type arch='x86_64' machine='${machine}'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/></os><features><acpi/><apic/></features><cpu mode='host-model'/><clock offset='utc'/><on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash><devices><emulator>/usr/bin/qemu-system-x86_64</emulator><disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none' iommu='on'/><source file='${d}/disk'/><target dev='vda' bus='virtio'/><boot order='1'/></disk><disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${d}/disk.config'/><target dev='sda' bus='sata'/><readonly/></disk><controller type='usb' index='0' model='qemu-xhci'/><interface type='network'><source network='default'/><model type='virtio'/><driver iommu='on'/><rom enabled='no'/></interface><video><model type='virtio'/><driver iommu='on'/></video><serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console><input type='tablet' bus='usb'/><graphics type='vnc' autoport='yes' listen='127.0.0.1'/><rng model='virtio'><backend model='random'>/dev/urandom</backend><driver iommu='on'/></rng><memballoon model='virtio'><stats period='10'/><driver iommu='on'/></memballoon></devices><launchSecurity type='sev'><policy>0x0033</policy><cbitpos>47</cbitpos><reducedPhysBits>1</reducedPhysBits></launchSecurity></domain>`;
}

let sink = 0;
const bench = new Bench({ time: 1000, warmupTime: 200 });
bench
  .add('builder: buildDomainXml (SEV, locked)', () => {
    // charCodeAt flattens V8's rope, as writing the XML to a socket would.
    const x = buildDomainXml(plan, frag, { uuid });
    sink += x.charCodeAt(x.length >> 1);
  })
  .add('floor: bare template string', () => {
    const x = floor(plan.name, plan.memoryMiB * 1024, plan.vcpus, plan.machine);
    sink += x.charCodeAt(x.length >> 1);
  });
await bench.run();
console.table(bench.table());
const mean = (name: string) => bench.tasks.find((t) => t.name === name)!.result!.latency.mean;
const builderMs = mean('builder: buildDomainXml (SEV, locked)');
const floorMs = mean('floor: bare template string');
console.log(`builder ${(builderMs * 1000).toFixed(2)} µs/op, floor ${(floorMs * 1000).toFixed(2)} µs/op, ratio ${(builderMs / floorMs).toFixed(2)}× (target ≤ 3×)`);

/**
 * nova Zed's own objects (bench/nova_builder.py) building and serialising the same guest, timed in
 * this run right after ours so the ratio compares like with like on a machine whose load varies.
 */
const script = join(dirname(fileURLToPath(import.meta.url)), 'nova_builder.py');
const nova = spawnSync('/usr/bin/python3', [script, '3000'], { encoding: 'utf8' });
const novaUs = Number(/([\d.]+) us\/op/.exec(nova.stdout ?? '')?.[1]);
const builderUs = builderMs * 1000;
if (nova.status === 3 || nova.error) {
  console.log(`nova comparison skipped: ${(nova.stdout || String(nova.error)).trim()} (apt-get install python3-nova, run under /usr/bin/python3)`);
} else if (!Number.isFinite(novaUs)) {
  console.log(`nova comparison failed: ${nova.stdout}${nova.stderr}`);
  process.exitCode = 1;
} else {
  const novaXml = spawnSync('/usr/bin/python3', [script, '--xml'], { encoding: 'utf8' }).stdout;
  const ours = buildDomainXml(plan, frag, { uuid });
  const DEVICE = /<(disk|controller|interface|video|serial|console|input|graphics|rng|memballoon)[ >]/g;
  const dir = mkdtempSync(join(tmpdir(), 'builder-bench-'));
  const valid = (name: string, xml: string) => {
    writeFileSync(join(dir, name), xml);
    return spawnSync('/usr/bin/virt-xml-validate', [join(dir, name), 'domain']).status === 0 ? 'schema-valid' : 'INVALID';
  };
  console.log(nova.stdout.trim());
  console.log(`same guest: ours ${ours.match(DEVICE)?.length} devices (${valid('ours.xml', ours)}), nova ${novaXml.match(DEVICE)?.length} devices (${valid('nova.xml', novaXml)})`);
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `RESULT builder ${builderUs.toFixed(2)} µs/op | vs nova Zed ${novaUs.toFixed(1)} µs/op: ${(novaUs / builderUs).toFixed(0)}× faster (target ≥ 30×) | ` +
      `vs floor ${(floorMs * 1000).toFixed(2)} µs/op: ${(builderMs / floorMs).toFixed(2)}× the floor (target ≤ 3×)`,
  );
}
if (sink === 0) console.log('');
