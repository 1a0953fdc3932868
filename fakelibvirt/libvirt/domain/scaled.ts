/**
 * libvirt's reading of element text and of scaled integers (util/virxml.c virXPathString and
 * virParseScaledValue, util/virutil.c virScaleInteger, conf/domain_conf.c virDomainParseMemory and
 * virDomainParseMemoryLimit), with their texts. Sizes are BigInt so the 64-bit limits are exact.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { strToULongLongPositive } from './c-numbers.ts';
import { xmlError } from './props.ts';

/** VIR_ERR_OVERFLOW: not in the shared table; its template is "numerical overflow: %s". */
const VIR_ERR_OVERFLOW = 82;

const overflow = (detail: string) =>
  new LibvirtError({ code: VIR_ERR_OVERFLOW, domain: VirErrorDomain.NONE, message: `numerical overflow: ${detail}` });

/**
 * XPath string() of an element as libvirt reads it: the text as written (not trimmed, when the
 * parser kept it), and undefined for an absent element or an empty string (virXPathString).
 */
export function stringOf(n: XmlNode | undefined): string | undefined {
  if (!n) return undefined;
  const raw = n.raw ?? n.text;
  return raw === '' ? undefined : raw;
}

/** An attribute as virXPathString("string(./@x)") reads it: empty is absent. */
export const attrString = (n: XmlNode | undefined, name: string): string | undefined =>
  n?.attrs[name] === '' ? undefined : n?.attrs[name];

export const LLONG_MAX = 2n ** 63n - 1n;
/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: INT64_MAX >> 10, "no limit" for memtune values. */
export const MEMORY_PARAM_UNLIMITED = 9007199254740991n;

/** virScaleInteger: `value` times the unit's scale, refused above `limit`. */
export function scaleInteger(value: bigint, suffix: string | undefined, scale: bigint, limit: bigint): bigint {
  let factor = scale;
  const s = suffix ?? '';
  if (s !== '') {
    const lower = s.toLowerCase();
    if (lower === 'b' || lower === 'byte' || lower === 'bytes') factor = 1n;
    else {
      let base: bigint;
      if (s.length === 1 || lower.slice(1) === 'ib') base = 1024n;
      else if (lower[1] === 'b' && s.length === 2) base = 1000n;
      else throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, `unknown suffix '${s}'`);
      const power = 'kmgtpe'.indexOf(lower[0]!);
      if (power < 0) throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, `unknown suffix '${s}'`);
      factor = base ** BigInt(power + 1);
    }
  }
  if (value !== 0n && value > limit / factor) throw overflow(`value too large: ${value}${s}`);
  return value * factor;
}

/**
 * virParseScaledValue: `text` is the value read at `xpath` (named in errors), `unit` its unit
 * attribute; undefined when absent and not required. The result is in bytes.
 */
export function parseScaledValue(xpath: string, text: string | undefined, unit: string | undefined, scale: bigint, max: bigint, required: boolean): bigint | undefined {
  if (text === undefined) {
    if (!required) return undefined;
    throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `missing element or attribute '${xpath}'`);
  }
  const bytes = strToULongLongPositive(text, 10);
  if (bytes === null) {
    throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `Invalid value '${text}' for element or attribute '${xpath}'`);
  }
  return scaleInteger(bytes, unit, scale, max);
}

/** virDomainParseMemory (64-bit host: capped or not, the bound is LLONG_MAX bytes): KiB, rounded up; 0 when absent. */
export function parseMemoryKiB(xpath: string, text: string | undefined, unit: string | undefined, required = false): bigint {
  const bytes = parseScaledValue(xpath, text, unit, 1024n, LLONG_MAX, required) ?? 0n;
  const kib = (bytes + 1023n) / 1024n;
  if (kib >= (LLONG_MAX + 1023n) / 1024n) throw overflow('size value too large');
  return kib;
}

/** virDomainParseMemoryLimit: KiB, rounded up, capped at "unlimited"; undefined (unlimited) when absent. */
export function parseMemoryLimitKiB(xpath: string, text: string | undefined, unit: string | undefined): bigint | undefined {
  const bytes = parseScaledValue(xpath, text, unit, 1024n, MEMORY_PARAM_UNLIMITED << 10n, false);
  if (bytes === undefined) return undefined;
  const kib = (bytes + 1023n) / 1024n;
  return kib < MEMORY_PARAM_UNLIMITED ? kib : undefined;
}

/** A scaled element (`<memory unit='GiB'>4</memory>`) read through parseMemoryKiB. */
export const elementKiB = (xpath: string, n: XmlNode | undefined): bigint => parseMemoryKiB(xpath, stringOf(n), attrString(n, 'unit'));

export { xmlError };
