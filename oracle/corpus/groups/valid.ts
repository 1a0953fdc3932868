// valid/*: ordinary, realistic domain documents in many shapes, each drawn from its own seeded
// stream. Every choice keeps the document something libvirt 9.0's QEMU driver should accept on an
// x86_64 host (IDE only on i440fx, secure boot only on q35 with SMM, CPU topology matching the
// vCPU count, NUMA cells summing to the memory, ...).

import { Rng, shortHash } from '../prng.ts';
import { h, t, type Child, type El } from '../xml.ts';
import { domainXml, EMULATOR, IMAGES, type Domain } from '../domain.ts';
import type { Corpus } from '../corpus.ts';

export const VALID_COUNT = 720;

type Chipset = 'q35' | 'i440fx';
type Boot = 'bios' | 'efi' | 'efi-secure' | 'loader' | 'kernel';

interface Shape {
  type: 'kvm' | 'qemu';
  machine: string | null;
  chipset: Chipset;
  boot: Boot;
  name: string;
  tags: string[];
}

const NAMES = [
  'web', 'db', 'cache', 'build', 'ci-runner', 'mail', 'proxy', 'vpn', 'dns', 'ldap', 'k8s-node', 'etcd',
  'jenkins', 'gitlab', 'monitor', 'backup', 'fileserver', 'win2022', 'debian12', 'ubuntu2204', 'rhel9',
  'fedora39', 'alpine', 'freebsd14', 'dev-box', 'test', 'sev-guest', 'tenant-a', 'tenant-b', 'analytics',
];

const MACHINES: { machine: string | null; chipset: Chipset; w: number }[] = [
  { machine: 'q35', chipset: 'q35', w: 4 },
  { machine: 'pc-q35-7.2', chipset: 'q35', w: 3 },
  { machine: 'pc', chipset: 'i440fx', w: 2 },
  { machine: 'pc-i440fx-7.2', chipset: 'i440fx', w: 2 },
  { machine: null, chipset: 'i440fx', w: 1 },
];

function weighted<T extends { w: number }>(r: Rng, items: readonly T[]): T {
  const total = items.reduce((s, x) => s + x.w, 0);
  let k = r.next() * total;
  for (const x of items) {
    k -= x.w;
    if (k < 0) return x;
  }
  return items[items.length - 1] as T;
}

function memoryParts(r: Rng, s: Shape, mib: number): { parts: Domain['parts']; numaCells: number } {
  const parts: Domain['parts'] = {};
  const style = r.int(0, 3);
  if (style === 0) parts.memory = [t('memory', mib * 1024)];
  else if (style === 1) parts.memory = [t('memory', mib * 1024, { unit: 'KiB' })];
  else if (style === 2 || mib % 1024 !== 0) parts.memory = [t('memory', mib, { unit: 'MiB' })];
  else parts.memory = [t('memory', mib / 1024, { unit: 'GiB' })];
  if (r.chance(0.3)) {
    const cur = r.chance(0.5) ? mib : Math.max(256, Math.floor(mib / 2));
    parts.currentMemory = [t('currentMemory', cur * 1024, { unit: 'KiB' })];
    s.tags.push('curmem');
  }
  let numaCells = 0;
  if (r.chance(0.12)) {
    parts.maxMemory = [t('maxMemory', mib * 4, { slots: r.pick([4, 8, 16]), unit: 'MiB' })];
    numaCells = 1;
    s.tags.push('maxmem');
  }
  return { parts, numaCells };
}

