/**
 * libvirt's attribute readers (util/virxml.c, virXMLProp*), with their texts: a missing required
 * attribute, a value outside an enum, a number that is not one. Errors are VIR_ERR_XML_ERROR from
 * the XML domain, as libvirt raises them. Enum tables are libvirt's VIR_ENUM_IMPL lists, in order:
 * index 0 is the "none"/"default" entry that NONZERO refuses.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { strToInt, strToUIntPositive, strToULongLongPositive } from './c-numbers.ts';
import type { DomainContext } from './context.ts';
import { AFTER_7_0, type Release } from './since.ts';

export const xmlError = (message: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, message);

export interface PropFlags {
  readonly required?: boolean;
  /** The enum's first entry ("none"/"default") and the number 0 are refused. */
  readonly nonzero?: boolean;
  readonly nonnegative?: boolean;
  /**
   * Before libvirt read this attribute with virXMLPropEnum, its parser turned it with the enum's
   * TypeFromString and raised its own error: for a profile older than `until`, an unknown value
   * (and '', which no old table holds) gets `error(value)` instead of the generic text.
   */
  readonly ownText?: OwnEnumText;
}

export interface OwnEnumText {
  readonly ctx: Pick<DomainContext, 'libvirtAtLeast'>;
  /** The first release that reads the attribute with virXMLPropEnum. */
  readonly until: Release;
  readonly error: (value: string) => LibvirtError;
}

/** 7.0's own text for an unknown value of one attribute (CONFIG_UNSUPPORTED from the domain unless `error` says otherwise). */
export const ownText7 = (ctx: Pick<DomainContext, 'libvirtAtLeast'>, error: (value: string) => LibvirtError): { ownText: OwnEnumText } => ({
  ownText: { ctx, until: AFTER_7_0, error },
});

export const unsupportedDomain = (message: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, message);

const ownTextApplies = (own: OwnEnumText | undefined): own is OwnEnumText => own !== undefined && !own.ctx.libvirtAtLeast(own.until[0], own.until[1], own.until[2]);

/** The attribute as libvirt reads it (virXMLPropString): undefined when absent. */
export function prop(node: XmlNode, name: string, flags: PropFlags = {}): string | undefined {
  const v = node.attrs[name];
  if (v === undefined && flags.required) throw missingAttr(node, name);
  return v;
}

export function missingAttr(node: XmlNode, name: string): LibvirtError {
  return xmlError(`Missing required attribute '${name}' in element '${node.name}'`);
}

export function invalidAttr(node: XmlNode, name: string, value: string): LibvirtError {
  return xmlError(`Invalid value for attribute '${name}' in element '${node.name}': '${value}'.`);
}

/** virXMLPropEnum: the value must be one of `table`; returns it as written. */
export function propEnum<T extends string>(node: XmlNode, name: string, table: readonly T[], flags: PropFlags = {}): T | undefined {
  const v = prop(node, name, flags);
  if (v === undefined) return undefined;
  const i = table.indexOf(v as T);
  if (i < 0 || (flags.nonzero && i === 0)) throw ownTextApplies(flags.ownText) ? flags.ownText.error(v) : invalidAttr(node, name, v);
  return v as T;
}

/** virTristateBool: absent, yes, no (`absent` is the NONZERO-refused first entry). */
export const TRISTATE_BOOL = ['absent', 'yes', 'no'] as const;
/** virTristateSwitch: absent, on, off. */
export const TRISTATE_SWITCH = ['absent', 'on', 'off'] as const;

export const propTristateBool = (node: XmlNode, name: string, flags: PropFlags = {}) =>
  propEnum(node, name, TRISTATE_BOOL, { ...flags, nonzero: true }) as 'yes' | 'no' | undefined;

export const propTristateSwitch = (node: XmlNode, name: string, flags: PropFlags = {}) =>
  propEnum(node, name, TRISTATE_SWITCH, { ...flags, nonzero: true }) as 'on' | 'off' | undefined;

/** virXMLPropInt. */
export function propInt(node: XmlNode, name: string, base: number, flags: PropFlags = {}): number | undefined {
  const v = prop(node, name, flags);
  if (v === undefined) return undefined;
  const n = strToInt(v, base);
  if (n === null) throw xmlError(`Invalid value for attribute '${name}' in element '${node.name}': '${v}'. Expected integer value`);
  if (flags.nonnegative && n < 0) {
    throw xmlError(`Invalid value for attribute '${name}' in element '${node.name}': '${v}'. Expected non-negative value`);
  }
  if (flags.nonzero && n === 0) throw xmlError(`Invalid value for attribute '${name}' in element '${node.name}': Zero is not permitted`);
  return n;
}

/** virXMLPropUInt (virStrToLong_uip: no sign at all). */
export function propUInt(node: XmlNode, name: string, base: number, flags: PropFlags = {}): number | undefined {
  const v = prop(node, name, flags);
  if (v === undefined) return undefined;
  const n = strToUIntPositive(v, base);
  if (n === null) {
    throw xmlError(`Invalid value for attribute '${name}' in element '${node.name}': '${v}'. Expected non-negative integer value`);
  }
  if (flags.nonzero && n === 0) throw xmlError(`Invalid value for attribute '${name}' in element '${node.name}': Zero is not permitted`);
  return n;
}

/** virXMLPropULongLong (virStrToLong_ullp). */
export function propULongLong(node: XmlNode, name: string, base: number, flags: PropFlags = {}): bigint | undefined {
  const v = prop(node, name, flags);
  if (v === undefined) return undefined;
  const n = strToULongLongPositive(v, base);
  if (n === null) {
    throw xmlError(`Invalid value for attribute '${name}' in element '${node.name}': '${v}'. Expected non-negative integer value`);
  }
  if (flags.nonzero && n === 0n) throw xmlError(`Invalid value for attribute '${name}' in element '${node.name}': Zero is not permitted`);
  return n;
}

/**
 * What libvirt reports when a parser fails without raising an error of its own (virErrorGenericFailure):
 * code 1 from no domain, and no "internal error:" prefix.
 */
export const unknownCauseError = (): LibvirtError =>
  new LibvirtError({ code: VirErrorNumber.INTERNAL_ERROR, domain: VirErrorDomain.NONE, message: 'An error occurred, but the cause is unknown' });
