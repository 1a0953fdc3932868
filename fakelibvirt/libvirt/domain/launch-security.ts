/**
 * `<launchSecurity>`: libvirt's virDomainSecDefParseXML and its formatter, and the QEMU driver's
 * launch-security checks (qemuValidateDomainDef's last rule). Only `./launchSecurity` counts — a
 * direct child of `<domain>`, the first one if there are several; one inside `<devices>` or `<os>`
 * is not read. Measured on libvirt 9.0 (oracle/record.ts --probe); the rules for other versions
 * are read from libvirt's history, not measured, and say so.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { strToUIntPositive, strToULongLong, strToULongLongPositive } from './c-numbers.ts';
import type { DomainContext } from './context.ts';
import { getTop, inputFirst, node, setTop, textNode, type DraftStep } from './draft.ts';
import { propEnum, propTristateBool } from './props.ts';
import { AFTER_7_0, ruleApplies } from './since.ts';

/** virDomainLaunchSecurity as libvirt 9.0 lists it ('' is the NONZERO-refused entry). */
const SECTYPES_9_0 = ['', 'sev', 's390-pv'] as const;
/** libvirt 7.0's virDomainLaunchSecurity: sev alone. */
const SECTYPES_7_0 = ['', 'sev'] as const;
/** libvirt 10.5.0 added sev-snp (read, not measured). */
const SECTYPES_SNP = ['', 'sev', 'sev-snp', 's390-pv'] as const;

const domainError = (code: VirErrorNumber, message: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, message);
const qemuUnsupported = (message: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, message);

export const policyError = () => domainError(VirErrorNumber.XML_ERROR, 'failed to get launch security policy');

/**
 * XPath `string(./NAME)`: the string value of the first such child (its text untrimmed, with its
 * descendants' text), or undefined when there is none or it is empty — virXPathEvalString's NULL.
 */
function xpathString(parent: XmlNode, name: string): string | undefined {
  const n = parent.children.find((c) => c.name === name);
  if (n === undefined) return undefined;
  const value = stringValue(n);
  return value === '' ? undefined : value;
}

function stringValue(n: XmlNode): string {
  return (n.raw ?? n.text) + n.children.map(stringValue).join('');
}

/**
 * The SEV policy text: 7.0 read an unsigned long (virXPathULongHex: a sign wraps, 64 bits) into
 * the 32-bit policy (measured); later releases a 32-bit unsigned int with no sign.
 */
function readSevPolicy(text: string, ctx: Pick<DomainContext, 'libvirtAtLeast'>): number | null {
  if (ctx.libvirtAtLeast(AFTER_7_0[0], AFTER_7_0[1])) return strToUIntPositive(text, 16);
  const wide = strToULongLong(text, 16);
  return wide === null ? null : Number(wide & 0xffffffffn);
}

/** printf's `%d` of an unsigned int: libvirt formats cbitpos and reducedPhysBits that way. */
const asCInt = (n: number) => (n > 0x7fffffff ? n - 0x100000000 : n);

/**
 * cbitpos / reducedPhysBits (virXPathUInt): absent or empty leaves it out (filled from the domain
 * capabilities at start); otherwise a whole unsigned int, no '-', leading white space allowed.
 * Before 6.9 both were required, and any failure read "failed to get launch security X" (read).
 */
function platformUInt(ls: XmlNode, name: string, label: string, ctx: Pick<DomainContext, 'libvirtAtLeast'>): number | undefined {
  const text = xpathString(ls, name);
  const value = text === undefined ? null : strToUIntPositive(text, 10);
  if (!ctx.libvirtAtLeast(6, 9)) {
    if (value === null) throw domainError(VirErrorNumber.XML_ERROR, `failed to get launch security ${label}`);
    return value;
  }
  if (text === undefined) return undefined;
  if (value === null) throw domainError(VirErrorNumber.XML_ERROR, `Invalid format for launch security ${label}`);
  return value;
}

function parseSev(ls: XmlNode, ctx: Pick<DomainContext, 'libvirtAtLeast'>): XmlNode {
  // kernelHashes came with 8.0 (7.0 ignores the attribute, measured; release read approximately).
  const kernelHashes = ctx.libvirtAtLeast(8, 0) ? propTristateBool(ls, 'kernelHashes') : undefined;
  // 10.5 reads the parts SEV shares with SNP (virDomainSEVCommonDefParseXML) before the policy.
  const commonFirst = ruleApplies('sevCommonPartsFirst', ctx);
  const common = () => [platformUInt(ls, 'cbitpos', 'cbitpos', ctx), platformUInt(ls, 'reducedPhysBits', 'reduced-phys-bits', ctx)] as const;
  const early = commonFirst ? common() : undefined;
  // virXPathUIntBase(16): strtoul's hex ('0x' optional, leading space and '+' allowed), 32 bits.
  const policyText = xpathString(ls, 'policy');
  const policy = policyText === undefined ? null : readSevPolicy(policyText, ctx);
  if (policy === null) throw policyError();
  const [cbitpos, reducedPhysBits] = early ?? common();
  const dhCert = xpathString(ls, 'dhCert');
  const session = xpathString(ls, 'session');
  return node('launchSecurity', { type: 'sev', kernelHashes }, [
    cbitpos !== undefined && textNode('cbitpos', asCInt(cbitpos)),
    reducedPhysBits !== undefined && textNode('reducedPhysBits', asCInt(reducedPhysBits)),
    textNode('policy', `0x${policy.toString(16).padStart(4, '0')}`),
    dhCert !== undefined && textNode('dhCert', dhCert),
    session !== undefined && textNode('session', session),
  ]);
}