function cpuPart(r: Rng, s: Shape, vcpus: number, numaCells: number, mib: number): El | null {
  const modes = s.type === 'kvm'
    ? ['none', 'host-passthrough', 'host-passthrough', 'host-model', 'custom', 'maximum']
    : ['none', 'none', 'custom', 'maximum', 'custom-qemu64'];
  let mode = r.pick(modes);
  if (numaCells > 0 && mode === 'none') mode = 'custom';
  if (mode === 'none') return null;
  const children: Child[] = [];
  let attrs: Record<string, string | undefined> = {};
  if (mode === 'host-passthrough') {
    attrs = { mode, check: r.pick([undefined, 'none', 'partial']), migratable: r.pick([undefined, 'on', 'off']) };
  } else if (mode === 'host-model') {
    attrs = { mode, check: r.pick([undefined, 'partial']) };
  } else if (mode === 'maximum') {
    attrs = { mode, check: r.pick([undefined, 'none']) };
  } else {
    const models = mode === 'custom-qemu64' || s.type === 'qemu' ? ['qemu64', 'kvm64', 'core2duo', 'Nehalem', 'Westmere']
      : ['EPYC', 'EPYC-Rome', 'EPYC-Milan', 'Skylake-Server', 'Cascadelake-Server', 'Haswell-noTSX', 'qemu64'];
    attrs = { mode: 'custom', match: r.pick(['exact', 'exact', 'minimum']), check: r.pick([undefined, 'none', 'partial']) };
    const model = r.pick(models);
    children.push(t('model', model, { fallback: r.pick([undefined, 'allow', 'forbid']) }));
    const vendor = model.startsWith('EPYC') ? 'AMD' : /lake|Haswell|Nehalem|Westmere|core2duo/.test(model) ? 'Intel' : null;
    if (vendor && r.chance(0.3)) children.push(t('vendor', vendor));
    if (r.chance(0.4) && s.type === 'kvm') {
      for (const f of r.some(['x2apic', 'hypervisor', 'lahf_lm', 'svm', 'vmx', 'pcid', 'arat'], r.int(1, 3))) {
        children.push(h('feature', { policy: r.pick(['require', 'disable', 'optional']), name: f }));
      }
    }
  }
  if (r.chance(0.5) || vcpus > 2) {
    const threads = vcpus % 2 === 0 && r.chance(0.5) ? 2 : 1;
    const rest = vcpus / threads;
    const sockets = rest % 2 === 0 && r.chance(0.3) ? 2 : 1;
    const cores = rest / sockets;
    children.push(h('topology', { sockets, dies: r.chance(0.3) ? 1 : undefined, cores, threads }));
    s.tags.push('topo');
  }
  // cache passthrough only on host-passthrough/maximum; emulate needs level 3.
  if (r.chance(0.1) && mode !== 'host-model') {
    const passthrough = mode === 'host-passthrough' || mode === 'maximum';
    const cm = r.pick(passthrough ? ['passthrough', 'emulate', 'disable'] : ['emulate', 'disable']);
    children.push(h('cache', cm === 'emulate' ? { level: 3, mode: cm } : { mode: cm }));
  }
  if (numaCells > 0 || r.chance(0.1)) {
    const cells = vcpus >= 2 && r.chance(0.5) ? 2 : 1;
    const per = Math.floor(vcpus / cells);
    const cellList: Child[] = [];
    for (let i = 0; i < cells; i++) {
      const lo = i * per;
      const hi = i === cells - 1 ? vcpus - 1 : lo + per - 1;
      const cpus = lo === hi ? `${lo}` : `${lo}-${hi}`;
      cellList.push(h('cell', { id: i, cpus, memory: (mib / cells) * 1024, unit: 'KiB', memAccess: r.chance(0.2) ? 'shared' : undefined }));
    }
    children.push(h('numa', {}, ...cellList));
    s.tags.push(`numa${cells}`);
  }
  s.tags.push(`cpu-${attrs.mode}`);
  return h('cpu', attrs, ...children);
}

function osPart(r: Rng, s: Shape, hasCdrom: boolean, usesPerDeviceBoot: boolean): El {
  const typeEl = t('type', 'hvm', { arch: r.chance(0.9) ? 'x86_64' : undefined, machine: s.machine ?? undefined });
  const kids: Child[] = [typeEl];
  const osAttrs: Record<string, string | undefined> = {};
  if (s.boot === 'efi') {
    osAttrs.firmware = 'efi';
  } else if (s.boot === 'efi-secure') {
    osAttrs.firmware = 'efi';
    kids.push(h('firmware', {}, h('feature', { enabled: 'yes', name: 'secure-boot' }), h('feature', { enabled: 'yes', name: 'enrolled-keys' })));
  } else if (s.boot === 'loader') {
    const secure = s.chipset === 'q35' && r.chance(0.3);
    kids.push(t('loader', secure ? '/usr/share/OVMF/OVMF_CODE_4M.ms.fd' : '/usr/share/OVMF/OVMF_CODE_4M.fd',
      { readonly: 'yes', secure: secure ? 'yes' : undefined, type: 'pflash' }));
    if (r.chance(0.8)) {
      kids.push(t('nvram', `/var/lib/libvirt/qemu/nvram/${s.name}_VARS.fd`,
        { template: secure ? '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' : '/usr/share/OVMF/OVMF_VARS_4M.fd' }));
    }
    if (secure) s.tags.push('secure');
  } else if (s.boot === 'kernel') {
    kids.push(t('kernel', '/var/lib/libvirt/boot/vmlinuz-6.1.0-18-amd64'));
    kids.push(t('initrd', '/var/lib/libvirt/boot/initrd.img-6.1.0-18-amd64'));
    kids.push(t('cmdline', r.pick(['console=ttyS0 root=/dev/vda1 ro', 'console=ttyS0,115200n8 quiet', 'root=LABEL=root rw'])));
  }
  if (!usesPerDeviceBoot && s.boot !== 'kernel') {
    if (hasCdrom && r.chance(0.4)) kids.push(h('boot', { dev: 'cdrom' }));
    if (r.chance(0.8)) kids.push(h('boot', { dev: 'hd' }));
    if (r.chance(0.15)) kids.push(h('boot', { dev: 'network' }));
  }
  if (r.chance(0.2)) kids.push(h('bootmenu', { enable: 'yes', timeout: r.pick([undefined, 3000, 5000]) }));
  if (r.chance(0.1)) kids.push(h('bios', { useserial: s.tags.includes('serial') ? 'yes' : undefined, rebootTimeout: r.pick([0, 5000]) }));
  if (r.chance(0.05)) kids.push(h('smbios', { mode: 'emulate' }));
  return h('os', osAttrs, ...kids);
}

