/**
 * A domain definition as libvirt's parser sees it: the fields the SEV stack acts on, pulled out of
 * the XML tree, plus the tree itself so dumpxml can give the document back. Parse errors carry
 * libvirt's codes, domains and texts (measured against libvirt 9.0).
 */
import { randomUUID } from 'node:crypto';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { DomainContext } from './domain/context.ts';
import { defineDomain } from './domain/define.ts';
import type { Draw } from './domain/draft.ts';
import { DefineMemo, type PipelineRun } from './define-memo/memo.ts';
import { parseUuid } from './domain/general.ts';
import { strToUInt } from './domain/c-numbers.ts';
import { attrString, elementKiB, MEMORY_PARAM_UNLIMITED, parseMemoryLimitKiB, stringOf } from './domain/scaled.ts';
import { canonicalLaunchSecurity } from './domain/launch-security.ts';
import { child, nodeName, parseXmlDocument, type XmlNode } from './xml-tree.ts';
import { parseDevice, type DeviceDef } from './domain-def/devices.ts';
import { guestOsFacts, type GuestOsFacts } from './domain-def/guest-os.ts';
import { launchSecurityFields, type LaunchSecurity } from './domain-def/launch-security.ts';
import { MAX_XML_BYTES, yes } from './domain-def/limits.ts';
import { ruleApplies } from './domain/since.ts';

// The host's view of a definition is split per concern (domain-def/): launch security, devices,
// guest-OS metadata. Importers keep this one entry point.
export { MAX_XML_BYTES } from './domain-def/limits.ts';
export { DEFAULT_SNP_POLICY, type LaunchSecurity } from './domain-def/launch-security.ts';
export {
  devicesOf, duplicateDiskTargetError, implicitVirtioSerialController, isTransitionalVirtio, isVirtioDevice, parseDevice, parseDeviceXml,
  type DeviceDef, type DeviceKind, type ParsedDevice,
} from './domain-def/devices.ts';
export { DEFAULT_GUEST_OS, type GuestOsFacts } from './domain-def/guest-os.ts';

export interface DomainDef {
  readonly type: string;
  readonly name: string;
  readonly uuid: string;
  readonly memoryKiB: number;
  readonly vcpus: number;
  readonly os: {
    readonly type: string;
    readonly arch: string;
    readonly machine?: string;
    readonly firmware?: string;
    readonly loader?: { readonly path: string; readonly type?: string; readonly readonly?: boolean; readonly stateless?: boolean };
    readonly nvram?: string;
  };
  readonly features: ReadonlySet<string>;
  readonly lockedMemory: boolean;
  readonly hardLimitKiB?: number;
  readonly launchSecurity: LaunchSecurity | null;
  readonly devices: readonly DeviceDef[];
  readonly guestOs: GuestOsFacts;
  /** The document as parsed (with the uuid filled in), for dumpxml. */
  readonly tree: XmlNode;
}

const fromDomain = (code: number, detail: string) =>
  LibvirtError.of(code as VirErrorNumber, VirErrorDomain.DOMAIN, detail);

export interface ParseOptions {
  /** libvirt knows `sev-snp` from 10.5.0. */
  readonly snpKnown: boolean;
}

/** The document's `<domain>` element, or libvirt's error for a document that is not one. */
function domainElement(xml: string, ctx?: Pick<DomainContext, 'libvirtAtLeast'>): XmlNode {
  if (Buffer.byteLength(xml, 'utf8') > MAX_XML_BYTES) {
    throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.DOMAIN, `XML document is larger than the ${MAX_XML_BYTES} byte limit`);
  }
  let root: XmlNode;
  try {
    root = parseXmlDocument(xml, 'domain_definition');
  } catch (e) {
    throw ctx && ruleApplies('xmlErrorsWithoutDocumentName', ctx) ? withoutDocumentName(e) : e;
  }
  // virXMLParseHelper compares libxml2's node name: the local part when the prefix is declared.
  if (nodeName(root) !== 'domain') {
    throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.XML, `expecting root element of 'domain', not '${nodeName(root)}'`);
  }
  return root;
}

/** Newer libvirt parses strings with no URL: libxml2's errors read "at line N: …" (catchXMLError). */
function withoutDocumentName(e: unknown): unknown {
  const prefix = '(domain_definition):';
  if (!(e instanceof LibvirtError) || e.code !== VirErrorNumber.XML_DETAIL || !e.message.startsWith(prefix)) return e;
  return new LibvirtError({ code: e.code, domain: e.domain, message: `at line ${e.message.slice(prefix.length)}` });
}

/** The fields the host acts on, read from a domain document without libvirt's define checks. */
export function parseDomainXml(xml: string, opts: ParseOptions): DomainDef {
  return domainDefOf(domainElement(xml), opts);
}

/**
 * virDomainDefineXML's view: parse, post-parse and validate as libvirt's QEMU driver does
 * (domain/define.ts); the definition keeps the canonical tree libvirt would format back. Answered
 * from the context's define memo (define-memo/) when the same document, or its family with another
 * name and uuid, was proven; the definition's tree is then shared and frozen: change a definition
 * by copying (device-modify.ts, domain-resize.ts), never in place.
 */
