// duplicate/*: things that must be unique given twice — top-level elements, device identities
// (targets, controller indexes, MACs, PCI addresses), singletons, and duplicate XML attributes.

import type { Corpus } from '../corpus.ts';
import { h, t, type Child, type El } from '../xml.ts';
import { base, patch, addDevices, osNode, domainXml, IMAGES, type Domain } from '../domain.ts';

function disk(dev: string, bus: string, file: string, ...more: Child[]): El {
  return h('disk', { type: 'file', device: 'disk' },
    h('driver', { name: 'qemu', type: 'qcow2' }), h('source', { file: `${IMAGES}/${file}.qcow2` }), h('target', { dev, bus }), ...more);
}

function pci(slot: string, fn = '0x0', multifunction?: string): El {
  return h('address', { type: 'pci', domain: '0x0000', bus: '0x00', slot, function: fn, multifunction });
}

function nic(mac: string | null, ...more: Child[]): El {
  return h('interface', { type: 'network' }, mac ? h('mac', { address: mac }) : null, h('source', { network: 'default' }), h('model', { type: 'virtio' }), ...more);
}

const NUMA_CELL = (id: string, cpus: string): El => h('cell', { id, cpus, memory: '524288', unit: 'KiB' });

export function addDuplicate(c: Corpus): void {
  const add = (slug: string, d: Domain | string): void => c.add('duplicate', slug, typeof d === 'string' ? d : domainXml(d));
  const top = (slug: string, p: Domain['parts']): void => add(slug, patch(base(), p));
  const dev = (slug: string, ...els: Child[]): void => add(slug, addDevices(base(), ...els));
  const pc = (slug: string, ...els: Child[]): void => add(slug, addDevices(base({ machine: 'pc' }), ...els));

  // Top-level elements given twice.
  top('name/different', { name: [t('name', 'first'), t('name', 'second')] });
  top('name/same', { name: [t('name', 'corpus-guest'), t('name', 'corpus-guest')] });
  top('uuid/different', { uuid: [t('uuid', 'c7a5fdbd-edaf-9455-926a-d65c16db1809'), t('uuid', '4dea22b3-1d52-d8f3-2516-782e98ab3fa0')] });
  top('uuid/same', { uuid: [t('uuid', 'c7a5fdbd-edaf-9455-926a-d65c16db1809'), t('uuid', 'c7a5fdbd-edaf-9455-926a-d65c16db1809')] });
  top('memory/different', { memory: [t('memory', 1024, { unit: 'MiB' }), t('memory', 2048, { unit: 'MiB' })] });
  top('memory/same', { memory: [t('memory', 1024, { unit: 'MiB' }), t('memory', 1024, { unit: 'MiB' })] });
  top('currentMemory/two', { currentMemory: [t('currentMemory', 512, { unit: 'MiB' }), t('currentMemory', 768, { unit: 'MiB' })] });
  top('vcpu/two', { vcpu: [t('vcpu', 2), t('vcpu', 4)] });
  top('os/two', { os: [osNode('q35'), osNode('pc')] });
  top('os.type/two', { os: [h('os', {}, t('type', 'hvm', { arch: 'x86_64', machine: 'q35' }), t('type', 'hvm', { arch: 'x86_64', machine: 'pc' }))] });
  top('os.loader/two', { os: [osNode('q35', [t('loader', '/usr/share/OVMF/OVMF_CODE_4M.fd', { readonly: 'yes', type: 'pflash' }), t('loader', '/usr/share/OVMF/OVMF_CODE.fd', { readonly: 'yes', type: 'pflash' })])] });
  top('os.boot/same-dev', { os: [osNode('q35', [h('boot', { dev: 'hd' }), h('boot', { dev: 'hd' })])] });
  top('features/two', { features: [h('features', {}, h('acpi')), h('features', {}, h('apic'))] });
  top('features.acpi/two', { features: [h('features', {}, h('acpi'), h('acpi'), h('apic'))] });
  top('features.hyperv.relaxed/two', { features: [h('features', {}, h('acpi'), h('hyperv', { mode: 'custom' }, h('relaxed', { state: 'on' }), h('relaxed', { state: 'off' })))] });
  top('cpu/two', { cpu: [h('cpu', { mode: 'host-model' }), h('cpu', { mode: 'host-passthrough' })] });
  top('cpu.feature/same-name', { cpu: [h('cpu', { mode: 'custom', match: 'exact' }, t('model', 'qemu64'), h('feature', { policy: 'require', name: 'x2apic' }), h('feature', { policy: 'disable', name: 'x2apic' }))] });
  top('cpu.numa.cell/same-id', { cpu: [h('cpu', {}, h('numa', {}, NUMA_CELL('0', '0'), NUMA_CELL('0', '1')))] });
  top('cpu.numa.cell/overlapping-cpus', { cpu: [h('cpu', {}, h('numa', {}, NUMA_CELL('0', '0-1'), NUMA_CELL('1', '1')))] });
  top('clock/two', { clock: [h('clock', { offset: 'utc' }), h('clock', { offset: 'localtime' })] });
  top('clock.timer/same-name', { clock: [h('clock', { offset: 'utc' }, h('timer', { name: 'rtc', tickpolicy: 'catchup' }), h('timer', { name: 'rtc', tickpolicy: 'delay' }))] });
  top('on_crash/two', { on_crash: [t('on_crash', 'destroy'), t('on_crash', 'restart')] });
  top('title/two', { title: [t('title', 'one'), t('title', 'two')] });
  top('description/two', { description: [t('description', 'one'), t('description', 'two')] });
  top('metadata/two', { metadata: [h('metadata'), h('metadata')] });
  top('pm/two', { pm: [h('pm', {}, h('suspend-to-mem', { enabled: 'no' })), h('pm', {}, h('suspend-to-disk', { enabled: 'no' }))] });
  top('memoryBacking/two', { memoryBacking: [h('memoryBacking', {}, h('locked')), h('memoryBacking', {}, h('nosharepages'))] });
  top('iothreadids/same-id', { iothreads: [t('iothreads', 2), h('iothreadids', {}, h('iothread', { id: '1' }), h('iothread', { id: '1' }))] });
  top('cputune.vcpupin/same-vcpu', { cputune: [h('cputune', {}, h('vcpupin', { vcpu: '0', cpuset: '0' }), h('vcpupin', { vcpu: '0', cpuset: '1' }))] });
  top('launchSecurity/two', { launchSecurity: [h('launchSecurity', { type: 'sev' }, t('policy', '0x0033')), h('launchSecurity', { type: 'sev' }, t('policy', '0x0003'))] });
  top('seclabel/two-same-model', { seclabel: [h('seclabel', { type: 'none', model: 'dac' }), h('seclabel', { type: 'none', model: 'dac' })] });
  top('devices/two', { extra: [h('devices', {}, h('memballoon', { model: 'virtio' }))] });

  // Device identities.
  add('disk.target/same-bus', patch(base(), {}, [disk('vda', 'virtio', 'a'), disk('vda', 'virtio', 'b')]));
  add('disk.target/different-bus', patch(base(), {}, [disk('sda', 'sata', 'a'), disk('sda', 'scsi', 'b')]));
  add('disk.source/same-file', patch(base(), {}, [disk('vda', 'virtio', 'a'), disk('vdb', 'virtio', 'a')]));
  add('disk.drive-address/same', patch(base(), {}, [
    disk('sda', 'sata', 'a', h('address', { type: 'drive', controller: '0', bus: '0', target: '0', unit: '0' })),
    disk('sdb', 'sata', 'b', h('address', { type: 'drive', controller: '0', bus: '0', target: '0', unit: '0' }))]));
  add('disk.boot-order/same', patch(base(), {}, [disk('vda', 'virtio', 'a', h('boot', { order: '1' })), disk('vdb', 'virtio', 'b', h('boot', { order: '1' }))]));
  dev('controller.usb/same-index', h('controller', { type: 'usb', index: '0', model: 'qemu-xhci' }), h('controller', { type: 'usb', index: '0', model: 'nec-xhci' }));
  dev('controller.scsi/same-index', h('controller', { type: 'scsi', index: '0', model: 'virtio-scsi' }), h('controller', { type: 'scsi', index: '0', model: 'lsilogic' }));
  dev('controller.sata/same-index', h('controller', { type: 'sata', index: '0' }), h('controller', { type: 'sata', index: '0' }));
  dev('controller.sata/two-indexes', h('controller', { type: 'sata', index: '0' }), h('controller', { type: 'sata', index: '1' }));
  pc('controller.ide/same-index', h('controller', { type: 'ide', index: '0' }), h('controller', { type: 'ide', index: '0' }));
  pc('controller.ide/two-indexes', h('controller', { type: 'ide', index: '0' }), h('controller', { type: 'ide', index: '1' }));
  dev('controller.virtio-serial/same-index', h('controller', { type: 'virtio-serial', index: '0' }), h('controller', { type: 'virtio-serial', index: '0' }));
  dev('controller.pci/same-index', h('controller', { type: 'pci', index: '1', model: 'pcie-root-port' }), h('controller', { type: 'pci', index: '1', model: 'pcie-root-port' }));
  dev('controller.pci/two-roots', h('controller', { type: 'pci', index: '0', model: 'pcie-root' }), h('controller', { type: 'pci', index: '0', model: 'pcie-root' }));
  dev('interface.mac/same', nic('52:54:00:12:34:56'), nic('52:54:00:12:34:56'));
  dev('interface.mac/same-case-differs', nic('52:54:00:ab:cd:ef'), nic('52:54:00:AB:CD:EF'));
  pc('pci.address/disk-disk', disk('vdb', 'virtio', 'b', pci('0x07')), disk('vdc', 'virtio', 'c', pci('0x07')));
  pc('pci.address/disk-nic', disk('vdb', 'virtio', 'b', pci('0x07')), nic(null, pci('0x07')));
  pc('pci.address/same-slot-other-function', disk('vdb', 'virtio', 'b', pci('0x07', '0x0')), disk('vdc', 'virtio', 'c', pci('0x07', '0x1')));
  pc('pci.address/nic-nic-multifunction', nic(null, pci('0x07', '0x0', 'on')), nic(null, pci('0x07', '0x0', 'on')));
  dev('video.primary/two-yes', h('video', {}, h('model', { type: 'virtio', primary: 'yes' })), h('video', {}, h('model', { type: 'virtio', primary: 'yes' })));
  dev('video/two-vga', h('video', {}, h('model', { type: 'vga' })), h('video', {}, h('model', { type: 'vga' })));
  dev('graphics/two-vnc', h('graphics', { type: 'vnc', autoport: 'yes' }), h('graphics', { type: 'vnc', autoport: 'yes' }));
  dev('graphics/two-spice', h('graphics', { type: 'spice', autoport: 'yes' }), h('graphics', { type: 'spice', autoport: 'yes' }));
  dev('graphics.vnc/same-port', h('graphics', { type: 'vnc', port: '5905', autoport: 'no' }), h('graphics', { type: 'vnc', port: '5905', autoport: 'no' }));
  dev('memballoon/two', h('memballoon', { model: 'virtio' }), h('memballoon', { model: 'virtio' }));
  dev('watchdog/two', h('watchdog', { model: 'i6300esb', action: 'reset' }), h('watchdog', { model: 'i6300esb', action: 'poweroff' }));
  dev('tpm/two', h('tpm', { model: 'tpm-crb' }, h('backend', { type: 'emulator', version: '2.0' })), h('tpm', { model: 'tpm-tis' }, h('backend', { type: 'emulator', version: '2.0' })));
  dev('iommu/two', h('iommu', { model: 'intel' }), h('iommu', { model: 'intel' }));
  dev('vsock/two', h('vsock', { model: 'virtio' }, h('cid', { auto: 'yes' })), h('vsock', { model: 'virtio' }, h('cid', { auto: 'yes' })));
  dev('vsock.cid/same', h('vsock', { model: 'virtio' }, h('cid', { auto: 'no', address: '3' })), h('vsock', { model: 'virtio' }, h('cid', { auto: 'no', address: '3' })));
  dev('serial.port/same', h('serial', { type: 'pty' }, h('target', { port: '0' })), h('serial', { type: 'pty' }, h('target', { port: '0' })));
  dev('console/two', h('console', { type: 'pty' }, h('target', { type: 'serial', port: '0' })), h('console', { type: 'pty' }, h('target', { type: 'serial', port: '0' })));
  dev('channel.target.name/same',
    h('channel', { type: 'unix' }, h('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' })),
    h('channel', { type: 'unix' }, h('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' })));
  dev('input.tablet/two', h('input', { type: 'tablet', bus: 'usb' }), h('input', { type: 'tablet', bus: 'usb' }));
  dev('panic/two-isa', h('panic', { model: 'isa' }), h('panic', { model: 'isa' }));
  dev('rng/two', h('rng', { model: 'virtio' }, h('backend', { model: 'random' }, '/dev/urandom')), h('rng', { model: 'virtio' }, h('backend', { model: 'random' }, '/dev/urandom')));
  dev('filesystem.target/same',
    h('filesystem', { type: 'mount', accessmode: 'mapped' }, h('source', { dir: '/srv/a' }), h('target', { dir: 'share' })),
    h('filesystem', { type: 'mount', accessmode: 'mapped' }, h('source', { dir: '/srv/b' }), h('target', { dir: 'share' })));
  dev('hostdev.source/same',
    h('hostdev', { mode: 'subsystem', type: 'pci', managed: 'yes' }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' }))),
    h('hostdev', { mode: 'subsystem', type: 'pci', managed: 'yes' }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' }))));
  dev('disk.alias/same',
    disk('vdb', 'virtio', 'b', h('alias', { name: 'ua-disk' })), disk('vdc', 'virtio', 'c', h('alias', { name: 'ua-disk' })));

  // Duplicate attributes: not well-formed XML.
  const xml = domainXml(base());
  add('attribute/domain-type', xml.replace("<domain type='qemu'>", "<domain type='qemu' type='qemu'>"));
  add('attribute/domain-type-same', xml.replace("<domain type='qemu'>", "<domain type='qemu' type='kvm'>"));
  add('attribute/memory-unit', xml.replace("<memory unit='MiB'>", "<memory unit='MiB' unit='GiB'>"));
  add('attribute/target-dev', xml.replace("<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio' dev='vdb'/>"));
  add('attribute/type-machine', xml.replace("<type arch='x86_64' machine='q35'>", "<type arch='x86_64' machine='q35' machine='pc'>"));
  add('attribute/quote-styles', xml.replace("<domain type='qemu'>", '<domain type="kvm" type=\'kvm\'>'));
}