function featuresPart(r: Rng, s: Shape): El | null {
  const secure = s.boot === 'efi-secure' || s.tags.includes('secure');
  // UEFI on x86 needs ACPI; BIOS guests sometimes have no <features> at all.
  if (!secure && s.boot === 'bios' && r.chance(0.15)) return null;
  const f: Child[] = [h('acpi'), h('apic', r.chance(0.1) ? { eoi: 'on' } : {})];
  if (r.chance(0.15)) f.push(h('pae'));
  if (s.type === 'kvm' && r.chance(0.25)) {
    const hv: Child[] = [h('relaxed', { state: 'on' }), h('vapic', { state: 'on' }), h('spinlocks', { state: 'on', retries: 8191 })];
    if (r.chance(0.5)) hv.push(h('vpindex', { state: 'on' }), h('runtime', { state: 'on' }), h('synic', { state: 'on' }), h('stimer', { state: 'on' }));
    if (r.chance(0.3)) hv.push(h('reset', { state: 'on' }), h('frequencies', { state: 'on' }));
    if (r.chance(0.2)) hv.push(h('vendor_id', { state: 'on', value: 'KVM Hv' }));
    f.push(h('hyperv', { mode: 'custom' }, ...hv));
    s.tags.push('hyperv');
  }
  if (s.type === 'kvm' && r.chance(0.15)) f.push(h('kvm', {}, h('hidden', { state: 'on' })));
  if (r.chance(0.2)) f.push(h('vmport', { state: 'off' }));
  if (secure || (s.chipset === 'q35' && r.chance(0.2))) f.push(h('smm', { state: 'on' }));
  if (s.type === 'kvm' && s.chipset === 'q35' && r.chance(0.1)) f.push(h('ioapic', { driver: 'kvm' }));
  if (s.type === 'kvm' && r.chance(0.1)) f.push(h('pmu', { state: 'off' }));
  if (r.chance(0.05)) f.push(h('vmcoreinfo', { state: 'on' }));
  return h('features', {}, ...f);
}

function clockPart(r: Rng, s: Shape): El | null {
  if (r.chance(0.2)) return null;
  const windows = s.name.startsWith('win');
  const offset = windows ? 'localtime' : r.pick(['utc', 'utc', 'utc', 'localtime']);
  const timers: Child[] = [];
  if (r.chance(0.7)) {
    timers.push(h('timer', { name: 'rtc', tickpolicy: 'catchup' }));
    timers.push(h('timer', { name: 'pit', tickpolicy: 'delay' }));
    timers.push(h('timer', { name: 'hpet', present: 'no' }));
  }
  if (s.type === 'kvm' && s.tags.includes('hyperv') && r.chance(0.7)) timers.push(h('timer', { name: 'hypervclock', present: 'yes' }));
  if (s.type === 'kvm' && r.chance(0.1)) timers.push(h('timer', { name: 'kvmclock', present: 'yes' }));
  if (r.chance(0.05)) return h('clock', { offset: 'variable', adjustment: 0, basis: 'utc' }, ...timers);
  return h('clock', { offset }, ...timers);
}

interface DevState {
  q35Ports: number;
  usbCtl: boolean;
  scsiCtl: boolean;
  serialCtl: boolean;
  bootOrder: number;
  perDeviceBoot: boolean;
  pciSlot: number;
}

function pciAddress(r: Rng, s: Shape, st: DevState): El | null {
  if (!r.chance(0.25)) return null;
  if (s.chipset === 'q35') {
    st.q35Ports++;
    return h('address', { type: 'pci', domain: '0x0000', bus: `0x${st.q35Ports.toString(16).padStart(2, '0')}`, slot: '0x00', function: '0x0' });
  }
  const slot = st.pciSlot++;
  return h('address', { type: 'pci', domain: '0x0000', bus: '0x00', slot: `0x${slot.toString(16).padStart(2, '0')}`, function: '0x0' });
}

function bootOrder(r: Rng, st: DevState): El | null {
  if (!st.perDeviceBoot || !r.chance(0.6)) return null;
  return h('boot', { order: st.bootOrder++ });
}

