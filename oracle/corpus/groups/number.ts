// number/*: numeric fields at and beyond their limits — sizes and units, vCPU counts, PCI and
// drive addresses, MACs and UUIDs, tuning ranges. Ids: number/<field>/<value>.
//
// A few values belong to the family real libvirt 9.0 aborts on (reference §3: <vcpu>-1</vcpu>,
// huge vCPU counts, <iothreads>-1</iothreads>); they are here on purpose, under number/vcpu and
// number/iothreads, and must be probed in a child process.

import type { Corpus } from '../corpus.ts';
import { slugPart } from '../corpus.ts';
import { h, t, type Child, type El } from '../xml.ts';
import { base, patch, addDevices, osNode, virtioDisk, domainXml, IMAGES, type Domain } from '../domain.ts';

function each(c: Corpus, field: string, values: readonly string[], build: (v: string) => Domain): void {
  for (const v of values) c.add('number', `${field}/${slugPart(v)}`, domainXml(build(v)));
}

const P53 = '9007199254740992';
const P63 = '9223372036854775808';
const P64 = '18446744073709551616';

/** Integers around the interesting edges, plus malformed spellings of one good value. */
const SIZE_VALUES = [
  '0', '1', '4', '1023', '1024', '262144', '1048576', '4194304',
  '9007199254740991', P53, '9007199254740993', '9223372036854775807', P63, '18446744073709551615', P64, '18446744073709551617',
  '-1', '-1048576', '-0', '1.5', '1048576.0', '1e6', '0x100000', '0X100000', '+1048576', ' 1048576', '1048576 ', '\n  1048576\n',
  '\t1048576', '1 048 576', '1,048,576', '001048576', '1048576abc', 'abc', '', ' ',
];

/** Unit spellings libvirt's scaled integers know, and ones it does not. */
const UNITS: [string, string][] = [
  // [unit, value meaning 1 GiB (or 1 GB) in that unit]
  ['b', '1073741824'], ['B', '1073741824'], ['byte', '1073741824'], ['bytes', '1073741824'], ['Bytes', '1073741824'], ['BYTES', '1073741824'],
  ['k', '1048576'], ['K', '1048576'], ['KiB', '1048576'], ['kib', '1048576'], ['KIB', '1048576'], ['KB', '1000000'], ['kB', '1000000'], ['kb', '1000000'],
  ['m', '1024'], ['M', '1024'], ['MiB', '1024'], ['mib', '1024'], ['MB', '1000'], ['mb', '1000'], ['Mb', '1000'],
  ['g', '1'], ['G', '1'], ['GiB', '1'], ['gib', '1'], ['GB', '1'], ['gb', '1'],
  ['t', '1'], ['T', '1'], ['TiB', '1'], ['TB', '1'],
  ['p', '1'], ['P', '1'], ['PiB', '1'], ['PB', '1'],
  ['e', '1'], ['E', '1'], ['EiB', '1'], ['EB', '1'],
  ['Ki', '1048576'], ['Mi', '1024'], ['KiBs', '1048576'], ['kilobytes', '1048576'], ['MiByte', '1024'], ['Z', '1'], ['ZiB', '1'], ['YB', '1'],
  ['%', '50'], ['1', '1024'], [' MiB', '1024'], ['MiB ', '1024'], ['', '1048576'], ['bogus', '1024'],
];

function memoryDoc(value: string, unit: string | undefined, extra: Domain['parts'] = {}): Domain {
  return patch(base(), { memory: [t('memory', value, { unit })], ...extra });
}

