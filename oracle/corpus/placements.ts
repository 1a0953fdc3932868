// Where each enumerated attribute or element goes in a domain document. A placement names the
// schema site (element path from <domain>, `@attr` or element name, optionally the branch that
// fixes sibling attributes) and builds the document around one value. The values themselves come
// from libvirt's schema at generation time (schema.ts); `fallback` is used only where the schema
// has no enum for that spot, and says so.

import { h, t, type Child, type El } from './xml.ts';
import { base, patch, addDevices, osNode, IMAGES, type Domain } from './domain.ts';

export interface Placement {
  /** Schema path of the owning element ('' for <domain>), e.g. 'devices/disk/target'. */
  path: string;
  /** '@attr' for an attribute, or an element name whose text content is the value. */
  name: string;
  /** The schema branch: sibling attributes of the owning element, e.g. { type: 'usb' }. */
  where?: Record<string, string>;
  /** Distinguishes two placements of the same site (e.g. a serial vs a console target). */
  variant?: string;
  /**
   * Values used when the schema has no enum at this site (free text there). Hand lists, marked
   * in the table with a comment saying why.
   */
  fallback?: string[];
  /** Values tried in addition to the schema's (e.g. a machine type the schema cannot know). */
  extra?: string[];
  build: (v: string) => Domain;
}

const DISK = `${IMAGES}/enum.qcow2`;

/** The base document with extra devices. */
function dev(...els: Child[]): Domain {
  return addDevices(base(), ...els);
}

/** The base document with some top-level parts replaced. */
function parts(p: Domain['parts']): Domain {
  return patch(base(), p);
}

/** The base document with <features><acpi/><apic/>…</features>. */
function feats(...children: Child[]): Domain {
  return parts({ features: [h('features', {}, h('acpi'), h('apic'), ...children)] });
}

function os(osAttrs: Record<string, string | undefined>, extra: Child[] = [], typeAttrs: Record<string, string> = {}, machine: string | null = 'q35'): Domain {
  return parts({ os: [osNode(machine, extra, osAttrs, typeAttrs)] });
}

function disk(attrs: Record<string, string | undefined>, driver: Record<string, string | undefined>, target: Record<string, string | undefined>, ...more: Child[]): El {
  return h('disk', { type: 'file', device: 'disk', ...attrs },
    h('driver', { name: 'qemu', type: 'qcow2', ...driver }),
    h('source', { file: DISK }),
    h('target', { dev: 'vdb', bus: 'virtio', ...target }),
    ...more);
}

function nic(attrs: Record<string, string | undefined>, ...children: Child[]): El {
  return h('interface', { type: 'network', ...attrs }, h('source', { network: 'default' }), h('model', { type: 'virtio' }), ...children);
}

/** The <source> a character device of this type needs (none for pty, null, vc, stdio, spicevmc, ...). */
function charSource(type: string): El | null {
  switch (type) {
    case 'file': return h('source', { path: '/var/log/libvirt/qemu/enum-console.log' });
    case 'unix': return h('source', { mode: 'bind', path: '/run/enum.sock' });
    case 'tcp': return h('source', { mode: 'bind', host: '127.0.0.1', service: '4555' });
    case 'udp': return h('source', { mode: 'connect', host: '127.0.0.1', service: '4556' });
    case 'dev': return h('source', { path: '/dev/ttyS0' });
    case 'pipe': return h('source', { path: '/tmp/enum-pipe' });
    case 'nmdm': return h('source', { master: '/dev/nmdm0A', slave: '/dev/nmdm0B' });
    case 'spiceport': case 'dbus': return h('source', { channel: 'org.qemu.console.serial.0' });
    default: return null;
  }
}

function chardev(kind: 'serial' | 'console' | 'channel' | 'parallel', type: string, target: El): El {
  return h(kind, { type }, charSource(type), target);
}

/** A <source> per disk type, so the type is what is judged and not a missing source. */
function diskSource(type: string): El | null {
  switch (type) {
    case 'file': return h('source', { file: DISK });
    case 'block': return h('source', { dev: '/dev/vg0/enum' });
    case 'dir': return h('source', { dir: '/srv/enum-dir' });
    case 'network': return h('source', { protocol: 'nbd', name: 'export' }, h('host', { name: 'storage.example.com', port: '10809' }));
    case 'volume': return h('source', { pool: 'default', volume: 'enum.qcow2' });
    case 'nvme': return h('source', { type: 'pci', managed: 'yes', namespace: '1' }, h('address', { domain: '0x0000', bus: '0x01', slot: '0x00', function: '0x0' }));
    case 'vhostuser': return h('source', { type: 'unix', path: '/run/vhost-blk.sock' });
    default: return null;
  }
}