function disks(r: Rng, s: Shape, st: DevState): { devs: El[]; cdrom: boolean } {
  const devs: El[] = [];
  const n = r.pick([1, 1, 1, 2, 2, 3, 4]);
  const used: Record<string, number> = { vd: 0, sd: 0, hd: 0 };
  const letter = (prefix: 'vd' | 'sd' | 'hd'): string => {
    const i = used[prefix] ?? 0;
    used[prefix] = i + 1;
    return prefix + String.fromCharCode(97 + i);
  };
  const buses = s.chipset === 'q35' ? ['virtio', 'virtio', 'virtio', 'sata', 'scsi', 'usb'] : ['virtio', 'virtio', 'virtio', 'ide', 'sata', 'scsi', 'usb'];
  for (let i = 0; i < n; i++) {
    const bus = i === 0 ? r.pick(['virtio', 'virtio', 'virtio', s.chipset === 'q35' ? 'sata' : 'ide', 'scsi']) : r.pick(buses);
    const block = r.chance(0.15);
    const fmt = block ? 'raw' : r.pick(['qcow2', 'qcow2', 'raw']);
    const driverAttrs: Record<string, string | number | undefined> = { name: 'qemu', type: fmt };
    if (r.chance(0.4)) driverAttrs.cache = r.pick(['none', 'writeback', 'writethrough', 'directsync', 'unsafe', 'default']);
    if (r.chance(0.2)) driverAttrs.io = driverAttrs.cache === 'none' || driverAttrs.cache === 'directsync' ? r.pick(['native', 'threads']) : 'threads';
    if (r.chance(0.2)) driverAttrs.discard = r.pick(['unmap', 'ignore']);
    if (r.chance(0.1)) driverAttrs.detect_zeroes = driverAttrs.discard === 'unmap' ? r.pick(['on', 'unmap']) : 'on';
    if (r.chance(0.1)) driverAttrs.error_policy = r.pick(['stop', 'report', 'ignore', 'enospace']);
    if (bus === 'virtio' && r.chance(0.1) && s.tags.includes('iothreads')) driverAttrs.iothread = 1;
    const prefix: 'vd' | 'sd' | 'hd' = bus === 'virtio' ? 'vd' : bus === 'ide' ? 'hd' : 'sd';
    if (bus === 'usb') st.usbCtl = true;
    if (bus === 'scsi') st.scsiCtl = true;
    const dev = letter(prefix);
    const source = block
      ? h('source', { dev: r.pick(['/dev/vg0/', '/dev/mapper/vg1-']) + `${s.name}-${dev}` })
      : h('source', { file: `${IMAGES}/${s.name}-${dev}.${fmt === 'raw' ? 'img' : fmt}` });
    let addr: El | null = null;
    // libvirt derives a drive address from the target name (sdb: unit 1); an explicit one agrees with it.
    const idx = dev.charCodeAt(2) - 97;
    if (bus === 'virtio') addr = pciAddress(r, s, st);
    else if ((bus === 'sata' || bus === 'scsi') && r.chance(0.3)) {
      addr = bus === 'sata'
        ? h('address', { type: 'drive', controller: Math.floor(idx / 6), bus: 0, target: 0, unit: idx % 6 })
        : h('address', { type: 'drive', controller: 0, bus: 0, target: 0, unit: idx });
    }
    devs.push(h('disk', { type: block ? 'block' : 'file', device: 'disk' },
      h('driver', driverAttrs),
      source,
      h('target', { dev, bus }),
      r.chance(0.1) ? t('serial', `${s.name.toUpperCase().replace(/[^A-Z0-9]/g, '')}${i}`) : null,
      bootOrder(r, st),
      (bus === 'virtio' || bus === 'scsi') && r.chance(0.05) ? h('readonly') : null,
      bus === 'usb' || bus === 'ide' ? null : addr));
  }
  let cdrom = false;
  if (r.chance(0.35)) {
    cdrom = true;
    const bus = s.chipset === 'q35' ? r.pick(['sata', 'sata', 'scsi']) : r.pick(['ide', 'ide', 'sata']);
    if (bus === 'scsi') st.scsiCtl = true;
    const dev = letter(bus === 'ide' ? 'hd' : 'sd');
    const iso = r.pick(['debian-12.5.0-amd64-netinst.iso', 'ubuntu-22.04.4-live-server-amd64.iso', 'virtio-win-0.1.240.iso', 'cloud-init.iso', null]);
    devs.push(h('disk', { type: 'file', device: 'cdrom' },
      h('driver', { name: 'qemu', type: 'raw' }),
      iso ? h('source', { file: `${IMAGES}/${iso}` }) : null,
      h('target', { dev, bus }),
      bootOrder(r, st),
      h('readonly')));
  }
  if (s.chipset === 'i440fx' && r.chance(0.03)) {
    devs.push(h('disk', { type: 'file', device: 'floppy' },
      h('driver', { name: 'qemu', type: 'raw' }), h('source', { file: `${IMAGES}/${s.name}-boot.img` }), h('target', { dev: 'fda', bus: 'fdc' })));
  }
  s.tags.push(`${n}disk`);
  if (cdrom) s.tags.push('cdrom');
  return { devs, cdrom };
}

