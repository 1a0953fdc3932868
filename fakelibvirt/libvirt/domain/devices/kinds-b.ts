/**
 * The device kinds other than disk/controller/filesystem/hostdev: their parsers by element name,
 * and their validation (run on the canonical devices after post-parse, as virDomainDefValidate's
 * per-device callbacks and the QEMU driver's are).
 */
import type { XmlNode } from '../../xml-tree.ts';
import type { DomainDraft, DraftStep } from '../draft.ts';
import { checkConsoles, parseChardev, postParseChardevs, validateChrSource, validateConsoleTargets } from './chardev.ts';
import { parseGraphics, validateGraphics } from './graphics.ts';
import { parseTpm, validateTpm } from './tpm.ts';
import { parseHub, parsePanic, parseRedirdev, parseShmem, parseSmartcard, postParseShmem, rejectDuplicatePanics, validateShmem } from './peripherals.ts';
import { parseAudio, parseSound, validateAudio, validateSound } from './sound.ts';
import { parseInput, validateInput } from './input.ts';
import { parseInterface } from './interface.ts';
import { parseIommu, parseMemballoon, parseMemoryDevice, parseRng, parseVsock, parseWatchdog, validateIommu, validateMemoryDevice, validateRng, validateWatchdog } from './misc.ts';
import { qemuUnsupported, validateDeviceAddress } from './device-info.ts';
import { osOf } from '../os.ts';
import { parseVideo, postParseVideos, validateVideos } from './video.ts';
import { validateInterface } from './interface.ts';
import { validateCrypto } from './crypto.ts';

type Parser = (input: XmlNode, draft: DomainDraft) => XmlNode;

export const DEVICE_B_PARSERS: Record<string, Parser> = {
  interface: parseInterface,
  serial: parseChardev,
  parallel: parseChardev,
  console: parseChardev,
  channel: parseChardev,
  input: parseInput,
  graphics: parseGraphics,
  tpm: parseTpm,
  sound: parseSound,
  audio: parseAudio,
  panic: parsePanic,
  hub: parseHub,
  redirdev: parseRedirdev,
  smartcard: parseSmartcard,
  shmem: parseShmem,
  video: parseVideo,
  watchdog: parseWatchdog,
  memballoon: parseMemballoon,
  rng: parseRng,
  iommu: parseIommu,
  vsock: parseVsock,
  memory: parseMemoryDevice,
};

const VALIDATORS: Record<string, (dev: XmlNode, d: DomainDraft) => void> = {
  interface: validateInterface,
  crypto: validateCrypto,
  input: validateInput,
  graphics: validateGraphics,
  tpm: validateTpm,
  sound: validateSound,
  audio: validateAudio,
  shmem: validateShmem,
  serial: validateChrSource,
  parallel: validateChrSource,
  console: validateChrSource,
  channel: validateChrSource,
  memory: validateMemoryDevice,
  watchdog: validateWatchdog,
  rng: validateRng,
  iommu: validateIommu,
  nvram: validateNvram,
};

/** qemuValidateDomainDeviceDefNVRAM: the spapr-vio NVRAM device exists only on pseries guests. */
function validateNvram(_dev: XmlNode, d: DomainDraft): void {
  if (osOf(d).arch !== 'ppc64' && osOf(d).arch !== 'ppc64le') throw qemuUnsupported('nvram device is only supported for PPC64');
}

/** The device post-parse of these kinds, in virDomainDeviceInfoIterate's order (videos before chardevs). */
export const postParseDevicesB: DraftStep = (d) => {
  postParseVideos(d);
  postParseChardevs(d);
};

/** The per-device validation of these kinds, in device order. */
export const validateDevicesB: DraftStep = (d) => {
  // Post-parse refusals of these kinds (libvirt raises them before any device is validated).
  for (const dev of d.devices) if (dev.name === 'shmem') postParseShmem(dev);
  rejectDuplicatePanics(d);
  checkConsoles(d);
  validateConsoleTargets(d);
  const { arch, machine } = osOf(d);
  for (const dev of d.devices) {
    validateDeviceAddress(dev, arch, machine);
    VALIDATORS[dev.name]?.(dev, d);
  }
  validateVideos(d);
};
