/**
 * `<numatune>` and `<resource>` as libvirt parses and formats them (conf/numa_conf.c
 * virDomainNumatuneParseXML, virDomainNumatuneSet, virDomainNumatuneNodeParseXML,
 * virDomainNumatuneFormatXML; domain_conf.c virDomainResourceDefParse/Format and
 * domain_validate.c virDomainDefResourceValidate).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { bitmapError, formatBitmap, parseBitmap } from './bitmap.ts';
import { inputAll, node, setTop, textNode, type DomainDraft } from './draft.ts';
import { propEnum, propUInt, unknownCauseError } from './props.ts';
import { stringOf } from './scaled.ts';
import { AFTER_7_0, knownValues, ruleApplies, type Since } from './since.ts';

/** virDomainNumatuneMemMode, virDomainNumatunePlacement (VIR_ENUM_IMPL order). */
const MEM_MODES = ['strict', 'preferred', 'interleave', 'restrictive'] as const;
/** 7.0 refuses restrictive (measured); NEWS 8.0.0 already advises it (release read approximately). */
const MEM_MODES_SINCE: Since = { restrictive: AFTER_7_0 };
const PLACEMENTS = ['default', 'static', 'auto'] as const;

const domainError = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, detail);

/** A nodeset attribute: a bitmap of host nodes with at least one set. */
function parseNodeset(text: string): Set<number> {
  const bits = parseBitmap(text);
  if (bits === null) throw bitmapError(text);
  if (bits.size === 0) throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `Invalid value of 'nodeset': ${text}`);
  return bits;
}

/**
 * virDomainNumatuneParseXML; `placementStatic` is the vCPU placement being static, `cells` the
 * guest NUMA cell count. Sets the canonical `<numatune>` and answers whether its memory placement
 * ended up automatic.
 */
export function parseNumatune(d: DomainDraft, placementStatic: boolean, cells: number): boolean {
  const tunes = inputAll(d, 'numatune');
  if (tunes.length > 1) throw domainError(VirErrorNumber.XML_ERROR, 'only one numatune is supported');
  const memEl = tunes[0]?.children.find((c) => c.name === 'memory' && c.ns === undefined);

  let mode: string | undefined;
  let placement: string | undefined = !placementStatic && !memEl ? 'auto' : undefined;
  let nodeset: Set<number> | undefined;
  if (memEl) {
    mode = memEl.attrs.mode;
    if (mode !== undefined && !(knownValues(MEM_MODES, MEM_MODES_SINCE, d.ctx) as readonly string[]).includes(mode)) {
      throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `Unsupported NUMA memory tuning mode '${mode}'`);
    }
    placement = memEl.attrs.placement;
    if (placement !== undefined && !(PLACEMENTS as readonly string[]).includes(placement)) {
      throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, `Unsupported NUMA memory placement mode '${placement}'`);
    }
    if (memEl.attrs.nodeset !== undefined) nodeset = parseNodeset(memEl.attrs.nodeset);
  }

  // virDomainNumatuneSet: nothing given means no memory tuning at all.
  let memory: { mode: string; placement: string; nodeset: Set<number> | undefined } | undefined;
  if (mode !== undefined || placement !== undefined || nodeset !== undefined) {
    let p = placement ?? (nodeset ? 'static' : 'default');
    if (p === 'default') p = nodeset || placementStatic ? 'static' : 'auto';
    if (p === 'static' && !nodeset) {
      throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
    }
    memory = { mode: mode ?? 'strict', placement: p, nodeset: p === 'auto' ? undefined : nodeset };
  }

  const memnodes = parseMemnodes(d, tunes[0], memory, cells);
  const kids: XmlNode[] = [];
  if (memory) {
    kids.push(
      memory.placement === 'static'
        ? node('memory', { mode: memory.mode, nodeset: formatBitmap(memory.nodeset!) })
        : node('memory', { mode: memory.mode, placement: memory.placement }),
    );
  }
  for (const [cellid, m] of [...memnodes].sort((a, b) => a[0] - b[0])) kids.push(node('memnode', { cellid, mode: m.mode, nodeset: m.nodeset }));
  setTop(d, 'numatune', ...(kids.length > 0 ? [node('numatune', {}, kids)] : []));
  return memory?.placement === 'auto';
}