export function defineDomainXml(xml: string, ctx: DomainContext): DomainDef {
  let memo = memos.get(ctx);
  if (!memo) memos.set(ctx, (memo = new DefineMemo<DomainDef>()));
  return memo.define(xml, (text) => runDefinePipeline(text, ctx));
}

/** The define pipeline itself, without the memo: what every memoised answer must equal. */
export function defineDomainXmlFresh(xml: string, ctx: DomainContext): DomainDef {
  const run = runDefinePipeline(xml, ctx);
  if (run.def === undefined) throw run.error;
  return run.def;
}

/** One memo per context: a context is immutable and shared by every host of its profile and SEV offer. */
const memos = new WeakMap<DomainContext, DefineMemo<DomainDef>>();

/** One run of the pipeline as the memo records it (the parsed input, the draws, the answer or the error). */
export function runDefinePipeline(xml: string, ctx: DomainContext): PipelineRun<DomainDef> {
  const draws: Draw[] = [];
  let input: XmlNode | undefined;
  try {
    input = domainElement(xml, ctx);
    return { input, draws, def: domainDefOf(defineDomain(input, ctx, draws), { snpKnown: ctx.snpKnown, canonical: true }) };
  } catch (error) {
    return { input, draws, error };
  }
}

/** `canonical`: the tree is the define pipeline's output, already checked. */
function domainDefOf(root: XmlNode, opts: ParseOptions & { readonly canonical?: boolean }): DomainDef {
  if (nodeName(root) !== 'domain') {
    throw fromDomain(VirErrorNumber.XML_ERROR, `unexpected root element <${root.name}>, expecting <domain>`);
  }
  // The identity, memory and vCPU rules live in domain/general.ts, memory.ts and tunables.ts; a
  // defined tree is canonical here (sizes in KiB, a dashed UUID), a raw one is read leniently.
  const type = root.attrs.type ?? '';
  const name = child(root, 'name')?.text ?? '';
  let uuidNode = child(root, 'uuid');
  let uuid: string;
  if (uuidNode) {
    uuid = parseUuid(uuidNode.text) ?? uuidNode.text;
  } else {
    uuid = randomUUID();
    uuidNode = { name: 'uuid', attrs: {}, children: [], text: uuid };
    root.children.splice(root.children.findIndex((c) => c.name === 'name') + 1, 0, uuidNode);
  }
  const memoryKiB = Number(elementKiB('./memory[1]', child(root, 'memory')));
  const vcpuNode = child(root, 'vcpu');
  const vcpuCount = vcpuNode ? (strToUInt(vcpuNode.text, 10) ?? 1) : 1;

  const osNode = child(root, 'os');
  const typeNode = osNode && child(osNode, 'type');
  if (!typeNode || typeNode.text.trim() === '') throw fromDomain(VirErrorNumber.XML_ERROR, 'an os <type> must be specified');
  const loaderNode = osNode && child(osNode, 'loader');
  const nvramNode = osNode && child(osNode, 'nvram');
  const os: DomainDef['os'] = {
    type: typeNode.text.trim(),
    arch: typeNode.attrs.arch ?? 'x86_64',
    ...(typeNode.attrs.machine && { machine: typeNode.attrs.machine }),
    ...(osNode?.attrs.firmware && { firmware: osNode.attrs.firmware }),
    ...(loaderNode && {
      loader: {
        path: loaderNode.text.trim(),
        ...(loaderNode.attrs.type && { type: loaderNode.attrs.type }),
        readonly: yes(loaderNode.attrs.readonly),
        stateless: yes(loaderNode.attrs.stateless),
      },
    }),
    ...(nvramNode && { nvram: nvramNode.text.trim() || nvramNode.attrs.template || '' }),
  };

  const featuresNode = child(root, 'features');
  const features = new Set((featuresNode?.children ?? []).map((f) => f.name));
  const backing = child(root, 'memoryBacking');
  const memtune = child(root, 'memtune');
  const hardLimit = memtune && child(memtune, 'hard_limit');
  const lsNode = child(root, 'launchSecurity');
  const devicesNode = child(root, 'devices');

  const devices = devicesNode ? devicesNode.children.map(parseDevice) : [];

  return {
    type,
    name,
    uuid,
    memoryKiB,
    vcpus: vcpuCount,
    os,
    features,
    lockedMemory: !!(backing && child(backing, 'locked')),
    ...(hardLimit && { hardLimitKiB: Number(parseMemoryLimitKiB('./memtune/hard_limit[1]', stringOf(hardLimit), attrString(hardLimit, 'unit')) ?? MEMORY_PARAM_UNLIMITED) }),
    launchSecurity: lsNode ? launchSecurityFields(opts.canonical ? lsNode : canonicalLaunchSecurity(lsNode, { snpKnown: opts.snpKnown, libvirtAtLeast: () => true })) : null,
    devices,
    guestOs: guestOsFacts(root),
    tree: root,
  };
}

