/**
 * The guest-XML rules of the catalogue as pure functions of a parsed domain: slash paths with
 * `[attr=value]` filters (`devices/controller[type=virtio-serial]/driver`) and the device rules
 * (iommu on virtio devices, no iOMMU on the rest, NIC ROM off, an SEV-capable OVMF loader).
 * Each returns what is wrong, in words; an empty list means the XML keeps the rule.
 */
import { parseDevice } from '../../fakelibvirt/libvirt/domain-def.ts';
import { attrString, elementKiB, parseMemoryLimitKiB, stringOf } from '../../fakelibvirt/libvirt/domain/scaled.ts';
import { EXTRA_REGIONS_PADDING_KIB, extraRegionsKiB } from '../../src/sev/qemu-regions.ts';
import { children, type XmlNode } from '../../fakelibvirt/libvirt/xml-tree.ts';
import type { XmlDeviceRule, XmlRule } from '../catalogue/types.ts';
import type { ProfileTruth } from '../truth.ts';

interface Step {
  readonly name: string;
  readonly filters: ReadonlyArray<readonly [string, string]>;
}

function parseStep(text: string): Step {
  const m = /^([A-Za-z_][\w.-]*)((?:\[[\w.-]+=[^\]]*\])*)$/.exec(text);
  if (!m) throw new Error(`bad XML rule path step '${text}'`);
  const filters = [...m[2]!.matchAll(/\[([\w.-]+)=([^\]]*)\]/g)].map((f) => [f[1]!, f[2]!] as const);
  return { name: m[1]!, filters };
}

/**
 * The value a filter tests: the element's own attribute, else its `<target>`'s or `<model>`'s, as
 * libvirt keeps a disk's bus on its target and an interface's model on a child.
 */
function filterValue(node: XmlNode, attr: string): string | undefined {
  if (node.attrs[attr] !== undefined) return node.attrs[attr];
  for (const sub of ['target', 'model']) {
    const v = children(node, sub).find((c) => c.attrs[attr] !== undefined)?.attrs[attr];
    if (v !== undefined) return v;
  }
  return undefined;
}

function matchesStep(node: XmlNode, step: Step): boolean {
  return node.name === step.name && step.filters.every(([a, v]) => filterValue(node, a) === v);
}

/** Every element at `path` below `root`, with its parent. */
export function select(root: XmlNode, path: string): Array<{ node: XmlNode; parent: XmlNode }> {
  let level: Array<{ node: XmlNode; parent: XmlNode }> = [{ node: root, parent: root }];
  for (const step of path.split('/').filter(Boolean).map(parseStep)) {
    level = level.flatMap(({ node }) => node.children.filter((c) => matchesStep(c, step)).map((c) => ({ node: c, parent: node })));
  }
  return level;
}

/** Numbers compare by value (`0x33` = `0x0033`), anything else as trimmed text. */
function sameText(actual: string, expected: string): boolean {
  const a = actual.trim();
  const e = expected.trim();
  if (a === e) return true;
  const num = (s: string) => (/^(0x[0-9a-f]+|\d+)$/i.test(s) ? Number(s) : NaN);
  return !Number.isNaN(num(a)) && num(a) === num(e);
}

function describeNode(n: XmlNode): string {
  const attrs = Object.entries(n.attrs).map(([k, v]) => ` ${k}='${v}'`).join('');
  return n.text ? `<${n.name}${attrs}>${n.text}</${n.name}>` : `<${n.name}${attrs}/>`;
}

/** What is wrong with one element against a rule's text/attrs/last; empty when it matches. */
function mismatches(rule: XmlRule, hit: { node: XmlNode; parent: XmlNode }): string[] {
  const out: string[] = [];
  if (rule.text !== undefined && !sameText(hit.node.text, rule.text)) out.push(`text '${hit.node.text}', expected '${rule.text}'`);
  for (const [k, v] of Object.entries(rule.attrs ?? {})) {
    if (hit.node.attrs[k] !== v) out.push(`${k}=${hit.node.attrs[k] === undefined ? '(absent)' : `'${hit.node.attrs[k]}'`}, expected '${v}'`);
  }
  if (rule.last && hit.parent.children.at(-1) !== hit.node) out.push(`not the last child of <${hit.parent.name}>`);
  return out;
}

export function checkPathRule(root: XmlNode, rule: XmlRule): string[] {
  const hits = select(root, rule.path);
  if (rule.present === false) return hits.length ? [`${rule.path} must be absent, found ${describeNode(hits[0]!.node)}`] : [];
  if (hits.length === 0) return rule.present === true ? [`${rule.path} is missing`] : [];
  const bad = hits.map((h) => mismatches(rule, h));
  if (rule.present === 'may') {
    const first = bad.find((b) => b.length);
    return first ? [`${rule.path}: ${first.join(', ')}`] : [];
  }
  return bad.some((b) => b.length === 0) ? [] : [`${rule.path}: ${bad[0]!.join(', ')}`];
}

// ---- device rules ----------------------------------------------------------------------------

const VIRTIO_MODEL = /^virtio(-(non-)?transitional|-scsi)?$/;

