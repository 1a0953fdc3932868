/**
 * `virsh domcapabilities` (virConnectGetDomainCapabilities) for a profile, in the element order of
 * libvirt's src/conf/domain_capabilities.c. SEV appears for every machine type when libvirt sees it
 * (libvirt does not restrict by machine; QEMU refuses unsuitable machines at start).
 */
import type { HardwareProfile } from '../profile/schema.ts';
import { versionAtLeast } from '../profile/version.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { domcapsCpu } from './domcaps-cpu.ts';
import { armDomcapsCpu } from './domcaps-cpu-arm.ts';
import { LIBVIRT_SEV_SINCE, type LibvirtSevView } from './libvirt-sev.ts';
import { defaultMachine, guestArches, isQ35, resolveMachine, type GuestArchName, type MachineType } from './machines.ts';
import { el, enumEl, formatXml, textEl, type XmlWriterNode } from './xml.ts';

export interface DomainCapsQuery {
  readonly emulatorbin?: string | null;
  readonly arch?: string | null;
  readonly machine?: string | null;
  readonly virttype?: string | null;
}

/** virDomainVirtType names libvirt parses; only qemu and kvm are served by the QEMU driver. */
const VIRT_TYPES = ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz', 'hvf', 'ch'];
/** virArch names libvirt parses; the host serves only the arches of its `<guest>` list. */
const ARCHES = ['i686', 'x86_64', 'aarch64', 'armv7l', 'ppc64', 'ppc64le', 's390x', 'riscv64', 'mips64', 'sparc64', 'loongarch64'];

/** Feature elements and the libvirt release that started printing them (non-SEV ones approximate). */
const FEATURE_SINCE: readonly (readonly [string, readonly [number, number, number]])[] = [
  ['gic', [1, 3, 0]],
  ['vmcoreinfo', [4, 4, 0]],
  ['genid', [4, 4, 0]],
  ['backingStoreInput', [5, 10, 0]],
  ['backup', [6, 0, 0]],
  ['async-teardown', [9, 6, 0]],
];

