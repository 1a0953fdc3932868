/**
 * `<idmap>` and `<sysinfo>` as libvirt 9.0 reads them (conf/domain_conf.c virDomainIdmapDefParseXML,
 * virSysinfoParseXML), then `./os/smbios/@mode`, which libvirt reads right after them. SMBIOS entries
 * are looked up by name, so an entry with a name libvirt does not know is silently dropped.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { strToUInt } from './c-numbers.ts';
import { inputAll, inputFirst, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { parseSmbiosMode } from './os.ts';
import { ownText7, propEnum } from './props.ts';

/** virSysinfo. */
export const SYSINFO_TYPES = ['smbios', 'fwcfg'] as const;

const detail = (message: string) => LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.DOMAIN, message);
const xmlErr = (message: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, message);

const IDMAPS = new WeakMap<DomainDraft, { uid: number; gid: number; uidStart0: boolean; gidStart0: boolean }>();

/** `<idmap>`: uid then gid entries, each with start, target and count; sorted by start. */
export const parseIdmap: DraftStep = (d) => {
  const idmap = inputFirst(d, 'idmap');
  const entries = (kind: string) =>
    inputAll(d, 'idmap').flatMap((m) => m.children.filter((c) => c.name === kind)).map((e) => {
      const read = (a: string) => {
        const v = e.attrs[a];
        const n = v === undefined || v === '' ? null : strToUInt(v, 10);
        if (n === null) throw xmlErr('invalid idmap start/target/count settings');
        return n;
      };
      return { start: read('start'), target: read('target'), count: read('count') };
    }).sort((a, b) => a.start - b.start);
  const uids = entries('uid');
  const gids = entries('gid');
  IDMAPS.set(d, { uid: uids.length, gid: gids.length, uidStart0: uids[0]?.start === 0, gidStart0: gids[0]?.start === 0 });
  if (!idmap || uids.length + gids.length === 0) return;
  setTop(d, 'idmap', node('idmap', {}, [
    ...uids.map((u) => node('uid', { start: u.start, target: u.target, count: u.count })),
    ...gids.map((g) => node('gid', { start: g.start, target: g.target, count: g.count })),
  ]));
};

/** virDomainDefIdMapValidate (common validation). */
export function validateIdmap(d: DomainDraft): void {
  const m = IDMAPS.get(d);
  if (!m) return;
  const unsupported = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, t);
  if ((m.uid > 0) !== (m.gid > 0)) throw unsupported('uid and gid should be mapped both');
  if ((m.uid > 0 && !m.uidStart0) || (m.gid > 0 && !m.gidStart0)) throw unsupported('You must map the root user of container');
}

/** fw_cfg names per `<sysinfo type='fwcfg'>`, for the QEMU driver's check of their names. */
const FWCFG_NAMES = new WeakMap<DomainDraft, string[]>();
export const fwcfgNamesOf = (d: DomainDraft): readonly string[] => FWCFG_NAMES.get(d) ?? [];

/** Every `<sysinfo>`, then the SMBIOS mode. */
export const parseSysinfo: DraftStep = (d) => {
  const out: XmlNode[] = [];
  const names: string[] = [];
  for (const s of inputAll(d, 'sysinfo')) {
    const type = propEnum(s, 'type', SYSINFO_TYPES, { required: true, ...ownText7(d.ctx, (v) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, `unknown sysinfo type '${v}'`)) });
    out.push(type === 'smbios' ? smbios(d, s) : fwcfg(s, names));
  }
  FWCFG_NAMES.set(d, names);
  if (out.length > 0) setTop(d, 'sysinfo', ...out);
  parseSmbiosMode(d);
};

const firstChild = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);

/** virXPathString("string(entry[@name='…'])"): the first such entry's text, undefined when empty. */
function entry(n: XmlNode, name: string): string | undefined {
  const e = n.children.find((c) => c.name === 'entry' && c.attrs.name === name);
  const v = e ? (e.raw ?? e.text) : '';
  return v === '' ? undefined : v;
}

