// The domain document as named parts in libvirt's own element order, and the small base documents
// the non-valid groups vary one thing in. A group overrides parts; the rest keeps its default.

import { h, t, render, type Attrs, type Child, type El, type XNode } from './xml.ts';

/** The top-level parts of <domain>, in the order libvirt formats them. */
export const PART_ORDER = [
  'name', 'uuid', 'genid', 'title', 'description', 'metadata', 'maxMemory', 'memory', 'currentMemory',
  'blkiotune', 'memtune', 'memoryBacking', 'vcpu', 'vcpus', 'iothreads', 'cputune', 'numatune',
  'resource', 'sysinfo', 'bootloader', 'os', 'features', 'cpu', 'clock', 'on_poweroff', 'on_reboot',
  'on_crash', 'on_lockfailure', 'pm', 'perf', 'devices', 'seclabel', 'launchSecurity', 'extra',
] as const;

export type PartName = (typeof PART_ORDER)[number];

export interface Domain {
  /** Attributes of <domain>; type is usually there. */
  attrs: Attrs;
  /** Each part is zero or more nodes; `devices` holds the children of <devices> (null: no <devices>). */
  parts: Partial<Record<Exclude<PartName, 'devices'>, Child[]>>;
  devices: Child[] | null;
  /** Nodes placed before all parts (tests about position). */
  first?: Child[];
}

export const EMULATOR = '/usr/bin/qemu-system-x86_64';
export const IMAGES = '/var/lib/libvirt/images';

export function domainNode(d: Domain): El {
  const children: Child[] = [...(d.first ?? [])];
  for (const p of PART_ORDER) {
    if (p === 'devices') {
      if (d.devices !== null) children.push(h('devices', {}, ...d.devices));
      continue;
    }
    children.push(...(d.parts[p] ?? []));
  }
  return h('domain', d.attrs, ...children);
}

export function domainXml(d: Domain): string {
  return render(domainNode(d));
}

export function osNode(machine: string | null, extra: Child[] = [], osAttrs: Attrs = {}, typeAttrs: Attrs = {}): El {
  return h('os', osAttrs, t('type', 'hvm', { arch: 'x86_64', machine: machine ?? undefined, ...typeAttrs }), ...extra);
}

export interface BaseOptions {
  type?: string;
  name?: string;
  machine?: string | null;
  memoryMiB?: number;
  vcpus?: number;
  /** A qcow2 virtio disk in <devices> (default true). */
  disk?: boolean;
}

/**
 * The small base document most groups start from: a q35 guest (TCG: the oracle has no KVM) with 1 GiB, 2 vCPUs, ACPI and
 * APIC, one virtio disk. Its parts can be overridden one at a time.
 */
export function base(o: BaseOptions = {}): Domain {
  const name = o.name ?? 'corpus-guest';
  return {
    attrs: { type: o.type ?? 'qemu' },
    parts: {
      name: [t('name', name)],
      memory: [t('memory', o.memoryMiB ?? 1024, { unit: 'MiB' })],
      vcpu: [t('vcpu', o.vcpus ?? 2)],
      os: [osNode(o.machine === undefined ? 'q35' : o.machine)],
      features: [h('features', {}, h('acpi'), h('apic'))],
    },
    devices: o.disk === false ? [] : [virtioDisk(name)],
  };
}

export function virtioDisk(name: string, dev = 'vda'): El {
  return h('disk', { type: 'file', device: 'disk' },
    h('driver', { name: 'qemu', type: 'qcow2' }),
    h('source', { file: `${IMAGES}/${name}.qcow2` }),
    h('target', { dev, bus: 'virtio' }));
}

/** Replace parts of a domain (shallow copy); `devices` replaces the device list. */
export function patch(d: Domain, parts: Domain['parts'], devices?: Child[] | null, attrs?: Attrs): Domain {
  return {
    attrs: attrs ? { ...d.attrs, ...attrs } : d.attrs,
    parts: { ...d.parts, ...parts },
    devices: devices === undefined ? d.devices : devices,
    ...(d.first ? { first: d.first } : {}),
  };
}

/** Add devices after the existing ones. */
export function addDevices(d: Domain, ...devs: Child[]): Domain {
  return { ...d, devices: [...(d.devices ?? []), ...devs] };
}

export type { XNode };
