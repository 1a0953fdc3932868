/**
 * The domain's identity as libvirt parses it (conf/domain_conf.c virDomainDefParseIDs and the
 * virt-type half of virDomainDefParseCaps): the root's `type`, name, uuid, genid, title,
 * description and metadata, with libvirt's texts and its canonical forms (UUIDs in dashed lower
 * case, a UUID generated when none is given, metadata reduced to one namespaced element per URI).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { draw, inputAll, inputFirst, node, setTop, textNode, type DraftStep } from './draft.ts';
import { stringOf } from './scaled.ts';

/** virDomainVirt (VIR_ENUM_IMPL order); "none" parses but no driver runs it. */
export const VIRT_TYPES = [
  'none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp',
  'parallels', 'bhyve', 'vz', 'hvf',
] as const;

const VIR_ERR_NO_NAME = 21;

const domainError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, detail);

/**
 * virUUIDParse: 32 hex digits, '-' or ' ' allowed anywhere between digit pairs, white space
 * around; canonical form 8-4-4-4-12 lower case. Null when malformed.
 */
export function parseUuid(text: string): string | null {
  let i = 0;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  let hex = '';
  while (hex.length < 32) {
    const c = text[i];
    if (c === undefined) return null;
    if (c === '-' || c === ' ') {
      i++;
      continue;
    }
    const pair = text.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return null;
    hex += pair.toLowerCase();
    i += 2;
  }
  if (!/^\s*$/.test(text.slice(i))) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** virDomainDefParseIDs, then the domain type (the first check of virDomainDefParseCaps). */
export const parseIds: DraftStep = (d) => {
  // An inactive definition ignores `id`; libvirt formats only `type` and the namespaces it knows.
  const name = stringOf(inputFirst(d, 'name'));
  if (name === undefined) throw new LibvirtError({ code: VIR_ERR_NO_NAME, domain: VirErrorDomain.DOMAIN, message: 'missing name information' });
  setTop(d, 'name', textNode('name', name));

  const uuidText = stringOf(inputFirst(d, 'uuid'));
  const uuid = uuidText === undefined ? draw(d, 'uuid') : parseUuid(uuidText);
  if (uuid === null) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'malformed uuid element');
  setTop(d, 'uuid', textNode('uuid', uuid));

  const genids = inputAll(d, 'genid');
  if (genids.length > 1) throw domainError(VirErrorNumber.XML_ERROR, "element 'genid' can only appear once");
  if (genids.length === 1) {
    const text = stringOf(genids[0]);
    const genid = text === undefined ? draw(d, 'uuid') : parseUuid(text);
    if (genid === null) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'malformed genid element');
    setTop(d, 'genid', textNode('genid', genid));
  }

  const type = d.input.attrs.type;
  if (type === undefined || type === '') throw domainError(VirErrorNumber.INTERNAL_ERROR, 'missing domain type attribute');
  if (!(VIRT_TYPES as readonly string[]).includes(type)) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `invalid domain type ${type}`);
  d.rootAttrs.type = type;
  // The QEMU driver's own namespace (qemu:commandline …) is the only one kept on the root.
  for (const [k, v] of Object.entries(d.input.attrs)) if (k.startsWith('xmlns:') && v === QEMU_NAMESPACE) d.rootAttrs[k] = v;
};

const QEMU_NAMESPACE = 'http://libvirt.org/schemas/domain/qemu/1.0';

/** Title (no newlines) and description, read right after the OS capabilities. */
export const parseTitle: DraftStep = (d) => {
  const title = stringOf(inputFirst(d, 'title'));
  if (title !== undefined && title.includes('\n')) throw domainError(VirErrorNumber.XML_ERROR, "Domain title can't contain newlines");
  if (title !== undefined) setTop(d, 'title', textNode('title', title));
  const description = stringOf(inputFirst(d, 'description'));
  if (description !== undefined) setTop(d, 'description', textNode('description', description));
};

/** `<metadata>`: kept and printed as libxml2 does (metadata.ts). */
export { parseMetadata } from './metadata.ts';

export const postParse: DraftStep = () => {};

/**
 * The name checks that come after post-parse: '/' (virDomainDefPostParseCheckFeatures, the QEMU
 * driver lacks NAME_SLASH) and the domain type against what the emulator runs (qemuValidateDomainDef).
 */
export const validate: DraftStep = (d) => {
  const name = d.top.get('name')?.[0]?.text ?? '';
  if (name.includes('/')) throw domainError(VirErrorNumber.XML_ERROR, `name ${name} cannot contain '/'`);
  const type = d.rootAttrs.type!;
  const arch = inputFirst(d, 'os')?.children.find((c) => c.name === 'type')?.attrs.arch ?? 'x86_64';
  const supported = type === 'qemu' || (type === 'kvm' && d.ctx.arches.some((a) => a.arch === arch && a.kvm));
  if (!supported) {
    const emulator = d.emulator ?? d.ctx.arches[0]?.emulator ?? '';
    throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, `Emulator '${emulator}' does not support virt type '${type}'`);
  }
};

/** qemuDomainDefineXMLFlags, after the whole parse: a name may not hold a newline (define only). */
export function checkDefineName(name: string): void {
  if (name.includes('\n')) throw LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.XML, 'invalid char in name: \n');
}

/** The system daemon's directories a defined domain's name is joined to (qemu.conf defaults). */
const CONFIG_DIR = '/etc/libvirt/qemu';
const SNAPSHOT_DIR = '/var/lib/libvirt/qemu/snapshot';
/** NAME_MAX of the file systems libvirt writes on. */
const NAME_MAX = 255;

const systemError = (message: string) => new LibvirtError({ code: VirErrorNumber.SYSTEM_ERROR, domain: VirErrorDomain.NONE, message });

/**
 * What storing a brand-new definition does with its name (qemuDomainNamePathsCleanup, then
 * virDomainDefSave writing CONFIG_DIR/NAME.xml.new): '.' and '..' make the snapshot directory
 * path a real directory that libvirt tries to delete, and a name whose `NAME.xml.new` is longer
 * than NAME_MAX bytes cannot be created.
 */
export function checkNameStorable(name: string): void {
  // rmdir("…/snapshot/.") is refused with EINVAL once the directory's contents are gone.
  if (name === '.') throw systemError(`Cannot delete directory '${SNAPSHOT_DIR}/.': Invalid argument`);
  // "snapshot/.." is libvirt's state directory: virFileDeleteTree walks it, removes "snapshot"
  // itself, and the next entry (in the oracle's readdir order, "dump") no longer resolves.
  if (name === '..') throw systemError(`Cannot access '${SNAPSHOT_DIR}/../dump': No such file or directory`);
  const file = `${name}.xml.new`;
  if (Buffer.byteLength(file, 'utf8') > NAME_MAX) throw systemError(`Failed to create file '${CONFIG_DIR}/${file}': File name too long`);
}