function nics(r: Rng, s: Shape, st: DevState): El[] {
  const out: El[] = [];
  const n = r.pick([0, 1, 1, 1, 2, 3]);
  const models = s.chipset === 'q35' ? ['virtio', 'virtio', 'virtio', 'e1000e', 'e1000', 'rtl8139'] : ['virtio', 'virtio', 'e1000', 'rtl8139'];
  const macs = new Set<string>();
  for (let i = 0; i < n; i++) {
    const type = r.pick(['network', 'network', 'bridge', 'user']);
    const model = r.pick(models);
    let mac: string | null = null;
    if (r.chance(0.6)) {
      do mac = r.mac(); while (macs.has(mac));
      macs.add(mac);
    }
    const src = type === 'network' ? h('source', { network: r.pick(['default', 'default', 'internal', 'ovs-net']) })
      : type === 'bridge' ? h('source', { bridge: r.pick(['br0', 'virbr0', 'br-ext']) }) : null;
    const driver = model === 'virtio' && r.chance(0.2)
      ? h('driver', { name: s.type === 'kvm' ? r.pick(['vhost', 'qemu']) : 'qemu', queues: r.pick([undefined, 2, 4]) })
      : null;
    out.push(h('interface', { type },
      mac ? h('mac', { address: mac }) : null,
      src,
      h('model', { type: model }),
      driver,
      r.chance(0.1) ? h('link', { state: r.pick(['up', 'down']) }) : null,
      type !== 'user' && r.chance(0.1) ? h('filterref', { filter: 'clean-traffic' }) : null,
      type !== 'user' && r.chance(0.05) ? h('mtu', { size: 1450 }) : null,
      bootOrder(r, st),
      pciAddress(r, s, st)));
  }
  s.tags.push(`${n}nic`);
  return out;
}

