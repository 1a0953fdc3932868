/**
 * Small device kinds: `<panic>` (model, with the QEMU driver's default and one panic per model),
 * `<hub>`, `<redirdev>`, `<smartcard>`, `<shmem>` — their virDomain*DefParseXML checks in libvirt's
 * order, and the QEMU driver's shmem post-parse and validation. Panic is rebuilt in its canonical
 * form; the others are kept as written once they pass.
 */
import { child, children, type XmlNode } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { propEnum, propTristateSwitch, propUInt } from '../props.ts';
import { CHR_TYPES, chrTypeKnown, parseChrSource } from './chardev-source.ts';
import { attrString, parseScaledValue, stringOf } from '../scaled.ts';
import { domainXmlError, guestArch, internalError, parseDeviceInfo, qemuUnsupported, unsupported } from './device-info.ts';

const PANIC_MODELS = ['default', 'isa', 'pseries', 'hyperv', 's390'];
const HUB_TYPES = ['usb'];
const REDIRDEV_BUSES = ['usb'];
const SMARTCARD_MODES = ['host', 'host-certificates', 'passthrough'] as const;
const SHMEM_MODELS = ['ivshmem', 'ivshmem-plain', 'ivshmem-doorbell'] as const;
const SHMEM_ROLES = ['default', 'master', 'peer'] as const;

/** Device info first, then the model; the QEMU driver's post-parse picks the machine's model. */
export function parsePanic(n: XmlNode, d: DomainDraft): XmlNode {
  const info = parseDeviceInfo(n);
  let model = n.attrs.model;
  if (model !== undefined && !PANIC_MODELS.includes(model)) throw unsupported(`unknown panic model '${model}'`);
  if (model === undefined || model === 'default') {
    const arch = guestArch(d);
    const machine = d.top.get('os')?.[0]?.children.find((c) => c.name === 'type')?.attrs.machine ?? '';
    model = machine.startsWith('pseries') ? 'pseries' : arch.startsWith('s390') ? 's390' : 'isa';
  }
  return node('panic', { model }, info.nodes);
}

/** virDomainDefRejectDuplicatePanics. */
export function rejectDuplicatePanics(d: DomainDraft): void {
  const seen = new Set<string>();
  for (const p of d.devices.filter((x) => x.name === 'panic')) {
    const model = p.attrs.model!;
    if (seen.has(model)) throw domainXmlError(`Multiple panic devices with model '${model}'`);
    seen.add(model);
  }
}

export function parseHub(n: XmlNode, _d: DomainDraft): XmlNode {
  const type = n.attrs.type;
  if (type === undefined) throw internalError('missing hub device type');
  if (!HUB_TYPES.includes(type)) throw unsupported(`unknown hub device type '${type}'`);
  const info = parseDeviceInfo(n);
  return node('hub', { type }, info.nodes);
}

export function parseRedirdev(n: XmlNode, d: DomainDraft): XmlNode {
  const bus = n.attrs.bus;
  if (bus !== undefined && !REDIRDEV_BUSES.includes(bus)) throw unsupported(`unknown redirdev bus '${bus}'`);
  const type = n.attrs.type;
  if (type === undefined) throw internalError('missing type in redirdev');
  if (!chrTypeKnown(type, d.ctx)) throw unsupported(`unknown redirdev character device type '${type}'`);
  const source = parseChrSource(n, type);
  const info = parseDeviceInfo(n, { boot: true });
  if (info.addressType !== undefined && info.addressType !== 'usb') throw domainXmlError('Invalid address for a USB device');
  return node('redirdev', { bus: bus ?? 'usb', type }, [...source.nodes, ...info.nodes]);
}

