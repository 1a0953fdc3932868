/**
 * The `<cpu>` part of domain capabilities: host-passthrough, maximum, host-model (the profile's
 * libvirt model) and the custom model list, with usability decided by CPU generation.
 */
import type { Generation, HardwareProfile } from '../profile/schema.ts';
import { versionAtLeast } from '../profile/version.ts';
import { vendorName } from './capabilities.ts';
import { el, enumEl, textEl, type XmlWriterNode } from './xml.ts';

interface CpuModel {
  readonly name: string;
  readonly vendor: 'AMD' | 'Intel' | 'unknown';
  /** QEMU release that added the model. */
  readonly qemuSince: readonly [number, number];
  /** AMD generations that can run it (Intel models: the intel host only). */
  readonly runsOn: readonly Generation[];
}

const ZEN = ['naples', 'rome', 'milan', 'genoa', 'turin', 'client'] as const satisfies readonly Generation[];
const ALL: readonly Generation[] = [...ZEN, 'intel'];

/** Data, not logic: a representative slice of QEMU's x86 model table, newest first as libvirt sorts. */
const CPU_MODELS: readonly CpuModel[] = [
  { name: 'qemu64', vendor: 'unknown', qemuSince: [0, 0], runsOn: ALL },
  { name: 'qemu32', vendor: 'unknown', qemuSince: [0, 0], runsOn: ALL },
  { name: 'kvm64', vendor: 'unknown', qemuSince: [0, 0], runsOn: ALL },
  { name: 'Skylake-Server-IBRS', vendor: 'Intel', qemuSince: [2, 12], runsOn: ['intel'] },
  { name: 'Skylake-Server', vendor: 'Intel', qemuSince: [2, 12], runsOn: ['intel'] },
  { name: 'Icelake-Server', vendor: 'Intel', qemuSince: [3, 0], runsOn: ['intel'] },
  { name: 'Cascadelake-Server', vendor: 'Intel', qemuSince: [3, 1], runsOn: ['intel'] },
  { name: 'Haswell-noTSX', vendor: 'Intel', qemuSince: [2, 3], runsOn: ['intel'] },
  { name: 'Opteron_G5', vendor: 'AMD', qemuSince: [1, 2], runsOn: [] },
  { name: 'EPYC-Turin', vendor: 'AMD', qemuSince: [9, 1], runsOn: ['turin'] },
  { name: 'EPYC-Genoa', vendor: 'AMD', qemuSince: [8, 1], runsOn: ['genoa', 'turin'] },
  { name: 'EPYC-Milan', vendor: 'AMD', qemuSince: [6, 0], runsOn: ['milan', 'genoa', 'turin'] },
  { name: 'EPYC-Rome', vendor: 'AMD', qemuSince: [5, 0], runsOn: ['rome', 'milan', 'genoa', 'turin', 'client'] },
  { name: 'EPYC-IBPB', vendor: 'AMD', qemuSince: [2, 12], runsOn: ZEN },
  { name: 'EPYC', vendor: 'AMD', qemuSince: [2, 12], runsOn: ZEN },
  { name: 'Dhyana', vendor: 'unknown', qemuSince: [4, 0], runsOn: ZEN },
];

/** AMD host-model features libvirt adds on top of the named model (KVM-visible SVM bits). */
const HOST_MODEL_FEATURES: Readonly<Record<'AMD' | 'Intel', readonly string[]>> = {
  AMD: ['x2apic', 'tsc-deadline', 'hypervisor', 'tsc_adjust', 'cmp_legacy', 'invtsc', 'virt-ssbd', 'lbrv', 'tsc-scale', 'vmcb-clean', 'pause-filter', 'pfthreshold', 'v-vmsave-vmload', 'vgif'],
  Intel: ['vme', 'ss', 'x2apic', 'tsc-deadline', 'hypervisor', 'arat', 'tsc_adjust', 'invtsc', 'pdcm', 'md-clear'],
};

const SINCE = {
  hostPassthroughMigratable: [6, 5, 0],
  maximum: [7, 9, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

export function domcapsCpu(profile: HardwareProfile, virttype: 'kvm' | 'qemu'): XmlWriterNode {
  const lv = profile.libvirt.version;
  const kvm = virttype === 'kvm';
  const onOff = ['on', 'off'];
  const models = CPU_MODELS.filter((m) => versionAtLeast(profile.qemu.version, ...m.qemuSince));
  // Only x86 hosts come here (domcaps-cpu-arm.ts serves ARM guests).
  const vendor = vendorName(profile) === 'Intel' ? 'Intel' : 'AMD';
  return el('cpu', {}, [
    kvm
      ? el(
          'mode',
          { name: 'host-passthrough', supported: 'yes' },
          versionAtLeast(lv, ...SINCE.hostPassthroughMigratable) ? [enumEl('hostPassthroughMigratable', onOff)] : [],
        )
      : el('mode', { name: 'host-passthrough', supported: 'no' }),
    versionAtLeast(lv, ...SINCE.maximum) && el('mode', { name: 'maximum', supported: 'yes' }, [enumEl('maximumMigratable', onOff)]),
    el('mode', { name: 'host-model', supported: 'yes' }, [
      textEl('model', kvm ? profile.cpu.libvirtModel : 'qemu64', { fallback: 'forbid' }),
      textEl('vendor', kvm ? vendor : 'AMD'),
      ...(kvm ? HOST_MODEL_FEATURES[vendor] : []).map((name) => el('feature', { policy: 'require', name })),
    ]),
    el(
      'mode',
      { name: 'custom', supported: 'yes' },
      models.map((m) =>
        textEl('model', m.name, { usable: !kvm || m.runsOn.includes(profile.generation) ? 'yes' : 'no', vendor: m.vendor }),
      ),
    ),
  ]);
}
