/**
 * The `<cpu>` part of domain capabilities for ARM guests. libvirt 9.0 has no host-model for ARM
 * and cannot judge model usability there, so every custom model is `usable='unknown'`.
 */
import type { HardwareProfile } from '../profile/schema.ts';
import { versionAtLeast } from '../profile/version.ts';
import { el, enumEl, textEl, type XmlWriterNode } from './xml.ts';

/** QEMU's ARM CPU models (qemu-system-aarch64 -cpu help) with the release that added each. */
const ARM_CPU_MODELS: readonly (readonly [string, readonly [number, number]])[] = [
  ['a64fx', [6, 2]], ['arm1026', [0, 0]], ['arm1136', [0, 0]], ['arm1136-r2', [0, 0]], ['arm1176', [0, 0]],
  ['arm11mpcore', [0, 0]], ['arm926', [0, 0]], ['arm946', [0, 0]], ['cortex-a15', [0, 0]], ['cortex-a53', [2, 9]],
  ['cortex-a57', [2, 3]], ['cortex-a7', [0, 0]], ['cortex-a72', [2, 9]], ['cortex-a76', [7, 1]], ['cortex-a8', [0, 0]],
  ['cortex-a9', [0, 0]], ['cortex-m0', [0, 0]], ['cortex-m3', [0, 0]], ['cortex-m33', [0, 0]], ['cortex-m4', [0, 0]],
  ['cortex-m55', [7, 0]], ['cortex-m7', [0, 0]], ['cortex-r5', [0, 0]], ['cortex-r5f', [0, 0]], ['max', [2, 10]],
  ['neoverse-n1', [7, 1]], ['pxa250', [0, 0]], ['pxa255', [0, 0]], ['pxa260', [0, 0]], ['pxa261', [0, 0]],
  ['pxa262', [0, 0]], ['pxa270', [0, 0]], ['pxa270-a0', [0, 0]], ['pxa270-a1', [0, 0]], ['pxa270-b0', [0, 0]],
  ['pxa270-b1', [0, 0]], ['pxa270-c0', [0, 0]], ['pxa270-c5', [0, 0]], ['sa1100', [0, 0]], ['sa1110', [0, 0]], ['ti925t', [0, 0]],
];

export function armDomcapsCpu(profile: HardwareProfile, virttype: 'kvm' | 'qemu'): XmlWriterNode {
  const kvm = virttype === 'kvm';
  const models = ARM_CPU_MODELS.filter(([, since]) => versionAtLeast(profile.qemu.version, ...since));
  return el('cpu', {}, [
    kvm
      ? el('mode', { name: 'host-passthrough', supported: 'yes' }, [enumEl('hostPassthroughMigratable', ['off'])])
      : el('mode', { name: 'host-passthrough', supported: 'no' }),
    el('mode', { name: 'maximum', supported: 'yes' }, [enumEl('maximumMigratable', ['on', 'off'])]),
    el('mode', { name: 'host-model', supported: 'no' }),
    el('mode', { name: 'custom', supported: 'yes' }, models.map(([name]) => textEl('model', name, { usable: 'unknown', vendor: 'unknown' }))),
  ]);
}
