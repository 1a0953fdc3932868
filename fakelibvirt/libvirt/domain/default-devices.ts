/**
 * The devices (other than controllers) libvirt 9.0's QEMU driver adds to every x86 guest in its
 * post-parse callback (qemuDomainDefAddDefaultDevices, qemu_domain.c): a PS/2 mouse and keyboard,
 * a virtio memory balloon, and the default audio backend. Each is appended after the devices of
 * its kind as written, as libvirt appends to its per-kind arrays.
 */
import { child } from '../xml-tree.ts';
import { getTop, node, type DomainDraft } from './draft.ts';

const isX86 = (arch: string) => arch === 'x86_64' || arch === 'i686';

function archOf(d: DomainDraft): string {
  const os = getTop(d, 'os');
  return (os && child(os, 'type')?.attrs.arch) || 'x86_64';
}

/** virDomainDefMaybeAddInput: only when no input of that type is on that bus yet. */
function maybeAddInput(d: DomainDraft, type: string, bus: string): void {
  if (d.devices.some((n) => n.name === 'input' && n.attrs.type === type && n.attrs.bus === bus)) return;
  d.devices.push(node('input', { type, bus }));
}

/** qemuDomainDefAddImplicitInputDevice: x86 machines always have the i8042's mouse and keyboard. */
export function addImplicitInputs(d: DomainDraft): void {
  if (!isX86(archOf(d))) return;
  maybeAddInput(d, 'mouse', 'ps2');
  maybeAddInput(d, 'keyboard', 'ps2');
}

/** x86 guests without a `<memballoon>` get a virtio one (`model='none'` is how to have none). */
export function addDefaultMemballoon(d: DomainDraft): void {
  if (!isX86(archOf(d))) return;
  if (d.devices.some((n) => n.name === 'memballoon')) return;
  d.devices.push(node('memballoon', { model: 'virtio' }));
}

/**
 * qemuDomainDefSuggestDefaultAudioBackend with qemu.conf's defaults (vnc_allow_host_audio and
 * nogfx_allow_host_audio off) and no QEMU_AUDIO_DRV in libvirtd's environment: each graphics in
 * turn decides; VNC means no host audio ('none'), SPICE its own channel ('spice'), SDL host
 * passthrough (which without QEMU_AUDIO_DRV adds nothing); other graphics leave the choice as it
 * was. A guest without graphics gets 'none'.
 */
function suggestedAudioBackend(d: DomainDraft): string | undefined {
  const graphics = d.devices.filter((n) => n.name === 'graphics');
  if (graphics.length === 0) return 'none';
  let add = false;
  let passthrough = false;
  let backend = 'none';
  for (const g of graphics) {
    if (g.attrs.type === 'vnc') {
      passthrough = false;
      backend = 'none';
      add = true;
    } else if (g.attrs.type === 'spice') {
      passthrough = false;
      backend = 'spice';
      add = true;
    } else if (g.attrs.type === 'sdl') {
      passthrough = true;
      add = true;
    }
  }
  return add && !passthrough ? backend : undefined;
}

/** qemuDomainDefAddDefaultAudioBackend: only for a guest that declares no `<audio>`; its id is 1. */
export function addDefaultAudio(d: DomainDraft): void {
  if (d.devices.some((n) => n.name === 'audio')) return;
  const type = suggestedAudioBackend(d);
  if (type !== undefined) d.devices.push(node('audio', { id: 1, type }));
}
