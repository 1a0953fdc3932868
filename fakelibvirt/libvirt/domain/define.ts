/**
 * virDomainDefineXML's work on the document, organised as libvirt's is (conf/domain_conf.c and the
 * QEMU driver's callbacks): parse each part in libvirt's order (so the first error is the one
 * libvirt reports), post-parse (defaults, implicit devices, addresses), validate (common, then the
 * QEMU driver's rules), and assemble the canonical XML in libvirt's format order. The result is the
 * tree libvirt would format back as the inactive XML.
 */
import type { XmlNode } from '../xml-tree.ts';
import type { DomainContext } from './context.ts';
import { newDraft, node, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { DEVICE_FORMAT_ORDER, deviceParseSteps } from './devices/index.ts';
import * as general from './general.ts';
import * as memory from './memory.ts';
import * as tunables from './tunables.ts';
import * as os from './os.ts';
import * as features from './features.ts';
import * as lifecycle from './lifecycle.ts';
import * as security from './security.ts';
import * as launchSecurity from './launch-security.ts';
import * as implicitDevices from './implicit-devices.ts';
import * as addresses from './addresses.ts';
import * as qemuValidate from './qemu-validate.ts';
import { selectFirmware } from './firmware-select.ts';
import { postParseDevicesB, validateDevicesB } from './devices/kinds-b.ts';
import { validateDevicesC } from './devices/kinds-c.ts';

/** virDomainDefParseXML's order: IDs, security labels, memory, tunables, CPU, NUMA, … devices. */
const PARSE: readonly DraftStep[] = [
  general.parseIds,
  os.parseCaps,
  general.parseTitle,
  security.parseSeclabels,
  memory.parseMemory,
  tunables.parseTunables,
  tunables.parseCpu,
  tunables.parseNumatune,
  tunables.parseResource,
  features.parseFeatures,
  lifecycle.parseLifecycle,
  lifecycle.parsePerf,
  lifecycle.parseClock,
  os.parseBootOptions,
  ...deviceParseSteps(launchSecurity.parseLaunchSecurity),
  os.parseIdmap,
  os.parseSysinfo,
  security.parseKeywrap,
  general.parseMetadata,
  lifecycle.parsePm,
];

/** virDomainDefPostParse: the driver's basic callback, device defaults, implicit devices, addresses. */
const POST_PARSE: readonly DraftStep[] = [
  os.postParseMachine,
  // qemuDomainDefBootPostParse: firmware autoselection, at define from 9.2.
  selectFirmware,
  general.postParse,
  memory.postParse,
  tunables.postParse,
  os.postParse,
  features.postParse,
  lifecycle.postParse,
  // Video and chardev post-parse come before the implicit devices (console/serial pairing, video).
  postParseDevicesB,
  implicitDevices.postParse,
  addresses.assignAddresses,
];

/** virDomainDefValidate: common rules, then the QEMU driver's (qemu_validate.c). */
const VALIDATE: readonly DraftStep[] = [
  general.validate,
  memory.validate,
  tunables.validate,
  os.validate,
  features.validate,
  // qemuValidateDomainDef's last rules (launch security) come before any device is validated.
  qemuValidate.validate,
  implicitDevices.validate,
  validateDevicesB,
  validateDevicesC,
];

/** virDomainDefFormatInternal's order of the top-level elements. */
const FORMAT_ORDER: readonly string[] = [
  'name', 'uuid', 'genid', 'title', 'description', 'metadata', 'maxMemory', 'memory', 'currentMemory',
  'blkiotune', 'memtune', 'memoryBacking', 'vcpu', 'vcpus', 'iothreads', 'iothreadids', 'defaultiothread',
  'cputune', 'numatune', 'resource', 'sysinfo', 'bootloader', 'bootloader_args', 'os', 'idmap', 'features',
  'cpu', 'clock', 'on_poweroff', 'on_reboot', 'on_crash', 'on_lockfailure', 'pm', 'perf', 'devices',
  'seclabel', 'keywrap', 'launchSecurity',
];

/** Runs the whole define pipeline on a parsed `<domain>` element. */
export function defineDomain(input: XmlNode, ctx: DomainContext): XmlNode {
  const draft = newDraft(input, ctx);
  for (const step of PARSE) step(draft);
  for (const step of POST_PARSE) step(draft);
  for (const step of VALIDATE) step(draft);
  implicitDevices.beforeFormat(draft);
  return assemble(draft);
}

function assemble(d: DomainDraft): XmlNode {
  const kids: XmlNode[] = [];
  for (const name of FORMAT_ORDER) {
    if (name === 'devices') {
      kids.push(devicesElement(d));
      continue;
    }
    for (const n of d.top.get(name) ?? []) kids.push(n);
  }
  // Elements of other namespaces libvirt keeps (qemu:commandline …) come last, as it formats them.
  for (const [name, nodes] of d.top) if (!FORMAT_ORDER.includes(name)) kids.push(...nodes);
  return node('domain', d.rootAttrs, kids);
}

function devicesElement(d: DomainDraft): XmlNode {
  const rank = (n: XmlNode) => {
    const i = DEVICE_FORMAT_ORDER.indexOf(n.name);
    return i < 0 ? DEVICE_FORMAT_ORDER.length : i;
  };
  const sorted = d.devices.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i).map((x) => x.n);
  return node('devices', {}, [d.emulator !== undefined && textNode('emulator', d.emulator), ...sorted]);
}
