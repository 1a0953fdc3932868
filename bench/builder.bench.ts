/**
 * Builder hot path vs a bare template-string floor producing a similar document, and (when the
 * Debian nova package is installed) nova Zed's own config + to_xml() via bench/nova_builder.py.
 * Run: node bin/run-ts.js bench/builder.bench.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { sysrootFiles } from '../fakelibvirt/views/sysroot.ts';
import { buildDomainXml, hostFragments } from '../src/driver/builder.ts';
import { detectHost } from '../src/driver/detect.ts';
import { FakeHostSource, MapFiles } from '../src/driver/host-source.ts';
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

const NOVA = '/usr/lib/python3/dist-packages/nova';
if (!existsSync(NOVA)) {
  console.log(`nova comparison skipped: ${NOVA} is not installed (apt-get install python3-nova to enable it)`);
} else {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'nova_builder.py');
  const out = execFileSync('/usr/bin/python3', [script, '2000'], { encoding: 'utf8' });
  const us = Number(/([\d.]+) us\/op/.exec(out)?.[1]);
  console.log(out.trim());
  if (Number.isFinite(us)) console.log(`nova Zed ${us.toFixed(1)} µs/op vs builder ${(builderMs * 1000).toFixed(2)} µs/op: ${(us / (builderMs * 1000)).toFixed(0)}× faster`);
}
if (sink === 0) console.log('');