function otherDevices(r: Rng, s: Shape, st: DevState): { devs: El[]; controllers: El[] } {
  const devs: El[] = [];
  const controllers: El[] = [];
  // graphics / video
  const gfx = r.pick(['vnc', 'vnc', 'spice', 'none', 'none']);
  if (gfx === 'vnc') {
    const listen = r.pick(['127.0.0.1', '0.0.0.0', null]);
    devs.push(h('graphics', { type: 'vnc', port: '-1', autoport: 'yes', listen: listen ?? undefined },
      listen ? h('listen', { type: 'address', address: listen }) : null));
  } else if (gfx === 'spice') {
    devs.push(h('graphics', { type: 'spice', autoport: 'yes' },
      h('listen', { type: 'address' }), r.chance(0.3) ? h('image', { compression: 'off' }) : null));
  }
  if (gfx !== 'none' || r.chance(0.3)) {
    const model = gfx === 'spice' ? r.pick(['qxl', 'qxl', 'virtio'])
      : r.pick(s.chipset === 'q35' ? ['virtio', 'vga', 'bochs', 'qxl'] : ['virtio', 'vga', 'cirrus', 'qxl', 'bochs']);
    const attrs: Record<string, string | number | undefined> = { type: model, heads: r.chance(0.6) ? 1 : undefined, primary: r.chance(0.2) ? 'yes' : undefined };
    if (model === 'qxl') Object.assign(attrs, { ram: 65536, vram: 65536, vgamem: 16384 });
    if (model === 'vga' || model === 'cirrus') attrs.vram = r.pick([16384, 16384, 9216]);
    devs.push(h('video', {}, h('model', attrs), pciAddress(r, s, st)));
    s.tags.push(`video-${model}`);
  }
  else if (gfx === 'none' && r.chance(0.2)) devs.push(h('video', {}, h('model', { type: 'none' })));
  s.tags.push(`gfx-${gfx}`);
  // input
  if (gfx !== 'none' && r.chance(0.7)) {
    devs.push(h('input', { type: 'tablet', bus: 'usb' }));
    st.usbCtl = true;
  }
  if (r.chance(0.3)) devs.push(h('input', { type: 'mouse', bus: 'ps2' }), h('input', { type: 'keyboard', bus: 'ps2' }));
  if (r.chance(0.1)) devs.push(h('input', { type: 'keyboard', bus: 'virtio' }));
  // serial/console
  if (r.chance(0.6)) {
    devs.push(h('serial', { type: 'pty' }, h('target', { type: 'isa-serial', port: 0 }, h('model', { name: 'isa-serial' }))));
    devs.push(h('console', { type: 'pty' }, h('target', { type: 'serial', port: 0 })));
    s.tags.push('serial');
  } else if (r.chance(0.2)) {
    devs.push(h('console', { type: 'pty' }, h('target', { type: r.pick(['serial', 'virtio']), port: 0 })));
  }
  // channels
  if (r.chance(0.5)) {
    devs.push(h('channel', { type: 'unix' },
      r.chance(0.5) ? h('source', { mode: 'bind', path: `/var/lib/libvirt/qemu/channel/target/${s.name}.org.qemu.guest_agent.0` }) : null,
      h('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' }),
      r.chance(0.3) ? h('address', { type: 'virtio-serial', controller: 0, bus: 0, port: 1 }) : null));
    st.serialCtl = true;
    s.tags.push('qga');
  }
  if (gfx === 'spice' && r.chance(0.7)) {
    devs.push(h('channel', { type: 'spicevmc' }, h('target', { type: 'virtio', name: 'com.redhat.spice.0' })));
    st.serialCtl = true;
    if (r.chance(0.5)) {
      devs.push(h('redirdev', { bus: 'usb', type: 'spicevmc' }), h('redirdev', { bus: 'usb', type: 'spicevmc' }));
      st.usbCtl = true;
    }
  }
  // sound/audio
  if (gfx !== 'none' && r.chance(0.15)) {
    const model = s.chipset === 'q35' ? r.pick(['ich9', 'ich6']) : r.pick(['ich6', 'ac97', 'es1370']);
    devs.push(h('sound', { model }));
    if (r.chance(0.5)) devs.push(h('audio', { id: 1, type: gfx === 'spice' ? 'spice' : 'none' }));
  }
  // misc
  if (r.chance(0.5)) {
    devs.push(h('rng', { model: 'virtio' },
      r.chance(0.3) ? h('rate', { bytes: 1024, period: 1000 }) : null,
      h('backend', { model: 'random' }, '/dev/urandom'),
      pciAddress(r, s, st)));
    s.tags.push('rng');
  }
  if (r.chance(0.1)) {
    devs.push(h('watchdog', { model: s.chipset === 'q35' ? 'i6300esb' : r.pick(['i6300esb', 'ib700']), action: r.pick(['reset', 'poweroff', 'pause', 'none', 'dump', 'inject-nmi', 'shutdown']) }));
    s.tags.push('watchdog');
  }
  // A TPM emulator needs swtpm on the host at define time: kept rare.
  if (r.chance(0.04) && (s.boot !== 'bios')) {
    devs.push(h('tpm', { model: s.chipset === 'q35' ? 'tpm-crb' : 'tpm-tis' }, h('backend', { type: 'emulator', version: r.pick(['2.0', undefined]) })));
    s.tags.push('tpm');
  }
  if (r.chance(0.08)) {
    devs.push(h('panic', { model: 'isa' }, h('address', { type: 'isa', iobase: '0x505' })));
    s.tags.push('panic');
  }
  if (r.chance(0.06)) {
    devs.push(h('filesystem', { type: 'mount', accessmode: r.pick(['mapped', 'squash', 'passthrough']) },
      h('driver', { type: 'path', wrpolicy: r.chance(0.3) ? 'immediate' : undefined }),
      h('source', { dir: `/srv/share/${s.name}` }),
      h('target', { dir: 'hostshare' }),
      r.chance(0.3) ? h('readonly') : null));
    s.tags.push('9p');
  }
  if (s.tags.includes('virtiofs')) {
    devs.push(h('filesystem', { type: 'mount', accessmode: 'passthrough' },
      h('driver', { type: 'virtiofs', queue: r.pick([undefined, 1024]) }),
      h('source', { dir: `/srv/virtiofs/${s.name}` }),
      h('target', { dir: 'shared' })));
  }
  if (r.chance(0.06)) {
    devs.push(h('vsock', { model: 'virtio' }, h('cid', { auto: 'yes' })));
    s.tags.push('vsock');
  }
  if (r.chance(0.05)) {
    devs.push(h('hub', { type: 'usb' }));
    st.usbCtl = true;
  }
  if (gfx === 'spice' && r.chance(0.1)) {
    devs.push(h('smartcard', { mode: 'passthrough', type: 'spicevmc' }));
    st.usbCtl = true;
  }
  // memballoon last
  const balloon = r.pick(['virtio', 'virtio', 'virtio', 'none', null]);
  if (balloon === 'virtio') {
    devs.push(h('memballoon', { model: 'virtio', autodeflate: r.chance(0.2) ? 'on' : undefined, freePageReporting: r.chance(0.2) ? 'on' : undefined },
      r.chance(0.3) ? h('stats', { period: 10 }) : null, pciAddress(r, s, st)));
  } else if (balloon === 'none') {
    devs.push(h('memballoon', { model: 'none' }));
  }
  // controllers wanted by the devices above
  if (st.usbCtl || r.chance(0.4)) {
    if (s.chipset === 'q35' || r.chance(0.5)) {
      controllers.push(h('controller', { type: 'usb', index: 0, model: r.pick(['qemu-xhci', 'qemu-xhci', 'nec-xhci']), ports: r.chance(0.4) ? 15 : undefined }));
    } else {
      controllers.push(h('controller', { type: 'usb', index: 0, model: 'ich9-ehci1' }));
      controllers.push(h('controller', { type: 'usb', index: 0, model: 'ich9-uhci1' }, h('master', { startport: 0 })));
      controllers.push(h('controller', { type: 'usb', index: 0, model: 'ich9-uhci2' }, h('master', { startport: 2 })));
      controllers.push(h('controller', { type: 'usb', index: 0, model: 'ich9-uhci3' }, h('master', { startport: 4 })));
    }
  } else if (r.chance(0.2)) {
    controllers.push(h('controller', { type: 'usb', index: 0, model: 'none' }));
  }
  if (st.scsiCtl) controllers.push(h('controller', { type: 'scsi', index: 0, model: r.pick(['virtio-scsi', 'virtio-scsi', 'lsilogic']) }));
  if (st.serialCtl && r.chance(0.6)) controllers.push(h('controller', { type: 'virtio-serial', index: 0 }));
  if (s.chipset === 'q35') {
    if (r.chance(0.3)) controllers.push(h('controller', { type: 'sata', index: 0 }));
    if (st.q35Ports > 0 || r.chance(0.3)) {
      controllers.push(h('controller', { type: 'pci', index: 0, model: 'pcie-root' }));
      const ports = Math.max(st.q35Ports, r.int(1, 4));
      for (let i = 1; i <= ports; i++) {
        controllers.push(h('controller', { type: 'pci', index: i, model: 'pcie-root-port' },
          r.chance(0.5) ? h('target', { chassis: i, port: `0x${(0x10 + i - 1).toString(16)}` }) : null));
      }
    }
  } else if (r.chance(0.2)) {
    controllers.push(h('controller', { type: 'pci', index: 0, model: 'pci-root' }));
    if (r.chance(0.3)) controllers.push(h('controller', { type: 'ide', index: 0 }));
  }
  return { devs, controllers };
}