/** A <source> per interface type. */
function nicSource(type: string): El | null {
  switch (type) {
    case 'bridge': return h('source', { bridge: 'br0' });
    case 'network': return h('source', { network: 'default' });
    case 'direct': return h('source', { dev: 'eth0', mode: 'vepa' });
    case 'vhostuser': return h('source', { type: 'unix', path: '/run/vhost-user.sock', mode: 'client' });
    case 'internal': return h('source', { name: 'intnet' });
    case 'mcast': return h('source', { address: '230.0.0.1', port: '5558' });
    case 'client': return h('source', { address: '192.168.0.1', port: '5558' });
    case 'server': return h('source', { address: '192.168.0.1', port: '5558' });
    case 'udp': return h('source', { address: '192.168.0.1', port: '5558' }, h('local', { address: '127.0.0.1', port: '5559' }));
    case 'hostdev': return h('source', {}, h('address', { type: 'pci', domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x1' }));
    case 'vdpa': return h('source', { dev: '/dev/vhost-vdpa-0' });
    case 'vds': return h('source', {}, h('switch', { id: '12345678-1234-1234-1234-123456789abc', portgroupid: 'pg-1', portid: '5', connectionid: '42' }));
    default: return null;
  }
}

const spice = h('graphics', { type: 'spice', autoport: 'yes' });

/** A subsystem host device of each type with the source that type needs. */
function hostdevOf(type: string): El {
  switch (type) {
    case 'usb': return h('hostdev', { mode: 'subsystem', type, managed: 'yes' }, h('source', {}, h('vendor', { id: '0x0781' }), h('product', { id: '0x5567' })));
    case 'scsi': return h('hostdev', { mode: 'subsystem', type, managed: 'no' }, h('source', {}, h('adapter', { name: 'scsi_host0' }), h('address', { bus: '0', target: '0', unit: '0' })));
    case 'scsi_host': return h('hostdev', { mode: 'subsystem', type, model: 'virtio' }, h('source', { protocol: 'vhost', wwpn: 'naa.5001405df3e54061' }));
    case 'mdev': return h('hostdev', { mode: 'subsystem', type, model: 'vfio-pci' }, h('source', {}, h('address', { uuid: 'c2177883-f1bb-47f0-914d-32a22e3a8804' })));
    default: return h('hostdev', { mode: 'subsystem', type, managed: 'yes' }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' })));
  }
}

/** The placements, grouped like the domain document. */
export const PLACEMENTS: Placement[] = [
  // <domain> and <os>
  { path: '', name: '@type', build: (v) => patch(base(), {}, undefined, { type: v }) },
  { path: 'os/type', name: '@arch', build: (v) => os({}, [], { arch: v }) },
  // The schema allows any [a-zA-Z0-9_.-]+ machine for hvm (only Xen's three are an enum there):
  // hand list of machine names QEMU 7.2 knows, aliases, older/newer versions and other arches'.
  {
    path: 'os/type', name: '@machine', build: (v) => os({}, [], {}, v),
    extra: ['pc', 'q35', 'pc-q35-7.2', 'pc-i440fx-7.2', 'pc-q35-7.1', 'pc-q35-2.4', 'pc-i440fx-1.4', 'pc-q35-8.0',
      'pc-i440fx-9.9', 'microvm', 'isapc', 'none', 'virt', 'pseries', 's390-ccw-virtio', 'ubuntu', 'pc-q35-rhel9.2.0'],
  },
  { path: 'os', name: 'type', build: (v) => parts({ os: [h('os', {}, t('type', v, { arch: 'x86_64', machine: 'q35' }))] }) },
  { path: 'os', name: '@firmware', build: (v) => os({ firmware: v }) },
  { path: 'os/firmware/feature', name: '@name', build: (v) => os({ firmware: 'efi' }, [h('firmware', {}, h('feature', { enabled: 'yes', name: v }))]) },
  { path: 'os/firmware/feature', name: '@enabled', build: (v) => os({ firmware: 'efi' }, [h('firmware', {}, h('feature', { enabled: v, name: 'secure-boot' }))]) },
  { path: 'os/loader', name: '@type', build: (v) => os({}, [t('loader', '/usr/share/OVMF/OVMF_CODE_4M.fd', { readonly: 'yes', type: v })]) },
  { path: 'os/loader', name: '@readonly', build: (v) => os({}, [t('loader', '/usr/share/OVMF/OVMF_CODE_4M.fd', { readonly: v, type: 'pflash' })]) },
  {
    path: 'os/loader', name: '@secure',
    build: (v) => patch(os({}, [t('loader', '/usr/share/OVMF/OVMF_CODE_4M.ms.fd', { readonly: 'yes', secure: v, type: 'pflash' })]),
      { features: [h('features', {}, h('acpi'), h('smm', { state: 'on' }))] }),
  },
  { path: 'os/loader', name: '@stateless', build: (v) => os({}, [t('loader', '/usr/share/OVMF/OVMF_CODE_4M.fd', { readonly: 'yes', type: 'pflash', stateless: v })]) },
  { path: 'os/nvram', name: '@type', build: (v) => os({ firmware: 'efi' }, [h('nvram', { type: v }, h('source', { file: '/var/lib/libvirt/qemu/nvram/enum_VARS.fd' }))]) },
  { path: 'os/boot', name: '@dev', build: (v) => os({}, [h('boot', { dev: v })]) },
  { path: 'os/bootmenu', name: '@enable', build: (v) => os({}, [h('boot', { dev: 'hd' }), h('bootmenu', { enable: v, timeout: '3000' })]) },
  {
    path: 'os/smbios', name: '@mode',
    build: (v) => patch(os({}, [h('smbios', { mode: v })]), { sysinfo: [h('sysinfo', { type: 'smbios' }, h('system', {}, t('entry', 'Example', { name: 'manufacturer' })))] }),
  },
  {
    path: 'os/bios', name: '@useserial',
    build: (v) => addDevices(os({}, [h('bios', { useserial: v })]), h('serial', { type: 'pty' })),
  },
  { path: 'sysinfo', name: '@type', build: (v) => parts({ sysinfo: [h('sysinfo', { type: v }, h('system', {}, t('entry', 'Example', { name: 'manufacturer' })))] }) },
  { path: 'sysinfo/system/entry', name: '@name', build: (v) => parts({ sysinfo: [h('sysinfo', { type: 'smbios' }, h('system', {}, t('entry', v === 'uuid' ? 'c7a5fdbd-edaf-9455-926a-d65c16db1809' : 'value-1', { name: v })))] }) },
  { path: 'sysinfo/bios/entry', name: '@name', build: (v) => parts({ sysinfo: [h('sysinfo', { type: 'smbios' }, h('bios', {}, t('entry', v === 'date' ? '01/01/2024' : 'value-1', { name: v })))] }) },

  // <features>
  { path: 'features/apic', name: '@eoi', build: (v) => parts({ features: [h('features', {}, h('acpi'), h('apic', { eoi: v }))] }) },
  { path: 'features/hyperv', name: '@mode', build: (v) => feats(h('hyperv', { mode: v }, h('relaxed', { state: 'on' }))) },
  ...['relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', 'stimer', 'reset', 'vendor_id', 'frequencies',
    'reenlightenment', 'tlbflush', 'ipi', 'evmcs', 'avic'].map((child): Placement => ({
    path: `features/hyperv/${child}`, name: '@state',
    build: (v) => {
      const extra = child === 'spinlocks' ? { retries: '8191' } : child === 'vendor_id' ? { value: 'KVM Hv' } : {};
      // synic and stimer need vpindex; stimer needs synic (libvirt checks the dependencies).
      const deps = child === 'synic' ? [h('vpindex', { state: 'on' })]
        : child === 'stimer' ? [h('vpindex', { state: 'on' }), h('synic', { state: 'on' })] : [];
      return feats(h('hyperv', { mode: 'custom' }, ...deps, h(child, { state: v, ...extra })));
    },
  })),
  { path: 'features/hyperv/stimer/direct', name: '@state', build: (v) => feats(h('hyperv', { mode: 'custom' }, h('vpindex', { state: 'on' }), h('synic', { state: 'on' }), h('stimer', { state: 'on' }, h('direct', { state: v })))) },
  ...['hidden', 'hint-dedicated', 'poll-control', 'pv-ipi', 'dirty-ring'].map((child): Placement => ({
    path: `features/kvm/${child}`, name: '@state',
    build: (v) => feats(h('kvm', {}, h(child, { state: v, ...(child === 'dirty-ring' ? { size: '4096' } : {}) }))),
  })),
  ...['pvspinlock', 'pmu', 'vmport', 'smm', 'vmcoreinfo', 'htm', 'nested-hv', 'ccf-assist', 'hap'].map((child): Placement => ({
    path: `features/${child}`, name: '@state', build: (v) => feats(h(child, { state: v })),
  })),
  { path: 'features/gic', name: '@version', build: (v) => feats(h('gic', { version: v })) },
  { path: 'features/ioapic', name: '@driver', build: (v) => feats(h('ioapic', { driver: v })) },
  { path: 'features/hpt', name: '@resizing', build: (v) => feats(h('hpt', { resizing: v })) },
  { path: 'features/msrs', name: '@unknown', build: (v) => feats(h('msrs', { unknown: v })) },
  ...['cfpc', 'sbbc', 'ibs'].map((child): Placement => ({ path: `features/${child}`, name: '@value', build: (v) => feats(h(child, { value: v })) })),
  { path: 'features/capabilities', name: '@policy', build: (v) => feats(h('capabilities', { policy: v })) },
  { path: 'features/xen/passthrough', name: '@state', build: (v) => feats(h('xen', {}, h('passthrough', { state: v }))) },

  // <cpu>
  { path: 'cpu', name: '@mode', build: (v) => parts({ cpu: [h('cpu', { mode: v })] }) },
  { path: 'cpu', name: '@match', build: (v) => parts({ cpu: [h('cpu', { mode: 'custom', match: v }, t('model', 'qemu64'))] }) },
  { path: 'cpu', name: '@check', build: (v) => parts({ cpu: [h('cpu', { mode: 'custom', match: 'exact', check: v }, t('model', 'qemu64'))] }) },
  { path: 'cpu', name: '@migratable', build: (v) => parts({ cpu: [h('cpu', { mode: 'host-passthrough', migratable: v })] }) },
  { path: 'cpu/model', name: '@fallback', build: (v) => parts({ cpu: [h('cpu', { mode: 'custom', match: 'exact' }, t('model', 'EPYC', { fallback: v }))] }) },
  { path: 'cpu/feature', name: '@policy', build: (v) => parts({ cpu: [h('cpu', { mode: 'custom', match: 'exact' }, t('model', 'qemu64'), h('feature', { policy: v, name: 'x2apic' }))] }) },
  { path: 'cpu/cache', name: '@mode', build: (v) => parts({ cpu: [h('cpu', { mode: 'host-passthrough' }, h('cache', { mode: v }))] }) },
  { path: 'cpu/cache', name: '@level', build: (v) => parts({ cpu: [h('cpu', { mode: 'host-passthrough' }, h('cache', { level: v, mode: 'emulate' }))] }) },
  { path: 'cpu/maxphysaddr', name: '@mode', build: (v) => parts({ cpu: [h('cpu', { mode: 'host-passthrough' }, h('maxphysaddr', { mode: v, bits: v === 'emulate' ? '42' : undefined }))] }) },
  {
    path: 'cpu/numa/cell', name: '@memAccess',
    build: (v) => parts({ cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: '1048576', unit: 'KiB', memAccess: v })))] }),
  },
  {
    path: 'cpu/numa/cell', name: '@discard',
    build: (v) => parts({ cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: '1048576', unit: 'KiB', discard: v })))] }),
  },

  // <clock>
  { path: 'clock', name: '@offset', build: (v) => parts({ clock: [h('clock', { offset: v, timezone: v === 'timezone' ? 'Europe/Paris' : undefined, start: v === 'absolute' ? '1700000000' : undefined })] }) },
  { path: 'clock', name: '@basis', where: { offset: 'variable' }, build: (v) => parts({ clock: [h('clock', { offset: 'variable', adjustment: '0', basis: v })] }) },
  { path: 'clock/timer', name: '@name', build: (v) => parts({ clock: [h('clock', { offset: 'utc' }, h('timer', { name: v, present: 'yes' }))] }) },
  { path: 'clock/timer', name: '@tickpolicy', where: { name: 'rtc' }, build: (v) => parts({ clock: [h('clock', { offset: 'utc' }, h('timer', { name: 'rtc', tickpolicy: v }))] }) },
  { path: 'clock/timer', name: '@tickpolicy', where: { name: 'pit' }, build: (v) => parts({ clock: [h('clock', { offset: 'utc' }, h('timer', { name: 'pit', tickpolicy: v }))] }) },
  { path: 'clock/timer', name: '@track', where: { name: 'rtc' }, build: (v) => parts({ clock: [h('clock', { offset: 'utc' }, h('timer', { name: 'rtc', track: v }))] }) },
  { path: 'clock/timer', name: '@mode', where: { name: 'tsc' }, build: (v) => parts({ clock: [h('clock', { offset: 'utc' }, h('timer', { name: 'tsc', mode: v }))] }) },
  { path: 'clock/timer', name: '@present', where: { name: 'hpet' }, build: (v) => parts({ clock: [h('clock', { offset: 'utc' }, h('timer', { name: 'hpet', present: v }))] }) },

  // lifecycle, pm, perf
  ...['on_poweroff', 'on_reboot', 'on_crash', 'on_lockfailure'].map((el): Placement => ({
    path: '', name: el, build: (v) => parts({ [el]: [t(el, v)] }),
  })),
  { path: 'pm/suspend-to-mem', name: '@enabled', build: (v) => parts({ pm: [h('pm', {}, h('suspend-to-mem', { enabled: v }))] }) },
  { path: 'pm/suspend-to-disk', name: '@enabled', build: (v) => parts({ pm: [h('pm', {}, h('suspend-to-disk', { enabled: v }))] }) },
  { path: 'perf/event', name: '@name', build: (v) => parts({ perf: [h('perf', {}, h('event', { name: v, enabled: 'yes' }))] }) },
  { path: 'perf/event', name: '@enabled', build: (v) => parts({ perf: [h('perf', {}, h('event', { name: 'cmt', enabled: v }))] }) },

  // memory, vcpus and tuning
  { path: 'memory', name: '@dumpCore', build: (v) => parts({ memory: [t('memory', 1024, { unit: 'MiB', dumpCore: v })] }) },
  { path: 'memoryBacking/source', name: '@type', build: (v) => parts({ memoryBacking: [h('memoryBacking', {}, h('source', { type: v }))] }) },
  { path: 'memoryBacking/access', name: '@mode', build: (v) => parts({ memoryBacking: [h('memoryBacking', {}, h('access', { mode: v }))] }) },
  { path: 'memoryBacking/allocation', name: '@mode', build: (v) => parts({ memoryBacking: [h('memoryBacking', {}, h('allocation', { mode: v }))] }) },
  { path: 'vcpu', name: '@placement', build: (v) => parts({ vcpu: [t('vcpu', 2, { placement: v })] }) },
  {
    path: 'vcpus/vcpu', name: '@enabled',
    build: (v) => parts({ vcpu: [t('vcpu', 2, { current: '1' })], vcpus: [h('vcpus', {}, h('vcpu', { id: '0', enabled: 'yes', hotpluggable: 'no' }), h('vcpu', { id: '1', enabled: v, hotpluggable: 'yes' }))] }),
  },
  {
    path: 'vcpus/vcpu', name: '@hotpluggable',
    build: (v) => parts({ vcpu: [t('vcpu', 2)], vcpus: [h('vcpus', {}, h('vcpu', { id: '0', enabled: 'yes', hotpluggable: 'no' }), h('vcpu', { id: '1', enabled: 'yes', hotpluggable: v }))] }),
  },
  { path: 'cputune/vcpusched', name: '@scheduler', build: (v) => parts({ cputune: [h('cputune', {}, h('vcpusched', { vcpus: '0', scheduler: v, priority: v === 'fifo' || v === 'rr' ? '1' : undefined }))] }) },
  { path: 'cputune/emulatorsched', name: '@scheduler', build: (v) => parts({ cputune: [h('cputune', {}, h('emulatorsched', { scheduler: v, priority: v === 'fifo' || v === 'rr' ? '1' : undefined }))] }) },
  {
    path: 'cputune/iothreadsched', name: '@scheduler',
    build: (v) => parts({ iothreads: [t('iothreads', 1)], cputune: [h('cputune', {}, h('iothreadsched', { iothreads: '1', scheduler: v, priority: v === 'fifo' || v === 'rr' ? '1' : undefined }))] }),
  },
  {
    path: 'cputune/cachetune/cache', name: '@type',
    build: (v) => parts({ cputune: [h('cputune', {}, h('cachetune', { vcpus: '0-1' }, h('cache', { id: '0', level: '3', type: v, size: '3', unit: 'MiB' })))] }),
  },
  { path: 'numatune/memory', name: '@mode', build: (v) => parts({ numatune: [h('numatune', {}, h('memory', { mode: v, nodeset: '0' }))] }) },
  { path: 'numatune/memory', name: '@placement', build: (v) => parts({ numatune: [h('numatune', {}, h('memory', { mode: 'strict', placement: v, nodeset: v === 'static' ? '0' : undefined }))] }) },
  {
    path: 'numatune/memnode', name: '@mode',
    build: (v) => parts({
      numatune: [h('numatune', {}, h('memnode', { cellid: '0', mode: v, nodeset: '0' }))],
      cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: '1048576', unit: 'KiB' })))],
    }),
  },
  { path: 'seclabel', name: '@type', build: (v) => parts({ seclabel: [h('seclabel', { type: v, model: v === 'static' ? 'dac' : undefined }, v === 'static' ? t('label', '+0:+0') : null)] }) },
  { path: 'seclabel', name: '@relabel', where: { type: 'static' }, build: (v) => parts({ seclabel: [h('seclabel', { type: 'static', model: 'dac', relabel: v }, t('label', '+0:+0'))] }) },
  { path: 'keywrap/cipher', name: '@name', build: (v) => parts({ extra: [h('keywrap', {}, h('cipher', { name: v, state: 'on' }))] }) },
  { path: 'launchSecurity', name: '@type', build: (v) => parts({ launchSecurity: [h('launchSecurity', { type: v }, t('policy', '0x0033'))] }) },
  { path: 'launchSecurity', name: '@kernelHashes', where: { type: 'sev' }, build: (v) => parts({ launchSecurity: [h('launchSecurity', { type: 'sev', kernelHashes: v }, t('policy', '0x0033'))] }) },

  // disks
  { path: 'devices/disk', name: '@device', build: (v) => dev(h('disk', { type: 'file', device: v }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { file: `${IMAGES}/enum.img` }), h('target', { dev: v === 'floppy' ? 'fda' : 'sdb', bus: v === 'floppy' ? 'fdc' : 'sata' }))) },
  { path: 'devices/disk', name: '@type', build: (v) => dev(h('disk', { type: v, device: 'disk' }, h('driver', { name: 'qemu', type: 'raw' }), diskSource(v), h('target', { dev: 'vdb', bus: 'virtio' }))) },
  { path: 'devices/disk', name: '@snapshot', build: (v) => dev(disk({ snapshot: v }, {}, {})) },
  { path: 'devices/disk', name: '@model', build: (v) => dev(disk({ model: v }, {}, {})) },
  {
    path: 'devices/disk', name: '@sgio', where: { device: 'lun' },
    build: (v) => dev(h('disk', { type: 'block', device: 'lun', sgio: v }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { dev: '/dev/sdz' }), h('target', { dev: 'sdb', bus: 'scsi' })), h('controller', { type: 'scsi', index: '0', model: 'virtio-scsi' })),
  },
  {
    path: 'devices/disk', name: '@rawio', where: { device: 'lun' },
    build: (v) => dev(h('disk', { type: 'block', device: 'lun', rawio: v }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { dev: '/dev/sdz' }), h('target', { dev: 'sdb', bus: 'scsi' })), h('controller', { type: 'scsi', index: '0', model: 'virtio-scsi' })),
  },
  { path: 'devices/disk/driver', name: '@type', build: (v) => dev(disk({}, { type: v }, {})) },
  ...['cache', 'error_policy', 'rerror_policy', 'io', 'ioeventfd', 'event_idx', 'copy_on_read', 'discard', 'detect_zeroes', 'iommu', 'ats', 'packed', 'page_per_vq'].map((a): Placement => ({
    path: 'devices/disk/driver', name: `@${a}`,
    build: (v) => dev(disk({}, { [a]: v, ...(a === 'detect_zeroes' ? { discard: 'unmap' } : {}), ...(a === 'io' && v === 'native' ? { cache: 'none' } : {}) }, {})),
  })),
  { path: 'devices/disk/target', name: '@bus', build: (v) => dev(disk({}, {}, { dev: v === 'virtio' ? 'vdb' : v === 'ide' ? 'hdb' : v === 'fdc' ? 'fda' : v === 'xen' ? 'xvdb' : 'sdb', bus: v })) },
  { path: 'devices/disk/target', name: '@bus', variant: 'pc', build: (v) => patch(dev(disk({}, {}, { dev: v === 'virtio' ? 'vdb' : v === 'ide' ? 'hdb' : v === 'fdc' ? 'fda' : v === 'xen' ? 'xvdb' : 'sdb', bus: v })), { os: [osNode('pc')] }) },
  // Target device names are free text in the schema ([a-zA-Z0-9_]+…): hand list.
  {
    path: 'devices/disk/target', name: '@dev',
    fallback: ['vdb', 'vdz', 'vdaa', 'vdzz', 'vdaaa', 'sdb', 'hdb', 'xvdb', 'vd', 'vda1', 'vdA', 'VDB', 'disk0', 'nvme0n1', 'vd-b', 'vd b', 'fda', '0'],
    build: (v) => dev(disk({}, {}, { dev: v, bus: 'virtio' })),
  },
  { path: 'devices/disk/target', name: '@tray', build: (v) => dev(h('disk', { type: 'file', device: 'cdrom' }, h('driver', { name: 'qemu', type: 'raw' }), h('target', { dev: 'sdb', bus: 'sata', tray: v }), h('readonly'))) },
  { path: 'devices/disk/target', name: '@removable', build: (v) => dev(h('disk', { type: 'file', device: 'disk' }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { file: `${IMAGES}/stick.img` }), h('target', { dev: 'sdb', bus: 'usb', removable: v }))) },
  { path: 'devices/disk/source', name: '@startupPolicy', where: { type: 'file' }, build: (v) => dev(h('disk', { type: 'file', device: 'cdrom' }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { file: `${IMAGES}/missing.iso`, startupPolicy: v }), h('target', { dev: 'sdb', bus: 'sata' }), h('readonly'))) },
  { path: 'devices/disk/source', name: '@protocol', build: (v) => dev(h('disk', { type: 'network', device: 'disk' }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { protocol: v, name: 'pool/image' }, h('host', { name: 'storage.example.com', port: '10809' })), h('target', { dev: 'vdb', bus: 'virtio' }))) },
  { path: 'devices/disk/geometry', name: '@trans', build: (v) => patch(dev(h('disk', { type: 'file', device: 'disk' }, h('driver', { name: 'qemu', type: 'raw' }), h('source', { file: `${IMAGES}/old.img` }), h('target', { dev: 'hdb', bus: 'ide' }), h('geometry', { cyls: '16383', heads: '16', secs: '63', trans: v }))), { os: [osNode('pc')] }) },

  // controllers
  { path: 'devices/controller', name: '@type', build: (v) => dev(h('controller', { type: v, index: '0' })) },
  ...['scsi', 'usb', 'ide', 'virtio-serial'].map((type): Placement => ({
    path: 'devices/controller', name: '@model', where: { type },
    build: (v) => (type === 'ide'
      ? patch(dev(h('controller', { type, index: '0', model: v })), { os: [osNode('pc')] })
      : dev(h('controller', { type, index: type === 'usb' ? '0' : '0', model: v }))),
  })),
  { path: 'devices/controller', name: '@model', where: { type: 'pci' }, build: (v) => dev(h('controller', { type: 'pci', index: v === 'pcie-root' || v === 'pci-root' ? '0' : '1', model: v })) },
  { path: 'devices/controller/model', name: '@name', build: (v) => dev(h('controller', { type: 'pci', index: '1', model: 'pcie-root-port' }, h('model', { name: v }))) },
  { path: 'devices/controller/target', name: '@hotplug', build: (v) => dev(h('controller', { type: 'pci', index: '1', model: 'pcie-root-port' }, h('target', { hotplug: v }))) },
  ...['ioeventfd', 'iommu', 'ats', 'packed'].map((a): Placement => ({
    path: 'devices/controller/driver', name: `@${a}`,
    build: (v) => dev(h('controller', { type: 'scsi', index: '0', model: 'virtio-scsi' }, h('driver', { [a]: v }))),
  })),

  // network interfaces
  { path: 'devices/interface', name: '@type', build: (v) => dev(h('interface', { type: v }, nicSource(v), h('model', { type: 'virtio' }))) },
  // The schema has no enum for the NIC model (free text [a-zA-Z0-9\-_]+): hand list of QEMU's.
  {
    path: 'devices/interface/model', name: '@type',
    fallback: ['virtio', 'virtio-transitional', 'virtio-non-transitional', 'e1000', 'e1000e', 'igb', 'rtl8139', 'ne2k_pci', 'pcnet', 'vmxnet3', 'usb-net', 'spapr-vlan', 'lan9118', 'smc91c111', 'netfront'],
    build: (v) => dev(h('interface', { type: 'network' }, h('source', { network: 'default' }), h('model', { type: v }))),
  },
  { path: 'devices/interface/link', name: '@state', build: (v) => dev(nic({}, h('link', { state: v }))) },
  { path: 'devices/interface/driver', name: '@name', build: (v) => dev(nic({}, h('driver', { name: v }))) },
  { path: 'devices/interface/driver', name: '@txmode', build: (v) => dev(nic({}, h('driver', { name: 'qemu', txmode: v }))) },
  ...['ioeventfd', 'event_idx', 'iommu', 'rss', 'packed'].map((a): Placement => ({
    path: 'devices/interface/driver', name: `@${a}`, build: (v) => dev(nic({}, h('driver', { [a]: v }))),
  })),
  ...['csum', 'gso', 'tso4', 'mrg_rxbuf'].map((a): Placement => ({
    path: 'devices/interface/driver/host', name: `@${a}`, build: (v) => dev(nic({}, h('driver', {}, h('host', { [a]: v })))),
  })),
  { path: 'devices/interface/driver/guest', name: '@csum', build: (v) => dev(nic({}, h('driver', {}, h('guest', { csum: v })))) },
  { path: 'devices/interface/mac', name: '@type', build: (v) => dev(nic({}, h('mac', { address: '52:54:00:12:34:56', type: v }))) },
  { path: 'devices/interface/virtualport', name: '@type', build: (v) => dev(h('interface', { type: 'bridge' }, h('source', { bridge: 'br0' }), h('virtualport', { type: v }), h('model', { type: 'virtio' }))) },
  { path: 'devices/interface/vlan/tag', name: '@nativeMode', build: (v) => dev(h('interface', { type: 'bridge' }, h('source', { bridge: 'ovsbr0' }), h('vlan', { trunk: 'yes' }, h('tag', { id: '42', nativeMode: v }), h('tag', { id: '43' })), h('virtualport', { type: 'openvswitch' }), h('model', { type: 'virtio' }))) },
  { path: 'devices/interface/rom', name: '@bar', build: (v) => dev(nic({}, h('rom', { bar: v }))) },
  { path: 'devices/interface/port', name: '@isolated', build: (v) => dev(nic({}, h('port', { isolated: v }))) },
  { path: 'devices/interface', name: '@trustGuestRxFilters', where: { type: 'network' }, build: (v) => dev(nic({ trustGuestRxFilters: v })) },
  { path: 'devices/interface/backend', name: '@type', build: (v) => dev(h('interface', { type: 'user' }, h('backend', { type: v }), h('model', { type: 'virtio' }))) },
  { path: 'devices/interface/source', name: '@mode', where: { type: 'unix' }, build: (v) => dev(h('interface', { type: 'vhostuser' }, h('source', { type: 'unix', path: '/run/vhost-user.sock', mode: v }), h('model', { type: 'virtio' }))) },

  // input, graphics, video, sound, audio
  { path: 'devices/input', name: '@type', build: (v) => dev(h('input', { type: v, bus: 'usb' })) },
  { path: 'devices/input', name: '@bus', where: { type: 'tablet' }, build: (v) => dev(h('input', { type: 'tablet', bus: v })) },
  { path: 'devices/input', name: '@bus', where: { type: 'keyboard' }, build: (v) => dev(h('input', { type: 'keyboard', bus: v })) },
  { path: 'devices/input', name: '@model', build: (v) => dev(h('input', { type: 'keyboard', bus: 'virtio', model: v })) },
  { path: 'devices/input/source', name: '@grab', build: (v) => dev(h('input', { type: 'evdev' }, h('source', { dev: '/dev/input/event1', grab: v, repeat: 'on' }))) },
  { path: 'devices/input/source', name: '@grabToggle', build: (v) => dev(h('input', { type: 'evdev' }, h('source', { dev: '/dev/input/event1', grabToggle: v }))) },
  { path: 'devices/graphics', name: '@type', build: (v) => dev(h('graphics', { type: v })) },
  { path: 'devices/graphics', name: '@autoport', where: { type: 'vnc' }, build: (v) => dev(h('graphics', { type: 'vnc', autoport: v, port: v === 'no' ? '5905' : undefined })) },
  { path: 'devices/graphics', name: '@sharePolicy', where: { type: 'vnc' }, build: (v) => dev(h('graphics', { type: 'vnc', autoport: 'yes', sharePolicy: v })) },
  { path: 'devices/graphics', name: '@autoport', where: { type: 'spice' }, build: (v) => dev(h('graphics', { type: 'spice', autoport: v, port: v === 'no' ? '5906' : undefined })) },
  { path: 'devices/graphics', name: '@defaultMode', where: { type: 'spice' }, build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes', defaultMode: v })) },
  { path: 'devices/graphics', name: '@connected', where: { type: 'spice' }, build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes', connected: v })) },
  { path: 'devices/graphics/listen', name: '@type', build: (v) => dev(h('graphics', { type: 'vnc', autoport: 'yes' }, h('listen', { type: v, address: v === 'address' ? '127.0.0.1' : undefined, network: v === 'network' ? 'default' : undefined }))) },
  { path: 'devices/graphics/channel', name: '@name', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('channel', { name: v, mode: 'secure' }))) },
  { path: 'devices/graphics/channel', name: '@mode', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('channel', { name: 'main', mode: v }))) },
  { path: 'devices/graphics/image', name: '@compression', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('image', { compression: v }))) },
  { path: 'devices/graphics/jpeg', name: '@compression', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('jpeg', { compression: v }))) },
  { path: 'devices/graphics/zlib', name: '@compression', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('zlib', { compression: v }))) },
  { path: 'devices/graphics/playback', name: '@compression', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('playback', { compression: v }))) },
  { path: 'devices/graphics/streaming', name: '@mode', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('streaming', { mode: v }))) },
  { path: 'devices/graphics/clipboard', name: '@copypaste', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('clipboard', { copypaste: v }))) },
  { path: 'devices/graphics/mouse', name: '@mode', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('mouse', { mode: v }))) },
  { path: 'devices/graphics/filetransfer', name: '@enable', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'yes' }, h('filetransfer', { enable: v }))) },
  { path: 'devices/graphics/gl', name: '@enable', build: (v) => dev(h('graphics', { type: 'spice', autoport: 'no' }, h('listen', { type: 'none' }), h('gl', { enable: v }))) },
  { path: 'devices/video/model', name: '@type', build: (v) => dev(h('video', {}, h('model', { type: v }))) },
  { path: 'devices/video/model', name: '@type', variant: 'pc', build: (v) => patch(dev(h('video', {}, h('model', { type: v }))), { os: [osNode('pc')] }) },
  { path: 'devices/video/model', name: '@primary', build: (v) => dev(h('video', {}, h('model', { type: 'virtio', primary: v })), h('video', {}, h('model', { type: 'virtio' }))) },
  { path: 'devices/video/model/acceleration', name: '@accel3d', build: (v) => dev(h('video', {}, h('model', { type: 'virtio' }, h('acceleration', { accel3d: v })))) },
  { path: 'devices/video/model/acceleration', name: '@accel2d', build: (v) => dev(h('video', {}, h('model', { type: 'vbox' }, h('acceleration', { accel2d: v })))) },
  { path: 'devices/video/driver', name: '@name', build: (v) => dev(h('video', {}, h('driver', { name: v }), h('model', { type: 'virtio' }))) },
  { path: 'devices/video/driver', name: '@vgaconf', build: (v) => dev(h('video', {}, h('driver', { vgaconf: v }), h('model', { type: 'vga' }))) },
  { path: 'devices/video/driver', name: '@iommu', build: (v) => dev(h('video', {}, h('driver', { iommu: v }), h('model', { type: 'virtio' }))) },
  { path: 'devices/sound', name: '@model', build: (v) => dev(h('sound', { model: v })) },
  { path: 'devices/sound/codec', name: '@type', build: (v) => dev(h('sound', { model: 'ich9' }, h('codec', { type: v }))) },
  { path: 'devices/audio', name: '@type', build: (v) => dev(h('audio', { id: '1', type: v })) },
  { path: 'devices/audio/output', name: '@mixingEngine', build: (v) => dev(h('audio', { id: '1', type: 'none' }, h('output', { mixingEngine: v }))) },
  { path: 'devices/audio/output/settings', name: '@format', build: (v) => dev(h('audio', { id: '1', type: 'none' }, h('output', { mixingEngine: 'yes', fixedSettings: 'yes' }, h('settings', { frequency: '44100', channels: '2', format: v })))) },
  { path: 'devices/audio', name: '@driver', where: { type: 'sdl' }, build: (v) => dev(h('audio', { id: '1', type: 'sdl', driver: v })) },

  // character devices
  { path: 'devices/serial', name: '@type', build: (v) => dev(chardev('serial', v, h('target', { port: '0' }))) },
  { path: 'devices/serial/target', name: '@type', build: (v) => dev(h('serial', { type: 'pty' }, h('target', { type: v, port: '0' }))) },
  { path: 'devices/serial/target/model', name: '@name', build: (v) => dev(h('serial', { type: 'pty' }, h('target', { port: '0' }, h('model', { name: v })))) },
  { path: 'devices/console', name: '@type', build: (v) => dev(chardev('console', v, h('target', { type: 'serial', port: '0' }))) },
  { path: 'devices/console/target', name: '@type', build: (v) => dev(h('console', { type: 'pty' }, h('target', { type: v, port: '0' }))) },
  { path: 'devices/parallel', name: '@type', build: (v) => patch(dev(chardev('parallel', v, h('target', { port: '0' }))), { os: [osNode('pc')] }) },
  { path: 'devices/channel', name: '@type', build: (v) => dev(chardev('channel', v, h('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' })), spice) },
  { path: 'devices/channel/target', name: '@type', build: (v) => dev(h('channel', { type: 'unix' }, h('source', { mode: 'bind', path: '/run/enum-chan.sock' }), h('target', { type: v, name: v === 'virtio' || v === 'xen' ? 'org.qemu.guest_agent.0' : undefined, address: v === 'guestfwd' ? '10.0.2.1' : undefined, port: v === 'guestfwd' ? '4600' : undefined }))) },
  { path: 'devices/channel/target', name: '@state', build: (v) => dev(h('channel', { type: 'unix' }, h('target', { type: 'virtio', name: 'org.qemu.guest_agent.0', state: v }))) },
  // Channel target names are free text: hand list of well-known ones and odd spellings.
  {
    path: 'devices/channel/target', name: '@name',
    fallback: ['org.qemu.guest_agent.0', 'com.redhat.spice.0', 'org.spice-space.webdav.0', 'org.libguestfs.channel.0', 'org.qemu.guest_agent.1', 'a', 'with space', 'x'.repeat(300)],
    build: (v) => dev(h('channel', { type: 'unix' }, h('target', { type: 'virtio', name: v }))),
  },
  { path: 'devices/smartcard', name: '@mode', build: (v) => dev(h('smartcard', { mode: v, type: v === 'passthrough' ? 'spicevmc' : undefined }), spice) },
  { path: 'devices/smartcard', name: '@type', where: { mode: 'passthrough' }, build: (v) => dev(h('smartcard', { mode: 'passthrough', type: v }, charSource(v)), spice) },
  { path: 'devices/redirdev', name: '@bus', build: (v) => dev(h('redirdev', { bus: v, type: 'spicevmc' }), spice) },
  { path: 'devices/redirdev', name: '@type', build: (v) => dev(h('redirdev', { bus: 'usb', type: v }, charSource(v)), spice) },
  { path: 'devices/hub', name: '@type', build: (v) => dev(h('hub', { type: v })) },

  // rng, memballoon, watchdog, tpm, panic, iommu, vsock, shmem, memory devices
  { path: 'devices/rng', name: '@model', build: (v) => dev(h('rng', { model: v }, h('backend', { model: 'random' }, '/dev/urandom'))) },
  { path: 'devices/rng/backend', name: '@model', build: (v) => dev(h('rng', { model: 'virtio' }, h('backend', { model: v, type: v === 'egd' ? 'tcp' : undefined }, v === 'egd' ? h('source', { mode: 'connect', host: '127.0.0.1', service: '708' }) : v === 'random' ? '/dev/urandom' : null))) },
  { path: 'devices/rng/backend', name: '@type', where: { model: 'egd' }, build: (v) => dev(h('rng', { model: 'virtio' }, h('backend', { model: 'egd', type: v }, charSource(v)))) },
  { path: 'devices/rng/driver', name: '@iommu', build: (v) => dev(h('rng', { model: 'virtio' }, h('backend', { model: 'random' }, '/dev/urandom'), h('driver', { iommu: v }))) },
  { path: 'devices/memballoon', name: '@model', build: (v) => dev(h('memballoon', { model: v })) },
  { path: 'devices/memballoon', name: '@autodeflate', build: (v) => dev(h('memballoon', { model: 'virtio', autodeflate: v })) },
  { path: 'devices/memballoon', name: '@freePageReporting', build: (v) => dev(h('memballoon', { model: 'virtio', freePageReporting: v })) },
  { path: 'devices/memballoon/driver', name: '@iommu', build: (v) => dev(h('memballoon', { model: 'virtio' }, h('driver', { iommu: v }))) },
  { path: 'devices/watchdog', name: '@model', build: (v) => dev(h('watchdog', { model: v, action: 'reset' })) },
  { path: 'devices/watchdog', name: '@action', build: (v) => dev(h('watchdog', { model: 'i6300esb', action: v })) },
  { path: 'devices/tpm', name: '@model', build: (v) => dev(h('tpm', { model: v }, h('backend', { type: 'emulator', version: '2.0' }))) },
  { path: 'devices/tpm/backend', name: '@type', build: (v) => dev(h('tpm', { model: 'tpm-crb' }, h('backend', { type: v }, v === 'passthrough' ? h('device', { path: '/dev/tpm0' }) : v === 'external' ? h('source', { type: 'unix', mode: 'connect', path: '/run/swtpm.sock' }) : null))) },
  { path: 'devices/tpm/backend', name: '@version', build: (v) => dev(h('tpm', { model: 'tpm-crb' }, h('backend', { type: 'emulator', version: v }))) },
  { path: 'devices/tpm/backend', name: '@persistent_state', build: (v) => dev(h('tpm', { model: 'tpm-crb' }, h('backend', { type: 'emulator', version: '2.0', persistent_state: v }))) },
  { path: 'devices/panic', name: '@model', build: (v) => dev(h('panic', { model: v })) },
  { path: 'devices/iommu', name: '@model', build: (v) => patch(dev(h('iommu', { model: v })), { features: [h('features', {}, h('acpi'), h('apic'), h('ioapic', { driver: 'qemu' }))] }) },
  ...['intremap', 'caching_mode', 'eim', 'iotlb'].map((a): Placement => ({
    path: 'devices/iommu/driver', name: `@${a}`,
    build: (v) => patch(dev(h('iommu', { model: 'intel' }, h('driver', { [a]: v, ...(a === 'eim' ? { intremap: 'on' } : {}) }))), { features: [h('features', {}, h('acpi'), h('apic'), h('ioapic', { driver: 'qemu' }))] }),
  })),
  { path: 'devices/vsock', name: '@model', build: (v) => dev(h('vsock', { model: v }, h('cid', { auto: 'yes' }))) },
  { path: 'devices/vsock/cid', name: '@auto', build: (v) => dev(h('vsock', { model: 'virtio' }, h('cid', { auto: v, address: v === 'no' ? '3' : undefined }))) },
  { path: 'devices/shmem', name: '@role', build: (v) => dev(h('shmem', { name: 'shm0', role: v }, h('model', { type: 'ivshmem-plain' }), h('size', { unit: 'M' }, '4'))) },
  { path: 'devices/shmem/model', name: '@type', build: (v) => dev(h('shmem', { name: 'shm0' }, h('model', { type: v }), h('size', { unit: 'M' }, '4'))) },
  {
    path: 'devices/memory', name: '@model',
    build: (v) => patch(dev(h('memory', { model: v },
      v === 'nvdimm' || v === 'virtio-pmem' ? h('source', {}, t('path', '/var/lib/libvirt/pmem/enum.img')) : null,
      h('target', {}, t('size', 524288, { unit: 'KiB' }), t('node', 0), v === 'virtio-mem' ? t('block', 2048, { unit: 'KiB' }) : null,
        v === 'virtio-mem' ? t('requested', 0, { unit: 'KiB' }) : null))), {
      maxMemory: [t('maxMemory', 4194304, { slots: '8', unit: 'KiB' })],
      cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: '1048576', unit: 'KiB' })))],
    }),
  },
  {
    path: 'devices/memory', name: '@access',
    build: (v) => patch(dev(h('memory', { model: 'dimm', access: v }, h('target', {}, t('size', 524288, { unit: 'KiB' }), t('node', 0)))), {
      maxMemory: [t('maxMemory', 4194304, { slots: '8', unit: 'KiB' })],
      cpu: [h('cpu', {}, h('numa', {}, h('cell', { id: '0', cpus: '0-1', memory: '1048576', unit: 'KiB' })))],
    }),
  },

  // filesystems
  {
    path: 'devices/filesystem', name: '@type',
    build: (v) => dev(h('filesystem', { type: v, accessmode: 'mapped' },
      v === 'file' ? h('source', { file: '/srv/fs.img' }) : v === 'block' ? h('source', { dev: '/dev/vg0/fs' }) : v === 'template' ? h('source', { name: 'tmpl' })
        : v === 'ram' ? h('source', { usage: '1024', units: 'KiB' }) : h('source', { dir: '/srv/share' }),
      h('target', { dir: 'share' }))),
  },
  { path: 'devices/filesystem', name: '@accessmode', where: { type: 'mount' }, build: (v) => dev(h('filesystem', { type: 'mount', accessmode: v }, h('source', { dir: '/srv/share' }), h('target', { dir: 'share' }))) },
  { path: 'devices/filesystem', name: '@multidevs', where: { type: 'mount' }, build: (v) => dev(h('filesystem', { type: 'mount', accessmode: 'mapped', multidevs: v }, h('source', { dir: '/srv/share' }), h('target', { dir: 'share' }))) },
  { path: 'devices/filesystem', name: '@model', build: (v) => dev(h('filesystem', { type: 'mount', accessmode: 'mapped', model: v }, h('source', { dir: '/srv/share' }), h('target', { dir: 'share' }))) },
  {
    path: 'devices/filesystem/driver', name: '@type',
    build: (v) => patch(dev(h('filesystem', { type: 'mount', accessmode: 'passthrough' }, h('driver', { type: v }), h('source', { dir: '/srv/share' }), h('target', { dir: 'share' }))),
      { memoryBacking: [h('memoryBacking', {}, h('source', { type: 'memfd' }), h('access', { mode: 'shared' }))] }),
  },
  { path: 'devices/filesystem/driver', name: '@format', build: (v) => dev(h('filesystem', { type: 'file', accessmode: 'passthrough' }, h('driver', { type: 'loop', format: v }), h('source', { file: '/srv/fs.img' }), h('target', { dir: 'share' }))) },
  { path: 'devices/filesystem/driver', name: '@wrpolicy', build: (v) => dev(h('filesystem', { type: 'mount', accessmode: 'mapped' }, h('driver', { type: 'path', wrpolicy: v }), h('source', { dir: '/srv/share' }), h('target', { dir: 'share' }))) },
  {
    path: 'devices/filesystem/binary/cache', name: '@mode',
    build: (v) => patch(dev(h('filesystem', { type: 'mount', accessmode: 'passthrough' }, h('driver', { type: 'virtiofs' }), h('binary', { path: '/usr/libexec/virtiofsd' }, h('cache', { mode: v })), h('source', { dir: '/srv/share' }), h('target', { dir: 'share' }))),
      { memoryBacking: [h('memoryBacking', {}, h('source', { type: 'memfd' }), h('access', { mode: 'shared' }))] }),
  },
  {
    path: 'devices/filesystem/binary/sandbox', name: '@mode',
    build: (v) => patch(dev(h('filesystem', { type: 'mount', accessmode: 'passthrough' }, h('driver', { type: 'virtiofs' }), h('binary', { path: '/usr/libexec/virtiofsd' }, h('sandbox', { mode: v })), h('source', { dir: '/srv/share' }), h('target', { dir: 'share' }))),
      { memoryBacking: [h('memoryBacking', {}, h('source', { type: 'memfd' }), h('access', { mode: 'shared' }))] }),
  },

  // host devices (libvirt may refuse them for devices missing on this host)
  { path: 'devices/hostdev', name: '@mode', build: (v) => dev(h('hostdev', { mode: v, type: 'pci', managed: 'yes' }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' })))) },
  { path: 'devices/hostdev', name: '@type', where: { mode: 'subsystem' }, build: (v) => dev(hostdevOf(v)) },
  { path: 'devices/hostdev', name: '@managed', build: (v) => dev(h('hostdev', { mode: 'subsystem', type: 'pci', managed: v }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' })))) },
  { path: 'devices/hostdev/driver', name: '@name', build: (v) => dev(h('hostdev', { mode: 'subsystem', type: 'pci', managed: 'yes' }, h('driver', { name: v }), h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' })))) },
  { path: 'devices/hostdev/rom', name: '@bar', build: (v) => dev(h('hostdev', { mode: 'subsystem', type: 'pci', managed: 'yes' }, h('source', {}, h('address', { domain: '0x0000', bus: '0x03', slot: '0x00', function: '0x0' })), h('rom', { bar: v }))) },
  { path: 'devices/hostdev', name: '@model', where: { type: 'mdev' }, build: (v) => dev(h('hostdev', { mode: 'subsystem', type: 'mdev', model: v }, h('source', {}, h('address', { uuid: 'c2177883-f1bb-47f0-914d-32a22e3a8804' })))) },

  // libvirt 9.0's schema has no <crypto> device (it came in 9.1): hand list, all expected unknown.
  { path: 'devices/crypto', name: '@model', fallback: ['virtio', 'bogus'], build: (v) => dev(h('crypto', { model: v, type: 'qemu' }, h('backend', { model: 'builtin', queues: '1' }))) },
  { path: 'devices/crypto/backend', name: '@model', fallback: ['builtin', 'lkcf'], build: (v) => dev(h('crypto', { model: 'virtio', type: 'qemu' }, h('backend', { model: v, queues: '1' }))) },

  // addresses
  { path: 'devices/disk/address', name: '@type', build: (v) => dev(disk({}, {}, {}, h('address', { type: v }))) },
  { path: 'devices/interface/address', name: '@type', build: (v) => dev(nic({}, h('address', { type: v }))) },
  { path: 'devices/disk/address', name: '@multifunction', where: { type: 'pci' }, build: (v) => dev(disk({}, {}, {}, h('address', { type: 'pci', domain: '0x0000', bus: '0x00', slot: '0x07', function: '0x0', multifunction: v }))) },
];