function addMemory(c: Corpus): void {
  each(c, 'memory.value', SIZE_VALUES, (v) => memoryDoc(v, 'KiB'));
  each(c, 'memory.value.nounit', ['0', '1', '1048576', P64, '-1', '1.5'], (v) => memoryDoc(v, undefined));
  for (const [unit, value] of UNITS) {
    c.add('number', `memory.unit/${slugPart(unit)}`, domainXml(memoryDoc(value, unit)));
  }
  // Overflow after scaling: the value fits 64 bits, value × unit does not.
  each(c, 'memory.scaled.MiB', ['17592186044415', '17592186044416', '8796093022208', '8796093022207'], (v) => memoryDoc(v, 'MiB'));
  each(c, 'memory.scaled.GiB', ['17179869183', '17179869184', '4294967296', '16384'], (v) => memoryDoc(v, 'GiB'));
  each(c, 'memory.scaled.TiB', ['16777215', '16777216', '1024', '8192'], (v) => memoryDoc(v, 'TiB'));
  each(c, 'memory.scaled.EiB', ['1', '15', '16', '17'], (v) => memoryDoc(v, 'EiB'));
  // currentMemory against memory (1048576 KiB).
  each(c, 'currentMemory.value', ['0', '1', '524288', '1048575', '1048576', '1048577', '2097152', P64, '-1', 'abc', '', '1.5'],
    (v) => memoryDoc('1048576', 'KiB', { currentMemory: [t('currentMemory', v, { unit: 'KiB' })] }));
  each(c, 'currentMemory.unit', ['MiB', 'GiB', 'bogus', ''],
    (u) => memoryDoc('1048576', 'KiB', { currentMemory: [t('currentMemory', u === 'GiB' ? '2' : '512', { unit: u })] }));
  // maxMemory and its slots (memory hotplug needs a NUMA cell).
  const numa = [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: '1048576', unit: 'KiB' })))];
  each(c, 'maxMemory.slots', ['0', '1', '16', '255', '256', '257', '1024', '-1', 'abc', ''],
    (v) => memoryDoc('1048576', 'KiB', { maxMemory: [t('maxMemory', '4194304', { slots: v, unit: 'KiB' })], cpu: numa }));
  each(c, 'maxMemory.value', ['0', '524288', '1048576', '1048577', '4194304', P64, '-1', 'abc'],
    (v) => memoryDoc('1048576', 'KiB', { maxMemory: [t('maxMemory', v, { slots: '16', unit: 'KiB' })], cpu: numa }));
  c.add('number', 'maxMemory.noslots/4194304', domainXml(memoryDoc('1048576', 'KiB', { maxMemory: [t('maxMemory', '4194304', { unit: 'KiB' })], cpu: numa })));
  c.add('number', 'maxMemory.nonuma/4194304', domainXml(memoryDoc('1048576', 'KiB', { maxMemory: [t('maxMemory', '4194304', { slots: '16', unit: 'KiB' })] })));
  // NUMA cell memory against <memory>.
  each(c, 'numa.cell.memory', ['0', '1', '524288', '1048576', '2097152', P64, '-1', 'abc', ''],
    (v) => memoryDoc('1048576', 'KiB', { cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: v, unit: 'KiB' })))] }));
  each(c, 'numa.cell.split', ['524288+524288', '524288+262144', '1048576+1048576', '0+1048576'], (v) => {
    const [a, b] = v.split('+') as [string, string];
    return memoryDoc('1048576', 'KiB', {
      cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0', memory: a, unit: 'KiB' }), h('cell', { id: '1', cpus: '1', memory: b, unit: 'KiB' })))],
    });
  });
  each(c, 'numa.cell.cpus', ['0', '0-1', '0-2', '0-255', '2', '1-0', '', 'abc'],
    (v) => memoryDoc('1048576', 'KiB', { cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: v, memory: '1048576', unit: 'KiB' })))] }));
  each(c, 'numa.cell.id', ['0', '1', '255', '-1', 'abc'],
    (v) => memoryDoc('1048576', 'KiB', { cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: v, cpus: '0-1', memory: '1048576', unit: 'KiB' })))] }));
  // memtune: 9007199254740991 KiB is libvirt's "unlimited".
  for (const field of ['hard_limit', 'soft_limit', 'swap_hard_limit', 'min_guarantee']) {
    each(c, `memtune.${field}`, ['0', '1', '1048576', '9007199254740991', P53, '9223372036854775807', P64, '-1', 'abc', ''],
      (v) => patch(base(), { memtune: [h('memtune', {}, t(field, v, { unit: 'KiB' }))] }));
  }
  each(c, 'memtune.order', ['soft-above-hard', 'swap-below-hard', 'hard-below-memory'], (v) => {
    const kids = v === 'soft-above-hard' ? [t('hard_limit', 1048576, { unit: 'KiB' }), t('soft_limit', 2097152, { unit: 'KiB' })]
      : v === 'swap-below-hard' ? [t('hard_limit', 2097152, { unit: 'KiB' }), t('swap_hard_limit', 1048576, { unit: 'KiB' })]
        : [t('hard_limit', 524288, { unit: 'KiB' })];
    return patch(base(), { memtune: [h('memtune', {}, ...kids)] });
  });
}

