/**
 * virDomainDefineXML's work on the document, organised as libvirt's is (conf/domain_conf.c and the
 * QEMU driver's callbacks), in three visible stages: parse (parse-steps.ts), post-parse
 * (post-parse-steps.ts: defaults, firmware, implicit devices, addresses) and validate
 * (validate-steps.ts: common, then the QEMU driver's rules); then the canonical XML is assembled in
 * libvirt's format order. The result is the tree libvirt would format back as the inactive XML.
 */
import type { XmlNode } from '../xml-tree.ts';
import type { DomainContext } from './context.ts';
import { newDraft, node, textNode, type DomainDraft, type Draw } from './draft.ts';
import { DEVICE_FORMAT_ORDER } from './devices/index.ts';
import * as implicitDevices from './implicit-devices.ts';
import { PARSE_STEPS } from './parse-steps.ts';
import { POST_PARSE_STEPS } from './post-parse-steps.ts';
import { VALIDATE_STEPS } from './validate-steps.ts';

/** virDomainDefFormatInternal's order of the top-level elements. */
const FORMAT_ORDER: readonly string[] = [
  'name', 'uuid', 'genid', 'title', 'description', 'metadata', 'maxMemory', 'memory', 'currentMemory',
  'blkiotune', 'memtune', 'memoryBacking', 'vcpu', 'vcpus', 'iothreads', 'iothreadids', 'defaultiothread',
  'cputune', 'numatune', 'resource', 'sysinfo', 'bootloader', 'bootloader_args', 'os', 'idmap', 'features',
  'cpu', 'clock', 'on_poweroff', 'on_reboot', 'on_crash', 'on_lockfailure', 'pm', 'perf', 'devices',
  'seclabel', 'keywrap', 'launchSecurity',
];

/** Runs the whole define pipeline on a parsed `<domain>` element; its random draws go to `draws`. */
export function defineDomain(input: XmlNode, ctx: DomainContext, draws: Draw[] = []): XmlNode {
  const draft = newDraft(input, ctx, draws);
  for (const step of PARSE_STEPS) step(draft);
  for (const step of POST_PARSE_STEPS) step(draft);
  for (const step of VALIDATE_STEPS) step(draft);
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