/** virDomainNumatuneNodeParseXML: per guest cell bindings. */
function parseMemnodes(
  d: DomainDraft,
  tune: XmlNode | undefined,
  memory: { mode: string; placement: string } | undefined,
  cells: number,
): Map<number, { mode: string; nodeset: string }> {
  const out = new Map<number, { mode: string; nodeset: string }>();
  const nodes = tune?.children.filter((c) => c.name === 'memnode' && c.ns === undefined) ?? [];
  if (nodes.length === 0) return out;
  if (memory?.placement === 'auto') {
    throw domainError(VirErrorNumber.CONFIG_UNSUPPORTED, 'Per-node binding is not compatible with automatic NUMA placement.');
  }
  if (cells === 0) throw domainError(VirErrorNumber.XML_ERROR, "Element 'memnode' is invalid without any guest NUMA cells");
  for (const n of nodes) {
    const cellid = propUInt(n, 'cellid', 10, { required: true })!;
    if (cellid >= cells) {
      throw domainError(VirErrorNumber.XML_ERROR, "Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell");
    }
    if (out.has(cellid)) throw domainError(VirErrorNumber.XML_ERROR, `Multiple memnode elements with cellid ${cellid}`);
    const mode = propEnum(n, 'mode', knownValues(MEM_MODES, MEM_MODES_SINCE, d.ctx), {
      // 7.0's numa_conf.c turned it with its own text, with no value in it (measured).
      ownText: { ctx: d.ctx, until: AFTER_7_0, error: () => domainError(VirErrorNumber.XML_ERROR, 'Invalid mode attribute in memnode element') },
    }) ?? 'strict';
    if (memory?.mode === 'restrictive' && mode !== 'restrictive') {
      throw domainError(VirErrorNumber.XML_ERROR, "'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element");
    }
    if (mode === 'restrictive' && (memory?.mode ?? 'strict') !== 'restrictive' && ruleApplies('restrictiveMemnodeNeedsRestrictiveMemory', d.ctx)) {
      throw domainError(VirErrorNumber.XML_ERROR, "'restrictive' mode is required in memory element when mode is 'restrictive' in memnode element");
    }
    const text = n.attrs.nodeset;
    if (text === undefined) throw domainError(VirErrorNumber.XML_ERROR, 'Missing required nodeset attribute in memnode element');
    out.set(cellid, { mode, nodeset: formatBitmap(parseNodeset(text)) });
  }
  return out;
}

/**
 * `./resource`: at most one; its partition text and fibrechannel appid. A resource with neither
 * makes libvirt's parser fail without reporting anything, so define answers libvirt's generic
 * "unknown cause" error.
 */
export function parseResource(d: DomainDraft): void {
  const res = inputAll(d, 'resource');
  if (res.length > 1) throw domainError(VirErrorNumber.XML_ERROR, 'only one resource element is supported');
  const el = res[0];
  if (!el) return;
  const partition = stringOf(el.children.find((c) => c.name === 'partition' && c.ns === undefined));
  const fc = el.children.find((c) => c.name === 'fibrechannel' && c.ns === undefined);
  const appid = fc?.attrs.appid || undefined;
  if (partition === undefined && appid === undefined) throw unknownCauseError();
  setTop(d, 'resource', node('resource', {}, [partition !== undefined && textNode('partition', partition), appid !== undefined && node('fibrechannel', { appid })]));
}

/** virDomainDefResourceValidate: the Fibre Channel application id. */
export function validateResource(d: DomainDraft): void {
  const appid = d.top.get('resource')?.[0]?.children.find((c) => c.name === 'fibrechannel')?.attrs.appid;
  if (appid === undefined) return;
  // virStringIsPrintable: every byte is ASCII printable (0x20..0x7e).
  if (![...Buffer.from(appid, 'utf8')].every((b) => b >= 0x20 && b < 0x7f)) {
    throw domainError(VirErrorNumber.XML_ERROR, "Fibre Channel 'appid' is not a printable string");
  }
  const len = Buffer.byteLength(appid, 'utf8');
  if (len < 1 || len > 128) throw domainError(VirErrorNumber.INVALID_ARG, "Fibre Channel 'appid' string length must be between [1, 128]");
}