function vcpuDoc(text: string, attrs: Record<string, string | undefined> = {}, extra: Domain['parts'] = {}): Domain {
  return patch(base(), { vcpu: [t('vcpu', text, attrs)], ...extra });
}

function addVcpus(c: Corpus): void {
  // -1 and 4294967295 abort libvirt 9.0 (it allocates per-vCPU state for the wrapped count).
  each(c, 'vcpu', ['0', '1', '2', '16', '240', '255', '256', '288', '289', '384', '710', '1024', '4096', '4097', '65535',
    '-1', '4294967295', '4294967296', '1.5', '0x10', '+2', ' 2 ', '02', 'two', ''], (v) => vcpuDoc(v));
  each(c, 'vcpu.current', ['0', '1', '2', '3', '-1', 'abc', ''], (v) => vcpuDoc('2', { current: v }));
  each(c, 'vcpu.cpuset', ['0', '0-3', '0,2', '^0', '0-3,^2', '3-0', '0-', '4096', '0-4096', '-1', 'abc', ''], (v) => vcpuDoc('2', { cpuset: v }));
  // Topology against the vCPU count (libvirt checks sockets × dies × cores × threads).
  each(c, 'cpu.topology', ['1x1x2x1', '1x1x1x2', '2x1x1x1', '1x1x4x1', '1x1x1x1', '0x1x2x1', '1x0x2x1', '1x1x0x1', '2x2x2x2', '65536x1x1x1', '-1x1x2x1'], (v) => {
    const [sockets, dies, cores, threads] = v.split('x') as [string, string, string, string];
    return vcpuDoc('2', {}, { cpu: [h('cpu', { mode: 'custom', match: 'exact' }, t('model', 'qemu64'), h('topology', { sockets, dies, cores, threads }))] });
  });
  // -1 aborts libvirt 9.0 (reference §3).
  each(c, 'iothreads', ['0', '1', '8', '64', '1024', '-1', '1.5', 'abc', ''], (v) => patch(base(), { iothreads: [t('iothreads', v)] }));
  each(c, 'iothreadids.id', ['0', '1', '2', '4294967295', '4294967296', '-1', 'abc'],
    (v) => patch(base(), { iothreads: [t('iothreads', 1), h('iothreadids', {}, h('iothread', { id: v }))] }));
  // cputune ranges.
  each(c, 'cputune.shares', ['0', '1', '2', '1024', '262144', '262145', '-1', P64, 'abc', ''],
    (v) => patch(base(), { cputune: [h('cputune', {}, t('shares', v))] }));
  each(c, 'cputune.period', ['0', '999', '1000', '100000', '1000000', '1000001', '-1', 'abc'],
    (v) => patch(base(), { cputune: [h('cputune', {}, t('period', v))] }));
  each(c, 'cputune.quota', ['-2', '-1', '0', '999', '1000', '50000', '17592186044415', '17592186044416', P64, 'abc'],
    (v) => patch(base(), { cputune: [h('cputune', {}, t('quota', v))] }));
  each(c, 'cputune.vcpupin.vcpu', ['0', '1', '2', '-1', 'abc'],
    (v) => patch(base(), { cputune: [h('cputune', {}, h('vcpupin', { vcpu: v, cpuset: '0' }))] }));
  each(c, 'blkiotune.weight', ['0', '1', '9', '10', '99', '100', '500', '1000', '1001', '10000', '-1', 'abc', ''],
    (v) => patch(base(), { blkiotune: [h('blkiotune', {}, t('weight', v))] }));
  each(c, 'blkiotune.device.weight', ['0', '10', '100', '1000', '1001', '-1'],
    (v) => patch(base(), { blkiotune: [h('blkiotune', {}, h('device', {}, t('path', '/dev/sda'), t('weight', v)))] }));
}