/** Whether a device under <devices> is a virtio device (it then needs the DMA API under SEV). */
export function isVirtioDevice(d: XmlNode): boolean {
  const target = children(d, 'target')[0];
  const model = children(d, 'model')[0];
  switch (d.name) {
    case 'disk':
      return target?.attrs.bus === 'virtio';
    case 'controller':
      return d.attrs.type === 'virtio-serial' || (d.attrs.type === 'scsi' && d.attrs.model === 'virtio-scsi');
    case 'interface':
      return VIRTIO_MODEL.test(model?.attrs.type ?? '');
    case 'video':
      return VIRTIO_MODEL.test(model?.attrs.type ?? '');
    case 'rng':
    case 'memballoon':
      return VIRTIO_MODEL.test(d.attrs.model ?? '');
    case 'input':
      return d.attrs.bus === 'virtio';
    case 'vsock':
      return true;
    case 'filesystem':
      return children(d, 'driver').some((x) => x.attrs.type === 'virtiofs');
    default:
      return false;
  }
}

const iommuOn = (d: XmlNode): boolean => children(d, 'driver').some((x) => x.attrs.iommu === 'on');

function label(d: XmlNode): string {
  const target = children(d, 'target')[0];
  const model = children(d, 'model')[0];
  const detail = target?.attrs.dev ?? d.attrs.type ?? model?.attrs.type ?? d.attrs.model ?? '';
  return detail ? `${d.name} ${detail}` : d.name;
}

/** Secure-boot OVMF variants (SMM, Microsoft keys) and stateless amdsev builds are not the plain SEV firmware. */
const NOT_PLAIN_OVMF = /secboot|\.ms\.|secure|snakeoil|amdsev|inteltdx/i;

export function checkDeviceRule(root: XmlNode, rule: XmlDeviceRule, truth: ProfileTruth): string[] {
  const devices = children(root, 'devices').flatMap((d) => d.children);
  switch (rule.rule) {
    case 'iommu-on-every-virtio-device': {
      const bare = devices.filter((d) => isVirtioDevice(d) && !iommuOn(d));
      return bare.length ? [`virtio device(s) without <driver iommu='on'/>: ${bare.map(label).join(', ')}`] : [];
    }
    case 'no-iommu-on': {
      const bad = rule.devices.flatMap((sel) => select(root, `devices/${sel}`).map((h) => h.node)).filter(iommuOn);
      return bad.length ? [`iommu='on' on non-virtio device(s): ${bad.map(label).join(', ')}`] : [];
    }
    case 'virtio-nic-rom-disabled': {
      const nics = devices.filter((d) => d.name === 'interface' && isVirtioDevice(d));
      const romOn = nics.filter((n) => !children(n, 'rom').some((r) => r.attrs.enabled === 'no' || r.attrs.bar === 'off'));
      return romOn.length ? [`virtio NIC(s) still load an option ROM (no <rom enabled='no'/>): ${romOn.map(label).join(', ')}`] : [];
    }
    case 'memory-pinnable':
      return memoryPinnable(root);
    case 'loader-is-sev-capable-ovmf': {
      const loader = select(root, 'os/loader')[0]?.node;
      if (!loader) return ['os/loader is missing'];
      const path = loader.text.trim();
      const installed = truth.profile.qemu.ovmf.map((o) => o.code);
      if (!installed.includes(path)) return [`loader '${path}' is not an OVMF image installed on the host (${installed.join(', ') || 'none'})`];
      if (NOT_PLAIN_OVMF.test(path)) return [`loader '${path}' is a secure-boot or stateless OVMF variant, not the plain SEV-capable build`];
      return [];
    }
  }
}

/**
 * `<locked/>`, or a hard limit covering what QEMU pins (RAM, video RAM, its ROM/ACPI regions) plus
 * nova's padding: the size below which the memory cgroup ends QEMU during the launch
 * (fakelibvirt/qemu/process.ts, sev-hardware.md §5.2, §5.3).
 */
function memoryPinnable(root: XmlNode): string[] {
  if (select(root, 'memoryBacking/locked').length) return [];
  const limit = select(root, 'memtune/hard_limit')[0]?.node;
  if (!limit) return ["neither <memoryBacking><locked/> nor <memtune><hard_limit>: QEMU's pinning stops at the host's default RLIMIT_MEMLOCK"];
  let limitKiB: bigint | undefined;
  let ramKiB: bigint;
  try {
    limitKiB = parseMemoryLimitKiB('./memtune/hard_limit[1]', stringOf(limit), attrString(limit, 'unit'));
    ramKiB = elementKiB('./memory[1]', children(root, 'memory')[0]);
  } catch (e) {
    return [`memory sizes unreadable: ${(e as Error).message}`];
  }
  if (limitKiB === undefined) return [];
  const video = children(root, 'devices').flatMap((d) => children(d, 'video')).reduce((sum, v) => sum + parseDevice(v).videoRamKiB, 0);
  const uefi = select(root, 'os/loader').length > 0 || children(root, 'os').some((o) => o.attrs.firmware === 'efi');
  const needKiB = ramKiB + BigInt(video + extraRegionsKiB(uefi ? 'uefi' : 'bios') + EXTRA_REGIONS_PADDING_KIB);
  return limitKiB >= needKiB ? [] : [`<memtune><hard_limit> of ${limitKiB} KiB is below what QEMU pins plus padding (${needKiB} KiB: RAM ${ramKiB}, video ${video}, QEMU regions and ${EXTRA_REGIONS_PADDING_KIB} KiB)`];
}