/** A block of named entries, or nothing when none of the known names has a value. */
function block(n: XmlNode | undefined, element: string, names: readonly string[], values?: Record<string, string | undefined>): XmlNode | undefined {
  if (!n) return undefined;
  const v = values ?? Object.fromEntries(names.map((k) => [k, entry(n, k)]));
  const kids = names.filter((k) => v[k] !== undefined).map((k) => textNode('entry', v[k]!, { name: k }));
  return kids.length > 0 ? node(element, {}, kids) : undefined;
}

function smbios(d: DomainDraft, s: XmlNode): XmlNode {
  const bios = firstChild(s, 'bios');
  if (bios) checkBiosDate(entry(bios, 'date'));
  const system = firstChild(s, 'system');
  const sysValues = system && systemValues(d, system);
  const oem = firstChild(s, 'oemStrings');
  const oemEntries = oem ? oem.children.filter((c) => c.name === 'entry') : [];
  return node('sysinfo', { type: 'smbios' }, [
    block(bios, 'bios', ['vendor', 'version', 'date', 'release']),
    block(system, 'system', ['manufacturer', 'product', 'version', 'serial', 'uuid', 'sku', 'family'], sysValues),
    ...s.children.filter((c) => c.name === 'baseBoard')
      .map((b) => block(b, 'baseBoard', ['manufacturer', 'product', 'version', 'serial', 'asset', 'location'])),
    block(firstChild(s, 'chassis'), 'chassis', ['manufacturer', 'version', 'serial', 'asset', 'sku']),
    oemEntries.length > 0 && node('oemStrings', {}, oemEntries.map((e) => textNode('entry', e.raw ?? e.text))),
  ]);
}

/** The BIOS date must read mm/dd/yy or mm/dd/yyyy (year 00–99 or from 1900). */
function checkBiosDate(date: string | undefined): void {
  if (date === undefined) return;
  const m = /^([^/]*)\/([^/]*)\/(.*)$/.exec(date);
  const num = (t: string | undefined) => (t !== undefined && /^\s*[+-]?\d+$/.test(t) ? Number(t) : NaN);
  const [month, day, year] = [num(m?.[1]), num(m?.[2]), num(m?.[3])];
  const bad = !m || [month, day, year].some(Number.isNaN) || month < 1 || month > 12 || day < 1 || day > 31 ||
    year < 0 || (year >= 100 && year < 1900);
  if (bad) throw detail("Invalid BIOS 'date' format");
}

function systemValues(d: DomainDraft, system: XmlNode): Record<string, string | undefined> {
  const v: Record<string, string | undefined> = {};
  for (const k of ['manufacturer', 'product', 'version', 'serial', 'sku', 'family']) v[k] = entry(system, k);
  const uuid = entry(system, 'uuid');
  if (uuid !== undefined) {
    const canonical = canonicalUuid(uuid);
    if (canonical === null) throw detail('malformed <sysinfo> uuid element');
    const domainUuid = inputFirst(d, 'uuid');
    const own = domainUuid ? canonicalUuid(domainUuid.raw ?? domainUuid.text) : null;
    if (own !== null && own !== canonical) throw detail('UUID mismatch between <uuid> and <sysinfo>');
    v.uuid = canonical;
  }
  return v;
}

/** virUUIDParse: 32 hex digits, '-' and ' ' between them ignored, leading blanks skipped. */
function canonicalUuid(s: string): string | null {
  const hex = s.trimStart().replace(/[- ]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function fwcfg(s: XmlNode, names: string[]): XmlNode {
  const kids = s.children.filter((c) => c.name === 'entry').map((e) => {
    const name = e.attrs.name;
    if (name === undefined) throw xmlErr("Firmware entry is missing 'name' attribute");
    const value = (e.raw ?? e.text).trim() === '' ? undefined : (e.raw ?? e.text);
    const file = e.attrs.file;
    if (value === undefined && file === undefined) throw xmlErr("Firmware entry must have either value or 'file' attribute");
    names.push(name);
    return file !== undefined ? node('entry', { name, file: file.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1') }) : textNode('entry', value!, { name });
  });
  return node('sysinfo', { type: 'fwcfg' }, kids);
}