function pci(attrs: Record<string, string | undefined>): El {
  return h('address', { type: 'pci', domain: '0x0000', bus: '0x00', slot: '0x07', function: '0x0', ...attrs });
}

function diskAt(addr: El | null, machine = 'q35'): Domain {
  const d = base({ machine });
  return patch(d, {}, [h('disk', { type: 'file', device: 'disk' },
    h('driver', { name: 'qemu', type: 'qcow2' }), h('source', { file: `${IMAGES}/corpus-guest.qcow2` }), h('target', { dev: 'vda', bus: 'virtio' }), addr)]);
}

function nicAt(addr: El | null, machine = 'q35', mac?: string, extra: Child[] = []): Domain {
  return addDevices(base({ machine }), h('interface', { type: 'network' },
    mac !== undefined ? h('mac', { address: mac }) : null, h('source', { network: 'default' }), h('model', { type: 'virtio' }), ...extra, addr));
}

function addAddresses(c: Corpus): void {
  const hex = (n: number, w: number): string => `0x${n.toString(16).padStart(w, '0')}`;
  // Every slot of bus 0, on i440fx (disk) and q35 (NIC).
  for (let s = 0; s <= 0x20; s++) {
    c.add('number', `pci.slot.disk.pc/${hex(s, 2)}`, domainXml(diskAt(pci({ slot: hex(s, 2) }), 'pc')));
    c.add('number', `pci.slot.nic.q35/${hex(s, 2)}`, domainXml(nicAt(pci({ slot: hex(s, 2) }), 'q35')));
  }
  each(c, 'pci.slot.spelling', ['7', '07', '0x7', '0X07', '0x007', '-1', '0x', 'seven', '', ' 0x07'], (v) => diskAt(pci({ slot: v }), 'pc'));
  for (const [dev, mk] of [['disk', diskAt], ['nic', nicAt]] as const) {
    each(c, `pci.domain.${dev}`, ['0x0000', '0x0001', '0xffff', '0x10000', '0xffffffff', '0x100000000', '-1'], (v) => mk(pci({ domain: v }), 'pc'));
    each(c, `pci.bus.${dev}`, ['0x00', '0x01', '0xff', '0x100', '-1'], (v) => mk(pci({ bus: v }), 'pc'));
    each(c, `pci.function.${dev}`, ['0x0', '0x1', '0x7', '0x8', '0xf', '-1'], (v) => mk(pci({ function: v }), 'pc'));
  }
  each(c, 'pci.multifunction', ['on', 'off', 'on+fn1', 'off+fn1', 'none+fn1'], (v) => {
    const [mf, fn] = v.split('+') as [string, string | undefined];
    const d = base({ machine: 'pc' });
    const disk2 = h('disk', { type: 'file', device: 'disk' },
      h('driver', { name: 'qemu', type: 'qcow2' }), h('source', { file: `${IMAGES}/second.qcow2` }), h('target', { dev: 'vdb', bus: 'virtio' }),
      pci({ function: '0x1' }));
    return patch(d, {}, [
      h('disk', { type: 'file', device: 'disk' }, h('driver', { name: 'qemu', type: 'qcow2' }), h('source', { file: `${IMAGES}/first.qcow2` }),
        h('target', { dev: 'vda', bus: 'virtio' }), pci({ multifunction: mf === 'none' ? undefined : mf })),
      fn ? disk2 : null]);
  });
  // Drive addresses of SATA and SCSI disks.
  const driveDoc = (bus: 'sata' | 'scsi', a: Record<string, string>): Domain => addDevices(base(),
    h('disk', { type: 'file', device: 'disk' }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { file: `${IMAGES}/drive.img` }),
      h('target', { dev: 'sdb', bus }), h('address', { type: 'drive', controller: '0', bus: '0', target: '0', unit: '1', ...a })),
    bus === 'scsi' ? h('controller', { type: 'scsi', index: '0', model: 'virtio-scsi' }) : null);
  for (const bus of ['sata', 'scsi'] as const) {
    each(c, `drive.${bus}.controller`, ['0', '1', '7', '65535', '-1', 'abc'], (v) => driveDoc(bus, { controller: v }));
    each(c, `drive.${bus}.bus`, ['0', '1', '-1'], (v) => driveDoc(bus, { bus: v }));
    each(c, `drive.${bus}.target`, ['0', '1', '7', '255', '256', '-1'], (v) => driveDoc(bus, { target: v }));
    each(c, `drive.${bus}.unit`, ['0', '1', '5', '6', '7', '16383', '16384', '-1', 'abc'], (v) => driveDoc(bus, { unit: v }));
  }
  // MAC addresses.
  each(c, 'mac', ['52:54:00:12:34:56', '02:00:00:00:00:01', 'fe:54:00:12:34:56', '00:16:3e:00:00:01', '52:54:00:AB:CD:EF', '52:54:00:aB:Cd:eF',
    '01:00:5e:00:00:01', '53:54:00:12:34:56', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '52:54:00:12:34', '52:54:00:12:34:56:78',
    '52-54-00-12-34-56', '525400123456', '5254.0012.3456', '52:54:0:1:2:3', '52:54:00:12:34:5g', '52:54:00:12:34:567', ' 52:54:00:12:34:56 ',
    '52:54:00:12:34:56:', ':52:54:00:12:34:56', '', 'bogus'], (v) => nicAt(null, 'q35', v));
  // UUIDs.
  each(c, 'uuid', ['c7a5fdbd-edaf-9455-926a-d65c16db1809', 'c7a5fdbdedaf9455926ad65c16db1809', 'C7A5FDBD-EDAF-9455-926A-D65C16DB1809',
    'c7a5fdbd-edaf-9455-926a-d65c16db180', 'c7a5fdbd-edaf-9455-926a-d65c16db18090', 'c7a5fdbd-edaf-9455-926a-d65c16db18g9',
    '{c7a5fdbd-edaf-9455-926a-d65c16db1809}', 'c7a5-fdbd-edaf-9455-926a-d65c-16db-1809', 'c7a5fdbd-edaf-9455-926a-d65c16db1809-',
    ' c7a5fdbd-edaf-9455-926a-d65c16db1809 ', 'c7 a5 fd bd ed af 94 55 92 6a d6 5c 16 db 18 09', '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff', 'urn:uuid:c7a5fdbd-edaf-9455-926a-d65c16db1809', '', 'bogus'],
  (v) => patch(base(), { uuid: [t('uuid', v)] }));
  each(c, 'genid', ['c7a5fdbd-edaf-9455-926a-d65c16db1809', 'c7a5fdbdedaf9455926ad65c16db1809', 'bogus', ''], (v) => patch(base(), { genid: [t('genid', v)] }));
}

