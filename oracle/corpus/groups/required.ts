// required/*: one required part left out, or present but empty. Ids name what is missing.

import type { Corpus } from '../corpus.ts';
import { h, t, type Child, type El } from '../xml.ts';
import { base, patch, addDevices, osNode, domainXml, IMAGES, type Domain } from '../domain.ts';

const DISK = `${IMAGES}/corpus-guest.qcow2`;

/** The base document without one top-level part. */
function without(part: keyof Domain['parts']): Domain {
  const d = base();
  const parts = { ...d.parts };
  delete parts[part];
  return { ...d, parts };
}

/** The base document with its only disk replaced. */
function withDisk(disk: El): Domain {
  return patch(base(), {}, [disk]);
}

function diskOf(attrs: Record<string, string | undefined>, ...children: Child[]): El {
  return h('disk', attrs, ...children);
}

const drv = h('driver', { name: 'qemu', type: 'qcow2' });
const src = h('source', { file: DISK });
const tgt = h('target', { dev: 'vda', bus: 'virtio' });

export function addRequired(c: Corpus): void {
  const add = (slug: string, d: Domain): void => c.add('required', slug, domainXml(d));

  // Top-level parts.
  add('name/missing', without('name'));
  add('name/empty', patch(base(), { name: [t('name', '')] }));
  add('name/space', patch(base(), { name: [t('name', ' ')] }));
  add('name/newline', patch(base(), { name: [t('name', '\n')] }));
  add('name/selfclosed', patch(base(), { name: [h('name')] }));
  add('memory/missing', without('memory'));
  add('memory/missing-with-numa', patch(without('memory'), {
    cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: '1048576', unit: 'KiB' })))],
  }));
  add('memory/missing-with-currentMemory', patch(without('memory'), { currentMemory: [t('currentMemory', 1048576, { unit: 'KiB' })] }));
  add('memory/empty', patch(base(), { memory: [t('memory', '')] }));
  add('memory/empty-with-unit', patch(base(), { memory: [t('memory', '', { unit: 'MiB' })] }));
  add('memory/space', patch(base(), { memory: [t('memory', ' ', { unit: 'MiB' })] }));
  add('memory/selfclosed', patch(base(), { memory: [h('memory', { unit: 'MiB' })] }));
  add('vcpu/missing', without('vcpu'));
  add('vcpu/empty', patch(base(), { vcpu: [t('vcpu', '')] }));
  add('os/missing', without('os'));
  add('os/empty', patch(base(), { os: [h('os')] }));
  add('os.type/missing', patch(base(), { os: [h('os', {}, h('boot', { dev: 'hd' }))] }));
  add('os.type/empty', patch(base(), { os: [h('os', {}, t('type', '', { arch: 'x86_64', machine: 'q35' }))] }));
  add('os.type/selfclosed', patch(base(), { os: [h('os', {}, h('type', { arch: 'x86_64', machine: 'q35' }))] }));
  add('os.type.arch/missing', patch(base(), { os: [h('os', {}, t('type', 'hvm', { machine: 'q35' }))] }));
  add('os.type.machine/missing', patch(base(), { os: [h('os', {}, t('type', 'hvm', { arch: 'x86_64' }))] }));
  add('os.type.attrs/missing', patch(base(), { os: [h('os', {}, t('type', 'hvm'))] }));
  add('domain.type/missing', { ...base(), attrs: {} });
  add('domain.type/empty', { ...base(), attrs: { type: '' } });
  add('uuid/empty', patch(base(), { uuid: [t('uuid', '')] }));
  add('devices/missing', patch(base(), {}, null));
  add('devices/empty', patch(base(), {}, []));
  add('features/empty', patch(base(), { features: [h('features')] }));
  add('cpu/empty', patch(base(), { cpu: [h('cpu')] }));
  add('clock/empty', patch(base(), { clock: [h('clock')] }));
  add('on_crash/selfclosed', patch(base(), { on_crash: [h('on_crash')] }));
  add('os.loader/empty', patch(base(), { os: [osNode('q35', [t('loader', '', { readonly: 'yes', type: 'pflash' })])] }));
  add('os.kernel/empty', patch(base(), { os: [osNode('q35', [t('kernel', '')])] }));
  add('os.initrd/without-kernel', patch(base(), { os: [osNode('q35', [t('initrd', '/boot/initrd.img')])] }));
  add('os.boot.dev/missing', patch(base(), { os: [osNode('q35', [h('boot')])] }));
  add('emulator/empty', patch(base(), {}, [t('emulator', ''), ...(base().devices ?? [])]));
  add('cpu.numa.cell.memory/missing', patch(base(), { cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1' })))] }));
  add('cpu.numa.cell.cpus/missing', patch(base(), { cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', memory: '1048576', unit: 'KiB' })))] }));
  add('cpu.numa.cell.id/missing', patch(base(), { cpu: [h('cpu', {}, h('numa', {}, h('cell', { cpus: '0-1', memory: '1048576', unit: 'KiB' })))] }));
  add('cpu.model/missing', patch(base(), { cpu: [h('cpu', { mode: 'custom', match: 'exact' })] }));
  add('cpu.feature.name/missing', patch(base(), { cpu: [h('cpu', { mode: 'custom', match: 'exact' }, t('model', 'qemu64'), h('feature', { policy: 'require' }))] }));
  add('launchSecurity.policy/missing', patch(base(), { launchSecurity: [h('launchSecurity', { type: 'sev' }, t('cbitpos', 51), t('reducedPhysBits', 1))] }));
  add('launchSecurity.type/missing', patch(base(), { launchSecurity: [h('launchSecurity', {}, t('policy', '0x0033'))] }));

  // Disks.
  add('disk.target/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, drv, src)));
  add('disk.target.dev/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, drv, src, h('target', { bus: 'virtio' }))));
  add('disk.target.dev/empty', withDisk(diskOf({ type: 'file', device: 'disk' }, drv, src, h('target', { dev: '', bus: 'virtio' }))));
  add('disk.target.bus/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, drv, src, h('target', { dev: 'vda' }))));
  add('disk.source/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, drv, tgt)));
  add('disk.source.file/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, drv, h('source'), tgt)));
  add('disk.source.file/empty', withDisk(diskOf({ type: 'file', device: 'disk' }, drv, h('source', { file: '' }), tgt)));
  add('disk.source.dev/missing', withDisk(diskOf({ type: 'block', device: 'disk' }, h('driver', { name: 'qemu', type: 'raw' }), h('source'), tgt)));
  add('disk.type/missing', withDisk(diskOf({ device: 'disk' }, drv, src, tgt)));
  add('disk.device/missing', withDisk(diskOf({ type: 'file' }, drv, src, tgt)));
  add('disk.driver/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, src, tgt)));
  add('disk.driver.name/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, h('driver', { type: 'qcow2' }), src, tgt)));
  add('disk.driver.type/missing', withDisk(diskOf({ type: 'file', device: 'disk' }, h('driver', { name: 'qemu' }), src, tgt)));
  add('disk.cdrom.source/missing', withDisk(diskOf({ type: 'file', device: 'cdrom' }, h('driver', { name: 'qemu', type: 'raw' }), h('target', { dev: 'sda', bus: 'sata' }), h('readonly'))));

  // Other devices: each without the attribute or child it needs.
  const dev = (slug: string, ...els: Child[]): void => add(slug, addDevices(base(), ...els));
  dev('controller.type/missing', h('controller', { index: '0', model: 'qemu-xhci' }));
  dev('controller.index/missing', h('controller', { type: 'usb', model: 'qemu-xhci' }));
  dev('interface.type/missing', h('interface', {}, h('source', { network: 'default' }), h('model', { type: 'virtio' })));
  dev('interface.source/missing', h('interface', { type: 'network' }, h('model', { type: 'virtio' })));
  dev('interface.source.network/missing', h('interface', { type: 'network' }, h('source'), h('model', { type: 'virtio' })));
  dev('interface.source.bridge/missing', h('interface', { type: 'bridge' }, h('source'), h('model', { type: 'virtio' })));
  dev('interface.mac.address/missing', h('interface', { type: 'network' }, h('mac'), h('source', { network: 'default' })));
  dev('interface.model.type/missing', h('interface', { type: 'network' }, h('source', { network: 'default' }), h('model')));
  dev('input.type/missing', h('input', { bus: 'usb' }));
  dev('input.bus/missing', h('input', { type: 'tablet' }));
  dev('graphics.type/missing', h('graphics', { autoport: 'yes' }));
  dev('video.model/missing', h('video'));
  dev('video.model.type/missing', h('video', {}, h('model', { vram: '16384' })));
  dev('sound.model/missing', h('sound'));
  dev('serial.type/missing', h('serial', {}, h('target', { port: '0' })));
  dev('serial.target.port/missing', h('serial', { type: 'pty' }, h('target')));
  dev('console.type/missing', h('console', {}, h('target', { type: 'serial', port: '0' })));
  dev('channel.target/missing', h('channel', { type: 'unix' }, h('source', { mode: 'bind' })));
  dev('channel.target.type/missing', h('channel', { type: 'unix' }, h('target', { name: 'org.qemu.guest_agent.0' })));
  dev('channel.target.name/missing', h('channel', { type: 'unix' }, h('target', { type: 'virtio' })));
  dev('channel.guestfwd.address/missing', h('channel', { type: 'pty' }, h('target', { type: 'guestfwd', port: '4600' })));
  dev('rng.model/missing', h('rng', {}, h('backend', { model: 'random' }, '/dev/urandom')));
  dev('rng.backend/missing', h('rng', { model: 'virtio' }));
  dev('rng.backend.model/missing', h('rng', { model: 'virtio' }, h('backend', {}, '/dev/urandom')));
  dev('rng.backend.path/missing', h('rng', { model: 'virtio' }, h('backend', { model: 'random' })));
  dev('memballoon.model/missing', h('memballoon'));
  dev('watchdog.model/missing', h('watchdog', { action: 'reset' }));
  dev('watchdog.action/missing', h('watchdog', { model: 'i6300esb' }));
  dev('tpm.backend/missing', h('tpm', { model: 'tpm-crb' }));
  dev('tpm.backend.type/missing', h('tpm', { model: 'tpm-crb' }, h('backend', { version: '2.0' })));
  dev('tpm.model/missing', h('tpm', {}, h('backend', { type: 'emulator', version: '2.0' })));
  dev('panic.model/missing', h('panic'));
  dev('hostdev.type/missing', h('hostdev', { mode: 'subsystem', managed: 'yes' }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' }))));
  dev('hostdev.mode/missing', h('hostdev', { type: 'pci', managed: 'yes' }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' }))));
  dev('hostdev.source/missing', h('hostdev', { mode: 'subsystem', type: 'pci', managed: 'yes' }));
  dev('filesystem.target/missing', h('filesystem', { type: 'mount', accessmode: 'mapped' }, h('source', { dir: '/srv/share' })));
  dev('filesystem.source/missing', h('filesystem', { type: 'mount', accessmode: 'mapped' }, h('target', { dir: 'share' })));
  dev('smartcard.mode/missing', h('smartcard'));
  dev('redirdev.bus/missing', h('redirdev', { type: 'spicevmc' }), h('graphics', { type: 'spice', autoport: 'yes' }));
  dev('redirdev.type/missing', h('redirdev', { bus: 'usb' }), h('graphics', { type: 'spice', autoport: 'yes' }));
  dev('hub.type/missing', h('hub'));
  dev('vsock.cid/missing', h('vsock', { model: 'virtio' }));
  dev('shmem.name/missing', h('shmem', {}, h('model', { type: 'ivshmem-plain' }), h('size', { unit: 'M' }, '4')));
  dev('address.type/missing', h('disk', { type: 'file', device: 'disk' }, drv, h('source', { file: `${IMAGES}/b.qcow2` }), h('target', { dev: 'vdb', bus: 'virtio' }), h('address', { domain: '0x0000', bus: '0x00', slot: '0x07', function: '0x0' })));
  dev('address.pci.slot/missing', h('disk', { type: 'file', device: 'disk' }, drv, h('source', { file: `${IMAGES}/b.qcow2` }), h('target', { dev: 'vdb', bus: 'virtio' }), h('address', { type: 'pci', domain: '0x0000', bus: '0x00', function: '0x0' })));
  dev('lease.target/missing', h('lease', {}, t('lockspace', 'somearea'), t('key', 'somekey')));
  dev('memory.target/missing', h('memory', { model: 'dimm' }));
}
