/**
 * Parsing XML documents the way libvirt's libxml2 wrapper (virXMLParseHelper) accepts them: the
 * well-formedness scanner in xml/ follows libxml2 2.9.14's order, so the first fatal error is the
 * one libvirt reports, and it is formatted as libvirt's catchXMLError does (VIR_ERR_XML_DETAIL:
 * "(source):LINE: MESSAGE", the line around libxml2's cursor, and a caret under it).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { formatXml as writeXml, type XmlWriterNode as WritableNode } from '../views/xml.ts';
import { isUtf8 } from 'node:buffer';
import { decodeEscaped } from '../../src/xdr/types.ts';
import { CR, LF, TAB } from './xml/chars.ts';
import { utf8Input } from './xml/utf8.ts';
import { type RawElement, Scanner, XmlSyntaxError } from './xml/scanner.ts';

export { LIBXML2_MAX_DEPTH } from './xml/scanner.ts';

export interface XmlNode {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlNode[];
  /** Concatenated text content directly under this element (each piece trimmed). */
  text: string;
  /** The same text untrimmed, as libvirt's XPath string() and virXMLNodeContentString read it. */
  readonly raw?: string;
  /**
   * The element's namespace URI, when it is in one (a declared prefix or a default namespace).
   * libvirt's XPath steps name elements without a namespace, so such elements never match them.
   */
  readonly ns?: string;
  /** The local part when `name` carries a declared prefix (`commandline` of `qemu:commandline`). */
  readonly local?: string;
  /**
   * Child elements and text runs in document order, when the element has both (libxml2's node
   * list, for parts libvirt re-serialises with libxml2, such as `<metadata>`).
   */
  readonly content?: readonly (XmlNode | string)[];
  /** A pre-serialised form printed instead of the node (see views/xml.ts). */
  readonly serialised?: string;
}

/** The name libxml2 gives the node: the local part when its prefix resolved, else as written. */
export function nodeName(n: XmlNode): string {
  return n.local ?? n.name;
}

const enc = new TextEncoder();
const ONE_PASS_MAX_BYTES = 64 * 1024;

/**
 * Parses one XML document into a tree; `source` is the name libvirt uses in errors
 * (e.g. "domain_definition").
 */
export function parseXmlDocument(xml: string, source: string): XmlNode {
  // libvirt hands libxml2 a C string: it ends at the first NUL.
  const nul = xml.indexOf('\0');
  const text = nul >= 0 ? xml.slice(0, nul) : xml;
  // Bytes that are not proper UTF-8 (xml/utf8.ts): the scanner reads a cleaned copy.
  const u8 = utf8Input(text);
  const bytes = u8 ? u8.clean : enc.encode(text);
  const ascii = !u8 && bytes.length === text.length ? text : null;
  let root: RawElement;
  try {
    // A large document is checked first without keeping anything, then built: a hostile one is
    // refused before half a million elements are retained. Both passes find the same first error,
    // so a small document (all a domain needs) is built in one pass.
    if (bytes.length > ONE_PASS_MAX_BYTES || u8?.fault) new Scanner(bytes, bytes.length, ascii, false).document();
    if (u8?.fault) throw new XmlSyntaxError(u8.fault.libxmlMessage, lineAt(u8.raw, u8.fault.pos), u8.fault.pos);
    root = new Scanner(bytes, bytes.length, ascii).document();
  } catch (e) {
    if (e instanceof XmlSyntaxError) {
      // Whichever libxml2 meets first: a well-formedness error before the undecodable character, or that character.
      const first = u8?.fault && !e.input && e.pos > u8.fault.pos ? new XmlSyntaxError(u8.fault.libxmlMessage, lineAt(u8.raw, u8.fault.pos), u8.fault.pos) : e;
      throw detailError(source, first, u8 ? u8.raw : bytes);
    }
    throw e;
  }
  return toNode(root, new Map());
}

/** libxml2's line number at a byte offset. */
function lineAt(b: Uint8Array, pos: number): number {
  let line = 1;
  for (let i = b.indexOf(LF); i >= 0 && i < pos; i = b.indexOf(LF, i + 1)) line++;
  return line;
}