export function parseSmartcard(n: XmlNode, d: DomainDraft): XmlNode {
  const mode = propEnum(n, 'mode', SMARTCARD_MODES, { required: true })!;
  const kids: XmlNode[] = [];
  let type: string | undefined;
  if (mode === 'host-certificates') {
    const certs = children(n, 'certificate');
    if (certs.length !== 3) throw domainXmlError('host-certificates mode needs exactly three certificates');
    for (const c of certs) kids.push(node('certificate', {}, [], c.text));
    const db = child(n, 'database');
    if (db && db.text !== '' && !db.text.startsWith('/')) throw domainXmlError(`expecting absolute path: ${db.text}`);
    if (db && db.text !== '') kids.push(node('database', {}, [], db.text));
  } else if (mode === 'passthrough') {
    type = n.attrs.type;
    if (type === undefined) throw domainXmlError('passthrough mode requires a character device type attribute');
    if (!chrTypeKnown(type, d.ctx)) throw unsupported(`unknown type presented to host for character device: ${type}`);
    kids.push(...parseChrSource(n, type).nodes);
  }
  const info = parseDeviceInfo(n);
  return node('smartcard', { mode, type }, [...kids, ...info.nodes]);
}

export function parseShmem(n: XmlNode, _d: DomainDraft): XmlNode {
  const modelNode = child(n, 'model');
  const model = (modelNode && propEnum(modelNode, 'type', SHMEM_MODELS)) ?? 'ivshmem';
  const name = n.attrs.name;
  if (name === undefined) throw domainXmlError("shmem element must contain 'name' attribute");
  const role = model !== 'ivshmem' ? propEnum(n, 'role', SHMEM_ROLES, { nonzero: true }) : undefined;
  const sizeNode = child(n, 'size');
  let size = parseScaledValue('./size[1]', stringOf(sizeNode), attrString(sizeNode, 'unit'), 1n, 2n ** 64n - 1n, false) ?? 0n;
  // qemuDomainShmemDefPostParse: 4 MiB unless the model is the doorbell one.
  if (size === 0n && model !== 'ivshmem-doorbell') size = 4n << 20n;
  const server = child(n, 'server');
  const msi = child(n, 'msi');
  let msiNode: XmlNode | undefined;
  if (msi) {
    const vectors = propUInt(msi, 'vectors', 0);
    const ioeventfd = propTristateSwitch(msi, 'ioeventfd');
    if (!server) throw domainXmlError('msi option is only supported with a server');
    msiNode = node('msi', { vectors: vectors || undefined, ioeventfd });
  }
  const info = parseDeviceInfo(n);
  const path = server?.attrs.path;
  return node('shmem', { name, role }, [
    node('model', { type: model }),
    size > 0n && node('size', { unit: 'M' }, [], String(size >> 20n)),
    server && node('server', { path: path === undefined ? undefined : sanitizePath(path) }),
    msiNode,
    ...info.nodes,
  ]);
}

/** virFileSanitizePath: no doubled slashes, no trailing one. */
function sanitizePath(p: string): string {
  const s = p.replace(/\/{2,}/g, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

const shmemModel = (n: XmlNode) => child(n, 'model')?.attrs.type ?? 'ivshmem';

/** qemuDomainShmemDefPostParse's refusals, from the QEMU driver (the size default is filled at parse). */
export function postParseShmem(n: XmlNode): void {
  const model = shmemModel(n);
  if (model === 'ivshmem') return;
  const server = child(n, 'server') !== undefined;
  if (!server && model === 'ivshmem-doorbell') throw qemuUnsupported(`shmem model '${model}' is supported only with server option enabled`);
  if (server && model === 'ivshmem-plain') throw qemuUnsupported(`shmem model '${model}' is supported only with server option disabled`);
  if (server && child(n, 'size')) throw qemuUnsupported(`shmem model '${model}' does not support size setting`);
}

/** qemuValidateDomainDeviceDefShmem: QEMU 7.2 has ivshmem-plain and ivshmem-doorbell, not the old ivshmem. */
export function validateShmem(n: XmlNode, _d: DomainDraft): void {
  if (shmemModel(n) === 'ivshmem') throw qemuUnsupported('ivshmem device is not supported with this QEMU binary');
}
