/**
 * `<sound>` (model, HDA codecs, the audio backend it uses) and `<audio>` (a host audio backend with
 * its input/output settings): virDomainSoundDefParseXML and virDomainAudioDefParseXML with their
 * canonical forms, the common validation (audio ids), and the QEMU driver's rules.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { strToUInt } from '../c-numbers.ts';
import { ownText7, propEnum, propInt, propTristateBool, propUInt, unsupportedDomain } from '../props.ts';
import { domainXmlError, parseDeviceInfo, qemuUnsupported, unsupported } from './device-info.ts';
import { hasSpiceGraphics } from './graphics.ts';
import { knownValues, ruleApplies, type Since } from '../since.ts';

const SOUND_MODELS = ['sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'ich7'] as const;
const SOUND_CODECS = ['duplex', 'micro', 'output'];
/** The HDA models, the only ones that read `<codec>`. */
const HDA_MODELS = ['ich6', 'ich9', 'ich7'];
const AUDIO_TYPES = ['none', 'alsa', 'coreaudio', 'jack', 'oss', 'pulseaudio', 'sdl', 'spice', 'file', 'dbus'] as const;
/** formatdomain.rst: every QEMU backend "Since 7.2.0, qemu" (7.0 knows only oss, measured), dbus 8.4.0. */
const AUDIO_TYPES_SINCE: Since = { none: [7, 2], alsa: [7, 2], coreaudio: [7, 2], jack: [7, 2], pulseaudio: [7, 2], sdl: [7, 2], spice: [7, 2], file: [7, 2], dbus: [8, 4] };
const SDL_DRIVERS = ['', 'esd', 'alsa', 'arts', 'pulseaudio'] as const;
const AUDIO_FORMATS = ['', 'u8', 's8', 'u16', 's16', 'u32', 's32', 'f32'] as const;

export function parseSound(n: XmlNode, d: DomainDraft): XmlNode {
  const model = propEnum(n, 'model', SOUND_MODELS, { required: true, ...ownText7(d.ctx, (v) => unsupportedDomain(`unknown sound model '${v}'`)) })!;
  const codecs: XmlNode[] = [];
  if (HDA_MODELS.includes(model)) {
    for (const c of n.children.filter((x) => x.name === 'codec')) {
      const type = c.attrs.type;
      if (type === undefined || !SOUND_CODECS.includes(type)) throw unsupported(`unknown codec type '${type ?? '(null)'}'`);
      codecs.push(node('codec', { type }));
    }
  }
  const audio = child(n, 'audio');
  const audioId = audio ? propUInt(audio, 'id', 10, { required: true, nonzero: true }) : undefined;
  const info = parseDeviceInfo(n);
  return node('sound', { model }, [...codecs, audioId !== undefined && node('audio', { id: audioId }), ...info.nodes]);
}

/** The attributes every direction shares, then the backend's own (virDomainAudioCommonParse first). */
interface Direction {
  readonly common: Record<string, string | number | undefined>;
  readonly fixed: boolean;
  readonly settings: Record<string, string | number | undefined>;
  backend: Record<string, string | number | undefined>;
}

function parseDirection(el: XmlNode): Direction {
  const mixingEngine = propTristateBool(el, 'mixingEngine');
  const fixedSettings = propTristateBool(el, 'fixedSettings');
  if (fixedSettings === 'yes' && mixingEngine !== 'yes') throw unsupported('fixed audio settings requires mixing engine');
  const voices = propUInt(el, 'voices', 10, { nonzero: true });
  const bufferLength = propUInt(el, 'bufferLength', 10, { nonzero: true });
  const settings = child(el, 'settings');
  let s: Direction['settings'] = {};
  if (settings) {
    if (fixedSettings !== 'yes') throw unsupported('audio settings specified without fixed settings flag');
    s = {
      frequency: propUInt(settings, 'frequency', 10, { nonzero: true }),
      channels: propUInt(settings, 'channels', 10, { nonzero: true }),
      format: propEnum(settings, 'format', AUDIO_FORMATS, { nonzero: true }),
    };
  }
  return { common: { mixingEngine, fixedSettings, voices, bufferLength }, fixed: fixedSettings === 'yes', settings: s, backend: {} };
}

/** virDomainAudioCommonFormat: the element only when it carries something. */
function formatDirection(name: string, dir: Direction | undefined): XmlNode | undefined {
  if (!dir) return undefined;
  const attrs = { ...dir.common, ...dir.backend };
  if (Object.values(attrs).every((v) => v === undefined)) return undefined;
  return node(name, attrs, [dir.fixed && node('settings', dir.settings)]);
}