function build(i: number): { slug: string; xml: string } {
  const r = Rng.for(`valid/${i}`);
  const m = weighted(r, MACHINES);
  // The oracle runs QEMU without KVM (no /dev/kvm in its namespace), so every guest is TCG.
  const type: 'kvm' | 'qemu' = 'qemu';
  const base = r.pick(NAMES);
  const name = r.chance(0.7) ? `${base}-${String(r.int(1, 99)).padStart(2, '0')}` : base;
  const bootChoices: Boot[] = m.chipset === 'q35'
    ? ['bios', 'efi', 'efi', 'efi-secure', 'loader', 'kernel']
    : ['bios', 'bios', 'efi', 'loader', 'kernel'];
  const s: Shape = { type, machine: m.machine, chipset: m.chipset, boot: r.pick(bootChoices), name, tags: [] };
  s.tags.push(type, m.machine ?? 'nomachine', s.boot);

  const parts: Domain['parts'] = { name: [t('name', name)] };
  if (r.chance(0.7)) parts.uuid = [t('uuid', r.uuid())];
  if (r.chance(0.2)) parts.title = [t('title', r.pick(['Production web server', 'Build agent #3', 'Tenant A / primary', 'Test VM (ephemeral)']))];
  if (r.chance(0.2)) parts.description = [t('description', r.pick(['Created by the provisioning pipeline.', 'Owner: infra team\nTicket: OPS-1234', 'SEV test guest & friends <beta>']))];
  if (r.chance(0.2)) {
    parts.metadata = [h('metadata', {}, r.pick([
      h('libosinfo:libosinfo', { 'xmlns:libosinfo': 'http://libosinfo.org/xmlns/libvirt/domain/1.0' },
        h('libosinfo:os', { id: r.pick(['http://debian.org/debian/12', 'http://ubuntu.com/ubuntu/22.04', 'http://microsoft.com/win/2k22']) })),
      h('nova:instance', { 'xmlns:nova': 'http://openstack.org/xmlns/libvirt/nova/1.1' },
        h('nova:package', { version: '26.2.1' }),
        t('nova:name', name),
        t('nova:creationTime', '2024-03-01 12:00:00'),
        h('nova:flavor', { name: 'm1.small' }, t('nova:memory', 2048), t('nova:disk', 20), t('nova:vcpus', 1)),
        h('nova:owner', {}, t('nova:user', 'admin', { uuid: '8b5a1c3a0d1f4b9b9e2f6c0d7e3a1b2c' }))),
      h('app:config', { 'xmlns:app': 'urn:example:app:1' }, t('app:role', 'frontend'), t('app:tier', 3)),
    ]))];
    s.tags.push('metadata');
  }

  const mib = r.pick([512, 1024, 1024, 2048, 2048, 4096, 4096, 8192, 16384]);
  const mem = memoryParts(r, s, mib);
  Object.assign(parts, mem.parts);

  const vcpus = r.pick([1, 1, 2, 2, 2, 4, 4, 8, 16]);
  const vcpuAttrs: Record<string, string | number | undefined> = {};
  if (r.chance(0.3)) vcpuAttrs.placement = 'static';
  if (vcpus > 1 && r.chance(0.12)) vcpuAttrs.current = Math.max(1, vcpus / 2);
  if (r.chance(0.1)) vcpuAttrs.cpuset = r.pick(['0-3', '1,3', '0-7,^4']);
  parts.vcpu = [t('vcpu', vcpus, vcpuAttrs)];
  if (r.chance(0.15)) {
    parts.iothreads = [t('iothreads', r.int(1, 4))];
    s.tags.push('iothreads');
  }
  // tuning
  if (r.chance(0.15)) {
    const ct: Child[] = [];
    if (r.chance(0.6)) ct.push(t('shares', r.pick([512, 1024, 2048])));
    if (r.chance(0.4)) ct.push(t('period', 100000), t('quota', r.pick([50000, 200000, -1])));
    if (r.chance(0.5)) for (let v = 0; v < Math.min(vcpus, 4); v++) ct.push(h('vcpupin', { vcpu: v, cpuset: String(v) }));
    if (r.chance(0.3)) ct.push(h('emulatorpin', { cpuset: '0-1' }));
    if (ct.length > 0) {
      parts.cputune = [h('cputune', {}, ...ct)];
      s.tags.push('cputune');
    }
  }
  if (r.chance(0.1)) {
    parts.memtune = [h('memtune', {},
      t('hard_limit', mib * 1024 * 2, { unit: 'KiB' }),
      r.chance(0.5) ? t('soft_limit', mib * 1024, { unit: 'KiB' }) : null,
      r.chance(0.3) ? t('swap_hard_limit', mib * 1024 * 3, { unit: 'KiB' }) : null)];
    s.tags.push('memtune');
  }
  if (r.chance(0.1)) {
    parts.blkiotune = [h('blkiotune', {}, t('weight', r.pick([100, 500, 800, 1000])))];
    s.tags.push('blkiotune');
  }
  const mb: Child[] = [];
  if (r.chance(0.08)) {
    s.tags.push('virtiofs');
    mb.push(h('source', { type: 'memfd' }), h('access', { mode: 'shared' }));
  } else if (r.chance(0.12)) {
    const opts = r.some([
      r.chance(0.5) ? h('hugepages') : h('hugepages', {}, h('page', { size: r.pick(['2048', '1048576']), unit: 'KiB' })),
      h('nosharepages'), h('locked'), h('source', { type: 'anonymous' }), h('allocation', { mode: 'immediate' }), h('discard'),
    ], r.int(1, 2));
    // hugepages and an anonymous memory source exclude each other.
    const huge = opts.some((o) => o.name === 'hugepages');
    mb.push(...opts.filter((o) => !(huge && o.name === 'source')));
  }
  if (mb.length > 0) {
    parts.memoryBacking = [h('memoryBacking', {}, ...mb)];
    s.tags.push('membacking');
  }
  if (r.chance(0.08)) {
    parts.numatune = [h('numatune', {}, h('memory', { mode: r.pick(['strict', 'preferred', 'interleave']), nodeset: '0' }))];
    s.tags.push('numatune');
  }
  if (r.chance(0.05)) parts.resource = [h('resource', {}, t('partition', '/machine'))];

  const st: DevState = { q35Ports: 0, usbCtl: false, scsiCtl: false, serialCtl: false, bootOrder: 1, perDeviceBoot: r.chance(0.15), pciSlot: 5 };
  const dk = disks(r, s, st);
  const ni = nics(r, s, st);
  const other = otherDevices(r, s, st);

  parts.os = [osPart(r, s, dk.cdrom, st.perDeviceBoot)];
  const feats = featuresPart(r, s);
  if (feats) parts.features = [feats];
  const cpu = cpuPart(r, s, vcpus, mem.numaCells, mib);
  if (cpu) parts.cpu = [cpu];
  const clk = clockPart(r, s);
  if (clk) parts.clock = [clk];
  if (r.chance(0.6)) {
    parts.on_poweroff = [t('on_poweroff', 'destroy')];
    parts.on_reboot = [t('on_reboot', r.pick(['restart', 'restart', 'destroy']))];
    parts.on_crash = [t('on_crash', r.pick(['destroy', 'restart', 'preserve', 'coredump-destroy', 'coredump-restart']))];
  }
  if (r.chance(0.25)) parts.pm = [h('pm', {}, h('suspend-to-mem', { enabled: 'no' }), h('suspend-to-disk', { enabled: 'no' }))];

  const devices: Child[] = [];
  if (r.chance(0.5)) devices.push(t('emulator', EMULATOR));
  devices.push(...dk.devs, ...other.controllers, ...ni, ...other.devs);

  const doc: Domain = { attrs: { type }, parts, devices };
  const xml = domainXml(doc);
  const slug = `${s.tags.join('.')}-${shortHash(xml)}`;
  return { slug, xml };
}

export function addValid(c: Corpus): void {
  for (let i = 0; i < VALID_COUNT; i++) {
    const { slug, xml } = build(i);
    c.add('valid', slug, xml);
  }
}