/**
 * `type='sev-snp'` as libvirt 10.5+ parses it (measured on 11.3.0 in the trixie container; 10.5–11.2
 * read as the same): the parts SEV shares (kernelHashes, cbitpos, reducedPhysBits), then authorKey,
 * vcek, a required 64-bit hex policy (virXPathULongLongBase; absent or malformed: "failed to get
 * launch security policy") and base64 blobs passed to QEMU unchecked.
 */
function parseSnp(ls: XmlNode, ctx: Pick<DomainContext, 'libvirtAtLeast'>): XmlNode {
  const kernelHashes = propTristateBool(ls, 'kernelHashes');
  const cbitpos = platformUInt(ls, 'cbitpos', 'cbitpos', ctx);
  const reducedPhysBits = platformUInt(ls, 'reducedPhysBits', 'reduced-phys-bits', ctx);
  const authorKey = propTristateBool(ls, 'authorKey');
  const vcek = propTristateBool(ls, 'vcek');
  const policyText = xpathString(ls, 'policy');
  const policy = policyText === undefined ? null : strToULongLongPositive(policyText, 16);
  if (policy === null) throw policyError();
  const blob = (name: string) => {
    const v = xpathString(ls, name);
    return v === undefined ? undefined : textNode(name, v);
  };
  return node('launchSecurity', { type: 'sev-snp', kernelHashes, authorKey, vcek }, [
    cbitpos !== undefined && textNode('cbitpos', asCInt(cbitpos)),
    reducedPhysBits !== undefined && textNode('reducedPhysBits', asCInt(reducedPhysBits)),
    textNode('policy', `0x${policy.toString(16).padStart(8, '0')}`),
    blob('guestVisibleWorkarounds'),
    blob('idBlock'),
    blob('idAuth'),
    blob('hostData'),
  ]);
}

/**
 * virDomainSecDefParseXML on one element: the type (required, from libvirt's enum), then that
 * type's parts; returns the canonical element. s390-pv has no parts: its children are dropped.
 */
export function canonicalLaunchSecurity(ls: XmlNode, ctx: Pick<DomainContext, 'snpKnown' | 'libvirtAtLeast'>): XmlNode {
  // 7.0 knew sev alone and said so in its own words (measured); s390-pv came after it (release read approximately).
  const old = !ctx.libvirtAtLeast(AFTER_7_0[0], AFTER_7_0[1]);
  if (old && ls.attrs.type === undefined) throw domainError(VirErrorNumber.XML_ERROR, 'missing launch security type');
  const table = ctx.snpKnown ? SECTYPES_SNP : old ? SECTYPES_7_0 : SECTYPES_9_0;
  const type = propEnum(ls, 'type', table, {
    required: true,
    nonzero: true,
    ownText: { ctx, until: AFTER_7_0, error: (v) => domainError(VirErrorNumber.XML_ERROR, `unsupported launch security type '${v}'`) },
  });
  if (type === 'sev') return parseSev(ls, ctx);
  if (type === 'sev-snp') return parseSnp(ls, ctx);
  return node('launchSecurity', { type });
}

export const parseLaunchSecurity: DraftStep = (d) => {
  const ls = inputFirst(d, 'launchSecurity');
  if (ls !== undefined) setTop(d, 'launchSecurity', canonicalLaunchSecurity(ls, d.ctx));
};

/** libvirt's text for a launch security type the host's QEMU cannot run. */
export function launchSecurityUnsupportedText(ctx: Pick<DomainContext, 'libvirtAtLeast'>, type: 'sev' | 'sev-snp'): string {
  // 10.5 reworded it around the type name when it added SEV-SNP (read, not measured).
  if (ctx.libvirtAtLeast(10, 5)) return `'${type}' launch security is not supported with this QEMU binary`;
  return `${type === 'sev' ? 'SEV' : 'SEV-SNP'} launch security is not supported with this QEMU binary`;
}

/** libvirt's error for a launch security type the host's QEMU cannot run (code and text by release). */
export function launchSecurityUnsupportedError(ctx: Pick<DomainContext, 'libvirtAtLeast'>, type: 'sev' | 'sev-snp'): LibvirtError {
  // 7.0 raised it as an internal error (measured).
  const code = ctx.libvirtAtLeast(AFTER_7_0[0], AFTER_7_0[1]) ? VirErrorNumber.CONFIG_UNSUPPORTED : VirErrorNumber.INTERNAL_ERROR;
  return LibvirtError.of(code, VirErrorDomain.QEMU, launchSecurityUnsupportedText(ctx, type));
}

/**
 * qemuValidateDomainDef's launch-security rule, against QEMU's capabilities: its sev-guest (or
 * sev-snp-guest) object, the kernel-hashes property (QEMU 6.2), and no s390 PV on x86. Run at define
 * and again at start, against the capabilities of that moment.
 */
export function validateLaunchSecurity(ls: XmlNode | undefined, ctx: DomainContext): void {
  if (ls === undefined) return;
  const type = ls.attrs.type;
  // 10.5 checks every type against QEMU's launch-security list first, in the type's own name.
  if (type === 's390-pv') throw qemuUnsupported(ctx.libvirtAtLeast(10, 5) ? "'s390-pv' launch security is not supported with this QEMU binary" : 'S390 PV launch security is not supported with this QEMU binary');
  if (type !== 'sev' && type !== 'sev-snp') return;
  if (!ctx.sectypes.includes(type)) throw launchSecurityUnsupportedError(ctx, type);
  if (type === 'sev' && ls.attrs.kernelHashes !== undefined && !ctx.qemuAtLeast(6, 2)) {
    throw qemuUnsupported('SEV measured direct kernel boot is not supported with this QEMU binary');
  }
}

/** The canonical `<launchSecurity>` of a draft (for the validation step). */
export const launchSecurityOf = (d: Parameters<DraftStep>[0]) => getTop(d, 'launchSecurity');