/** The backend's attributes on `<input>`/`<output>`, per type, in format order. */
function backendAttrs(type: string, el: XmlNode): Record<string, string | number | undefined> {
  switch (type) {
    case 'alsa':
      return { dev: el.attrs.dev };
    case 'coreaudio':
    case 'sdl': {
      const bufferCount = propUInt(el, 'bufferCount', 10);
      return { bufferCount: bufferCount || undefined };
    }
    case 'jack': {
      const exactName = propTristateBool(el, 'exactName');
      return { serverName: el.attrs.serverName, clientName: el.attrs.clientName, connectPorts: el.attrs.connectPorts, exactName };
    }
    case 'oss': {
      const tryPoll = propTristateBool(el, 'tryPoll');
      const bufferCount = propUInt(el, 'bufferCount', 10);
      return { dev: el.attrs.dev, bufferCount: bufferCount || undefined, tryPoll };
    }
    case 'pulseaudio': {
      const latency = propUInt(el, 'latency', 10);
      return { name: el.attrs.name, streamName: el.attrs.streamName, latency: latency || undefined };
    }
    default:
      return {};
  }
}

export function parseAudio(n: XmlNode, d: DomainDraft): XmlNode {
  if (ruleApplies('ossAudioNeedsInputOutput', d.ctx)) return parseAudioOss(n);
  const type = propEnum(n, 'type', knownValues(AUDIO_TYPES, AUDIO_TYPES_SINCE, d.ctx), { required: true })!;
  const id = propUInt(n, 'id', 10, { required: true, nonzero: true })!;
  const timerPeriod = propUInt(n, 'timerPeriod', 10, { nonzero: true });
  const inputEl = child(n, 'input');
  const outputEl = child(n, 'output');
  const input = inputEl && parseDirection(inputEl);
  const output = outputEl && parseDirection(outputEl);
  const attrs: Record<string, string | number | undefined> = { id, type, timerPeriod };
  if (type === 'oss') {
    attrs.tryMMap = propTristateBool(n, 'tryMMap');
    attrs.exclusive = propTristateBool(n, 'exclusive');
    const dspPolicy = propInt(n, 'dspPolicy', 10);
    if (dspPolicy !== undefined && dspPolicy < 0) throw domainXmlError(`cannot parse 'dspPolicy' value '${dspPolicy}'`);
    attrs.dspPolicy = dspPolicy;
  } else if (type === 'pulseaudio') attrs.serverName = n.attrs.serverName;
  else if (type === 'sdl') attrs.driver = propEnum(n, 'driver', SDL_DRIVERS, { nonzero: true });
  else if (type === 'file') attrs.path = n.attrs.path;
  // The backend's own attributes are read after the common ones of both directions.
  if (input && inputEl) input.backend = backendAttrs(type, inputEl);
  if (output && outputEl) output.backend = backendAttrs(type, outputEl);
  return node('audio', attrs, [formatDirection('input', input), formatDirection('output', output)]);
}

/**
 * libvirt 7.0's `<audio>` (OSS its only backend): the type and id with their own texts, and both
 * directions required; nothing else is read (measured against 7.0 in the bullseye container).
 */
function parseAudioOss(n: XmlNode): XmlNode {
  const type = n.attrs.type;
  if (type !== 'oss') throw unsupported(`unknown audio type '${type ?? '(null)'}'`);
  const idText = n.attrs.id;
  const id = idText === undefined ? null : strToUInt(idText, 10);
  if (id === null || id === 0) throw domainXmlError(`invalid audio 'id' value '${idText ?? '(null)'}'`);
  const inputEl = child(n, 'input');
  const outputEl = child(n, 'output');
  if (!inputEl || !outputEl) throw unsupported('Audio type OSS requires to have <input> and <output> specified');
  return node('audio', { id, type }, [node('input', { dev: inputEl.attrs.dev }), node('output', { dev: outputEl.attrs.dev })]);
}

const audioIds = (d: DomainDraft) => d.devices.filter((x) => x.name === 'audio').map((x) => x.attrs.id);

/** virDomainSoundDefValidate, then qemuValidateDomainDeviceDefSound (QEMU 7.2 has usb-audio, ich9 and every HDA codec). */
export function validateSound(n: XmlNode, d: DomainDraft): void {
  const audioId = child(n, 'audio')?.attrs.id;
  if (audioId !== undefined && !audioIds(d).includes(audioId)) throw domainXmlError(`no audio device with ID ${audioId}`);
  if (n.attrs.model === 'ich7') {
    throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, "sound card model 'ich7' is not supported by qemu");
  }
}

/** virDomainAudioDefValidate, then qemuValidateDomainDeviceDefAudio. */
export function validateAudio(n: XmlNode, d: DomainDraft): void {
  const id = n.attrs.id;
  if (d.devices.some((x) => x !== n && x.name === 'audio' && x.attrs.id === id)) throw domainXmlError(`audio ID ${id} is used multiple times`);
  if (n.attrs.type === 'spice' && !hasSpiceGraphics(d)) throw qemuUnsupported('Spice audio is not supported without spice graphics');
}
