/**
 * The devices of a domain: libvirt parses them kind by kind (`./devices/disk` across the whole
 * document, then controllers, …), so the first error is from the first kind in this order, not the
 * first device in the document; it formats them kind by kind in its own order.
 */
import type { XmlNode } from '../../xml-tree.ts';
import { inputDevices, type DomainDraft, type DraftStep } from '../draft.ts';
import { diskNameParse } from './disk-rules.ts';
import { parseRedirfilters } from './redirfilter.ts';
import { DEVICE_B_PARSERS } from './kinds-b.ts';
import { DEVICE_C_PARSERS } from './kinds-c.ts';
import { parseController } from './controller.ts';
import { parseDisk } from './disk.ts';
import { parseCrypto } from './crypto.ts';
import { ruleApplies } from '../since.ts';

/** Turns one `<KIND>` element as written into its canonical form, or throws libvirt's error. */
export type DeviceParser = (input: XmlNode, draft: DomainDraft) => XmlNode;

/** Device parsers by element name; a kind without one is kept as written (not modelled yet). */
const PARSERS: Partial<Record<string, DeviceParser>> = { ...DEVICE_B_PARSERS, ...DEVICE_C_PARSERS, disk: parseDisk, controller: parseController, crypto: parseCrypto };

/** virDomainDefParseXML's device order (launchSecurity is parsed between shmem and memory). */
export const DEVICE_PARSE_ORDER: readonly string[] = [
  'disk', 'controller', 'lease', 'filesystem', 'interface', 'smartcard', 'parallel', 'serial', 'console',
  'channel', 'input', 'graphics', 'sound', 'audio', 'video', 'hostdev', 'watchdog', 'memballoon', 'rng', 'crypto', 'tpm',
  'nvram', 'hub', 'redirdev', 'redirfilter', 'panic', 'shmem', 'memory', 'iommu', 'vsock',
];

/** virDomainDefFormatInternal's device order. */
export const DEVICE_FORMAT_ORDER: readonly string[] = [
  'disk', 'controller', 'lease', 'filesystem', 'interface', 'smartcard', 'serial', 'parallel', 'console',
  'channel', 'input', 'tpm', 'graphics', 'sound', 'audio', 'video', 'hostdev', 'redirdev', 'redirfilter', 'hub',
  'watchdog', 'memballoon', 'rng', 'nvram', 'panic', 'shmem', 'memory', 'crypto', 'iommu', 'vsock',
];

function parseKind(kind: string): DraftStep {
  if (kind === 'disk') return parseDisks;
  if (kind === 'redirfilter') return parseRedirfilters;
  return (d) => {
    // Before 9.1 libvirt does not know `<crypto>`: the element is dropped unread.
    if (kind === 'crypto' && !ruleApplies('cryptoDevice', d.ctx)) return;
    const parse = PARSERS[kind];
    for (const input of inputDevices(d, kind)) d.devices.push(parse ? parse(input, d) : input);
  };
}

/**
 * Disks are the first kind parsed, and virDomainDiskInsert keeps each bus's disks in drive order:
 * a disk goes before the first later disk of its bus (as written: a bus left out is its own group)
 * with a greater drive index, else right after the last disk of its bus, else at the end.
 */
const parseDisks: DraftStep = (d) => {
  const parse = PARSERS.disk;
  const placed: { bus: string | undefined; index: number }[] = [];
  for (const input of inputDevices(d, 'disk')) {
    const target = input.children.find((c) => c.name === 'target');
    const dev = target?.attrs.dev;
    const disk = { bus: target?.attrs.bus, index: dev === undefined ? -1 : (diskNameParse(dev)?.index ?? -1) };
    const canonical = parse ? parse(input, d) : input;
    let at = -1;
    for (let i = placed.length - 1; i >= 0; i--) {
      const other = placed[i]!;
      if (other.bus !== disk.bus) continue;
      if (dev !== undefined && other.index > disk.index) at = i;
      else if (at === -1) at = i + 1;
    }
    if (at === -1) at = placed.length;
    placed.splice(at, 0, disk);
    d.devices.splice(at, 0, canonical);
  }
};

const parseEmulator: DraftStep = (d) => {
  const e = inputDevices(d, 'emulator')[0];
  if (e !== undefined && e.text !== '') d.emulator = e.text;
};

/** The device steps in libvirt's order, with `launchSecurity` in its place among them. */
export function deviceParseSteps(launchSecurity: DraftStep): DraftStep[] {
  const steps: DraftStep[] = [parseEmulator];
  for (const kind of DEVICE_PARSE_ORDER) {
    if (kind === 'memory') steps.push(launchSecurity);
    steps.push(parseKind(kind));
  }
  return steps;
}