/** libvirt's catchXMLError: the line around the cursor, a caret under it (tabs kept as tabs). */
function detailError(source: string, e: XmlSyntaxError, doc: Uint8Array): LibvirtError {
  const b = e.input ?? doc;
  const at = (i: number) => (i < b.length ? b[i]! : 0);
  let c = Math.min(e.pos, b.length);
  while (c > 0 && (at(c) === LF || at(c) === CR)) c--;
  while (c > 0 && at(c) !== LF && at(c) !== CR) c--;
  if (at(c) === LF || at(c) === CR) c++;
  const col = e.pos - c;
  let end = c;
  while (end < b.length && at(end) !== LF && at(end) !== CR) end++;
  const line = b.subarray(c, end);
  // One dash per byte of the line before the cursor, tabs kept.
  const before = line.subarray(0, Math.max(0, col));
  let caret = '';
  let from = 0;
  for (let tab = before.indexOf(TAB); tab >= 0; tab = before.indexOf(TAB, from)) {
    caret += `${'-'.repeat(tab - from)}\t`;
    from = tab + 1;
  }
  caret += '-'.repeat(before.length - from);
  // The line as libvirt prints it: its bytes, invalid ones included (escaped, see xdr/types.ts).
  const context = line.length === 0 ? '(null)' : isUtf8(line) ? Buffer.from(line).toString('utf8') : decodeEscaped(line);
  const where = e.input ? `at line ${e.line}` : `(${source}):${e.line}`;
  return new LibvirtError({
    code: VirErrorNumber.XML_DETAIL,
    domain: VirErrorDomain.DOMAIN,
    message: `${where}: ${e.libxmlMessage}${context}\n${caret}^`,
  });
}

/** The tree callers read, with namespaces resolved as libxml2's SAX2 builder resolves them. */
function toNode(root: RawElement, outer: ReadonlyMap<string, string>): XmlNode {
  // An explicit stack: documents nest up to 257 levels and callers' stacks should not care.
  type Job = { el: RawElement; scope: ReadonlyMap<string, string>; out: XmlNode[]; slot?: [(XmlNode | string)[], number] };
  const top: XmlNode[] = [];
  const jobs: Job[] = [{ el: root, scope: outer, out: top }];
  while (jobs.length > 0) {
    const { el, scope: parentScope, out, slot } = jobs.pop()!;
    let scope = parentScope;
    if (el.nsDecls !== null) {
      const m = new Map(parentScope);
      for (const [p, uri] of el.nsDecls) m.set(p, uri);
      scope = m;
    }
    const uri = el.prefix === null ? scope.get('') : scope.get(el.prefix);
    const attrs: Record<string, string> = {};
    for (let i = 0; i < el.attrs.length; i++) attrs[el.attrs[i]![0]] = el.attrs[i]![1];
    const kids: XmlNode[] = [];
    // Plain loops: this runs for every element of every document defined.
    let raw = '';
    const elems: RawElement[] = [];
    for (let i = 0; i < el.content.length; i++) {
      const c = el.content[i]!;
      if (typeof c === 'string') raw += c;
      else elems.push(c);
    }
    const content: (XmlNode | string)[] | undefined = raw !== '' && elems.length > 0 ? [] : undefined;
    const node: { -readonly [K in keyof XmlNode]: XmlNode[K] } = { name: el.qname, attrs, children: kids, text: el.pieces.join(''), raw };
    if (uri !== undefined && uri !== '') node.ns = uri;
    if (el.prefix !== null && uri !== undefined) node.local = el.local;
    if (content) node.content = content;
    out.push(node);
    if (slot) slot[0][slot[1]] = node;
    // Children are pushed in reverse so they are built, and appended, in document order.
    if (content) {
      // Placeholders, filled as each child element is built.
      const slots: number[] = [];
      for (const c of el.content) {
        if (typeof c !== 'string') slots.push(content.length);
        content.push(typeof c === 'string' ? c : '');
      }
      for (let i = elems.length - 1; i >= 0; i--) jobs.push({ el: elems[i]!, scope, out: kids, slot: [content, slots[i]!] });
    } else {
      for (let i = elems.length - 1; i >= 0; i--) jobs.push({ el: elems[i]!, scope, out: kids });
    }
  }
  return top[0]!;
}

/** libvirt's `./name[1]`: the first child of that name in no namespace. */
export function child(node: XmlNode, name: string): XmlNode | undefined {
  const kids = node.children;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.name === name && c.ns === undefined) return c;
  }
  return undefined;
}

/** libvirt's `./name`: every child of that name in no namespace. */
export function children(node: XmlNode, name: string): XmlNode[] {
  const out: XmlNode[] = [];
  for (const c of node.children) if (c.name === name && c.ns === undefined) out.push(c);
  return out;
}

/** Formats a tree as libvirt does (two-space indentation, single-quoted attributes). */
export function formatXml(node: XmlNode): string {
  return writeXml(writable(node));
}

function writable(n: XmlNode): WritableNode {
  if (n.serialised !== undefined) return { name: n.name, attrs: {}, children: [], serialised: n.serialised };
  const leafText = n.children.length === 0 && n.text !== '' ? { text: n.text } : {};
  return { name: n.name, attrs: n.attrs, children: n.children.map(writable), ...leafText };
}

export function element(name: string, attrs: Record<string, string> = {}, kids: XmlNode[] = [], text = ''): XmlNode {
  return { name, attrs, children: kids, text };
}