function addDeviceNumbers(c: Corpus): void {
  each(c, 'video.vram', ['0', '1', '1024', '4096', '16384', '65536', '262144', '1048576', '4294967295', '4294967296', '-1', 'abc'],
    (v) => addDevices(base(), h('video', {}, h('model', { type: 'qxl', vram: v, heads: '1' }))));
  each(c, 'video.vram.vga', ['0', '1024', '16384', '16385', '65536'], (v) => addDevices(base(), h('video', {}, h('model', { type: 'vga', vram: v }))));
  each(c, 'video.heads', ['0', '1', '2', '4', '16', '17', '-1', 'abc'], (v) => addDevices(base(), h('video', {}, h('model', { type: 'virtio', heads: v }))));
  each(c, 'video.vgamem', ['0', '1024', '16384', '16385', '65536', '-1'], (v) => addDevices(base(), h('video', {}, h('model', { type: 'qxl', vgamem: v }))));
  each(c, 'interface.queues', ['0', '1', '2', '8', '256', '257', '4294967295', '-1', 'abc', ''],
    (v) => nicAt(null, 'q35', undefined, [h('driver', { name: 'vhost', queues: v })]));
  each(c, 'interface.mtu', ['0', '68', '1500', '9000', '65535', '65536', '-1'],
    (v) => addDevices(base(), h('interface', { type: 'bridge' }, h('source', { bridge: 'br0' }), h('model', { type: 'virtio' }), h('mtu', { size: v }))));
  each(c, 'disk.iothread', ['0', '1', '2', '-1'],
    (v) => patch(base(), { iothreads: [t('iothreads', 1)] }, [h('disk', { type: 'file', device: 'disk' },
      h('driver', { name: 'qemu', type: 'qcow2', iothread: v }), h('source', { file: `${IMAGES}/corpus-guest.qcow2` }), h('target', { dev: 'vda', bus: 'virtio' }))]));
  each(c, 'controller.index', ['0', '1', '31', '32', '255', '256', '-1', 'abc'], (v) => addDevices(base(), h('controller', { type: 'usb', index: v, model: 'qemu-xhci' })));
  each(c, 'controller.usb.ports', ['0', '1', '15', '16', '42', '-1'], (v) => addDevices(base(), h('controller', { type: 'usb', index: '0', model: 'qemu-xhci', ports: v })));
  each(c, 'graphics.vnc.port', ['-1', '0', '5900', '5899', '65535', '65536', 'abc'], (v) => addDevices(base(), h('graphics', { type: 'vnc', port: v, autoport: 'no' })));
  each(c, 'memballoon.stats.period', ['0', '1', '10', '-1', '4294967296'], (v) => addDevices(base(), h('memballoon', { model: 'virtio' }, h('stats', { period: v }))));
  each(c, 'rng.rate.bytes', ['0', '1', '1024', '4294967296', '-1'], (v) => addDevices(base(), h('rng', { model: 'virtio' }, h('rate', { bytes: v, period: '1000' }), h('backend', { model: 'random' }, '/dev/urandom'))));
  each(c, 'serial.port', ['0', '1', '3', '4', '-1'], (v) => addDevices(base(), h('serial', { type: 'pty' }, h('target', { port: v }))));
  each(c, 'os.bootmenu.timeout', ['0', '3000', '65535', '65536', '-1'], (v) => patch(base(), { os: [osNode('q35', [h('boot', { dev: 'hd' }), h('bootmenu', { enable: 'yes', timeout: v })])] }));
  each(c, 'disk.boot.order', ['0', '1', '2', '-1', 'abc'], (v) => patch(base(), {}, [h('disk', { type: 'file', device: 'disk' },
    h('driver', { name: 'qemu', type: 'qcow2' }), h('source', { file: `${IMAGES}/corpus-guest.qcow2` }), h('target', { dev: 'vda', bus: 'virtio' }), h('boot', { order: v }))]));
  each(c, 'disk.count.virtio', ['1', '26', '27', '28', '52'], (v) => {
    const n = Number(v);
    const letters = (i: number): string => (i < 26 ? String.fromCharCode(97 + i) : String.fromCharCode(96 + Math.floor(i / 26)) + String.fromCharCode(97 + (i % 26)));
    return patch(base(), {}, Array.from({ length: n }, (_, i) => virtioDisk(`d${i}`, `vd${letters(i)}`)));
  });
}

export function addNumber(c: Corpus): void {
  addMemory(c);
  addVcpus(c);
  addAddresses(c);
  addDeviceNumbers(c);
}
