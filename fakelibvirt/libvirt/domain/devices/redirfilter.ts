/**
 * `<redirfilter>`: the USB redirection filter rules (virDomainRedirFilterDefParseXML and its
 * formatter, libvirt 9.0). One set per domain, checked before the first is parsed; an empty set is
 * not formatted back.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { children, type XmlNode } from '../../xml-tree.ts';
import { strToUInt } from '../c-numbers.ts';
import { inputDevices, node, type DraftStep } from '../draft.ts';
import { propInt, propTristateBool } from '../props.ts';

const domainError = (code: VirErrorNumber, message: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, message);

/** C's `%X` / `%x` of an int: a negative one prints as its 32-bit two's complement. */
const hex = (v: number) => (v >>> 0).toString(16);

/** virDomainRedirFilterUSBVersionHelper: "JJ.MM" (two decimal numbers below 100; "J.M" reads M as M0). */
function parseVersion(text: string): string {
  const fail = () => domainError(VirErrorNumber.XML_ERROR, `Cannot parse USB device version ${text}`);
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(text);
  if (!m) throw fail();
  const major = Number(m[2]);
  // virStrToLong_ui wraps a negative number, which is then far above 99
  if ((m[1] === '-' && major !== 0) || major >= 100 || text[m[0].length] !== '.') throw fail();
  const rest = text.slice(m[0].length + 1);
  let minor = strToUInt(rest, 10);
  if (minor === null || minor >= 100) throw fail();
  if (rest.length === 1) minor *= 10;
  return `${major}.${String(minor).padStart(2, '0')}`;
}

function parseUsbdev(n: XmlNode): XmlNode {
  const usbClass = propInt(n, 'class', 0) ?? -1;
  if (usbClass !== -1 && (usbClass & ~0xff) !== 0) {
    throw domainError(VirErrorNumber.INTERNAL_ERROR, `Invalid USB Class code 0x${hex(usbClass)}`);
  }
  const vendor = propInt(n, 'vendor', 0) ?? -1;
  const product = propInt(n, 'product', 0) ?? -1;
  const v = n.attrs.version;
  const version = v === undefined || v === '-1' ? undefined : parseVersion(v);
  const allow = propTristateBool(n, 'allow', { required: true });
  // the formatter writes only non-negative values
  const X = (value: number, width: number) => (value < 0 ? undefined : `0x${hex(value).toUpperCase().padStart(width, '0')}`);
  return node('usbdev', { class: X(usbClass, 2), vendor: X(vendor, 4), product: X(product, 4), version, allow });
}

/** All `./devices/redirfilter` at once: libvirt refuses a second set before reading the first. */
export const parseRedirfilters: DraftStep = (d) => {
  const sets = inputDevices(d, 'redirfilter');
  if (sets.length > 1) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'only one set of redirection filter rule is supported');
  const set = sets[0];
  if (!set) return;
  const rules = children(set, 'usbdev').map(parseUsbdev);
  if (rules.length > 0) d.devices.push(node('redirfilter', {}, rules));
};