const SINCE = {
  firmwareEnum: [5, 2, 0],
  biosFirmware: [10, 0, 0],
  sgx: [8, 10, 0],
  hyperv: [8, 0, 0],
  memfd: [4, 10, 0],
  tpmExternal: [9, 0, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

export interface ResolvedDomainCaps {
  readonly emulator: string;
  readonly arch: GuestArchName;
  readonly machine: MachineType;
  readonly virttype: 'kvm' | 'qemu';
}

function qemuError(code: VirErrorNumber, detail: string): LibvirtError {
  return LibvirtError.of(code, VirErrorDomain.QEMU, detail);
}

/** The error libvirt raises when an emulator binary cannot be examined (absent, or removed since). */
export function missingBinaryError(binary: string): LibvirtError {
  return qemuError(VirErrorNumber.SYSTEM_ERROR, `Cannot check QEMU binary ${binary}: No such file or directory`);
}

/** Applies libvirt's defaults and checks, with the errors the QEMU driver raises. */
export function resolveDomainCapsQuery(profile: HardwareProfile, q: DomainCapsQuery = {}): ResolvedDomainCaps {
  const guests = guestArches(profile);
  const native = guests.find((g) => g.arch === profile.arch) ?? guests[guests.length - 1]!;
  let guest = native;
  if (q.emulatorbin) {
    // An emulator serving several arches (RHEL's qemu-kvm) defaults to the host's own.
    const served = guests.filter((g) => g.emulator === q.emulatorbin);
    if (!served.length) throw missingBinaryError(q.emulatorbin);
    guest = served.find((g) => g.arch === profile.arch) ?? served[0]!;
  }
  if (q.arch) {
    if (!ARCHES.includes(q.arch)) throw qemuError(VirErrorNumber.INVALID_ARG, `unknown architecture: ${q.arch}`);
    const byArch = guests.find((g) => g.arch === q.arch);
    if (!byArch) throw qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, `unable to find any emulator to serve '${q.arch}' architecture`);
    guest = byArch;
  }
  const emulator = q.emulatorbin ?? guest.emulator;
  const virt = q.virttype ?? 'kvm';
  if (!VIRT_TYPES.includes(virt)) throw qemuError(VirErrorNumber.INVALID_ARG, `unknown virttype: ${virt}`);
  if (virt !== 'qemu' && (virt !== 'kvm' || !guest.kvm)) {
    throw qemuError(VirErrorNumber.INVALID_ARG, `Emulator '${emulator}' does not support virt type '${virt}'`);
  }
  const machine = q.machine ? resolveMachine(profile, q.machine) : defaultMachine(profile);
  if (!machine) {
    throw qemuError(VirErrorNumber.INVALID_ARG, `the machine '${q.machine}' is not supported by emulator '${emulator}'`);
  }
  return { emulator, arch: guest.arch, machine, virttype: virt };
}

/** Secure-boot OVMF builds need SMM, which libvirt only offers on q35. */
function isSecureLoader(path: string): boolean {
  return /secboot|\.ms\.|secure|snakeoil/i.test(path);
}

function os(profile: HardwareProfile, machine: MachineType): XmlWriterNode {
  const lv = profile.libvirt.version;
  const q35 = isQ35(machine);
  const codes = profile.qemu.ovmf.map((o) => o.code).filter((c) => q35 || !isSecureLoader(c));
  const firmware = [
    ...(versionAtLeast(lv, ...SINCE.biosFirmware) ? ['bios'] : []),
    ...(codes.length ? ['efi'] : []),
  ];
  const secure = q35 && codes.some(isSecureLoader) ? ['yes', 'no'] : ['no'];
  return el('os', { supported: 'yes' }, [
    versionAtLeast(lv, ...SINCE.firmwareEnum) && enumEl('firmware', firmware),
    el('loader', { supported: 'yes' }, [
      ...codes.map((c) => textEl('value', c)),
      enumEl('type', ['rom', 'pflash']),
      enumEl('readonly', ['yes', 'no']),
      enumEl('secure', secure),
    ]),
  ]);
}

function devices(profile: HardwareProfile, machine: MachineType, arm: boolean): XmlWriterNode {
  const virtioModels = ['virtio', 'virtio-transitional', 'virtio-non-transitional'];
  // The ARM virt board has no IDE controller and QEMU's ARM builds no qxl or tpm-crb.
  const ide = !arm && !isQ35(machine);
  return el('devices', {}, [
    el('disk', { supported: 'yes' }, [
      enumEl('diskDevice', ['disk', 'cdrom', 'floppy', 'lun']),
      enumEl('bus', [...(ide ? ['ide'] : []), 'fdc', 'scsi', 'virtio', 'usb', 'sata']),
      enumEl('model', virtioModels),
    ]),
    el('graphics', { supported: 'yes' }, [enumEl('type', ['sdl', 'vnc', 'spice', 'egl-headless', 'dbus'])]),
    el('video', { supported: 'yes' }, [
      enumEl('modelType', ['vga', 'cirrus', 'vmvga', ...(arm ? [] : ['qxl']), 'virtio', 'none', 'bochs', 'ramfb']),
    ]),
    el('hostdev', { supported: 'yes' }, [
      enumEl('mode', ['subsystem']),
      enumEl('startupPolicy', ['default', 'mandatory', 'requisite', 'optional']),
      enumEl('subsysType', ['usb', 'pci', 'scsi']),
      enumEl('capsType', []),
      enumEl('pciBackend', ['default', 'vfio']),
    ]),
    el('rng', { supported: 'yes' }, [enumEl('model', virtioModels), enumEl('backendModel', ['random', 'egd', 'builtin'])]),
    el('filesystem', { supported: 'yes' }, [enumEl('driverType', ['path', 'handle', 'virtiofs'])]),
    // With swtpm installed libvirt offers the emulator backend and, from 9.0, the external one
    // (an swtpm it does not start) under the same condition, and the TPM versions swtpm_setup
    // supports (virQEMUCapsFillDomainDeviceTPMCaps).
    el('tpm', { supported: 'yes' }, [
      enumEl('model', arm ? ['tpm-tis'] : ['tpm-tis', 'tpm-crb']),
      enumEl('backendModel', [
        'passthrough',
        ...(profile.qemu.swtpm ? ['emulator', ...(versionAtLeast(profile.libvirt.version, ...SINCE.tpmExternal) ? ['external'] : [])] : []),
      ]),
      profile.qemu.swtpm && enumEl('backendVersion', (['1.2', '2.0'] as const).filter((v) => profile.qemu.swtpm!.versions.includes(v))),
    ]),
    el('redirdev', { supported: 'yes' }, [enumEl('bus', ['usb'])]),
    el('channel', { supported: 'yes' }, [enumEl('type', ['pty', 'unix', 'spicevmc'])]),
  ]);
}

/** The `<sev>` feature exactly as libvirt formats it, gated by the libvirt release. */
export function sevFeature(profile: HardwareProfile, sev: LibvirtSevView | null): XmlWriterNode {
  if (!sev) return el('sev', { supported: 'no' });
  const lv = profile.libvirt.version;
  const withLimits = versionAtLeast(lv, ...LIBVIRT_SEV_SINCE.maxGuests);
  return el('sev', { supported: 'yes' }, [
    textEl('cbitpos', sev.cbitpos),
    textEl('reducedPhysBits', sev.reducedPhysBits),
    withLimits && textEl('maxGuests', sev.maxGuests),
    withLimits && textEl('maxESGuests', sev.maxESGuests),
    sev.cpu0Id !== undefined && textEl('cpu0Id', sev.cpu0Id),
  ]);
}

/** `<launchSecurity>` (libvirt 10.5.0+); null when this libvirt does not print it. */
export function launchSecurityFeature(profile: HardwareProfile, sev: LibvirtSevView | null): XmlWriterNode | null {
  if (!versionAtLeast(profile.libvirt.version, ...LIBVIRT_SEV_SINCE.launchSecurityCaps)) return null;
  if (!sev) return el('launchSecurity', { supported: 'no' });
  return el('launchSecurity', { supported: 'yes' }, [enumEl('sectype', sev.sectypes)]);
}

/** Features of an ARM guest that differ from x86: a GIC (the host's v3) and no VM generation ID. */
function armFeature(name: string): XmlWriterNode {
  if (name === 'gic') return el('gic', { supported: 'yes' }, [enumEl('version', ['3'])]);
  return el(name, { supported: name === 'genid' ? 'no' : 'yes' });
}

function features(profile: HardwareProfile, sev: LibvirtSevView | null, arm: boolean): XmlWriterNode {
  const lv = profile.libvirt.version;
  return el('features', {}, [
    ...FEATURE_SINCE.filter(([, since]) => versionAtLeast(lv, ...since)).map(([name]) =>
      arm ? armFeature(name) : el(name, { supported: name === 'gic' ? 'no' : 'yes' }),
    ),
    // libvirt prints <sev supported='no'/> wherever QEMU has no SEV, ARM included; Hyper-V is x86 only.
    sevFeature(profile, sev),
    versionAtLeast(lv, ...SINCE.sgx) && el('sgx', { supported: 'no' }),
    !arm && versionAtLeast(lv, ...SINCE.hyperv) &&
      el('hyperv', { supported: 'yes' }, [
        enumEl('features', ['relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', 'stimer', 'reset', 'vendor_id', 'frequencies', 'reenlightenment', 'tlbflush', 'ipi', 'evmcs']),
      ]),
    launchSecurityFeature(profile, sev),
  ]);
}

/**
 * The domain capabilities document. `sev` is the libvirt SEV view (libvirtSevView), null when
 * libvirt sees no SEV. Throws LibvirtError for bad queries, as the QEMU driver does.
 */
export function domainCapabilitiesXml(profile: HardwareProfile, sev: LibvirtSevView | null, query: DomainCapsQuery = {}): string {
  const r = resolveDomainCapsQuery(profile, query);
  const arm = r.arch === 'aarch64' || r.arch === 'armv7l';
  const lv = profile.libvirt.version;
  const memfd = versionAtLeast(lv, ...SINCE.memfd) && versionAtLeast(profile.qemu.version, 2, 12);
  const doc = el('domainCapabilities', {}, [
    textEl('path', r.emulator),
    textEl('domain', r.virttype),
    textEl('machine', r.machine.name),
    textEl('arch', r.arch),
    el('vcpu', { max: r.machine.maxCpus }),
    el('iothreads', { supported: 'yes' }),
    os(profile, r.machine),
    arm ? armDomcapsCpu(profile, r.virttype) : domcapsCpu(profile, r.virttype),
    el('memoryBacking', { supported: 'yes' }, [enumEl('sourceType', ['file', 'anonymous', ...(memfd ? ['memfd'] : [])])]),
    devices(profile, r.machine, arm),
    features(profile, arm ? null : sev, arm),
  ]);
  return formatXml(doc);
}
