/**
 * Parsing XML documents the way libvirt's libxml2 wrapper accepts them: well-formedness is checked
 * first (fast-xml-parser's validator, entity expansion off), nesting deeper than libxml2's 256
 * levels is refused, and errors carry libxml2's wording with the offending line and a caret, as
 * libvirt reports them (VIR_ERR_XML_DETAIL).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { formatXml as writeXml, type XmlNode as WritableNode } from '../views/xml.ts';

export interface XmlNode {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlNode[];
  /** Concatenated text content directly under this element (each piece trimmed). */
  text: string;
  /** The same text untrimmed, as libvirt's XPath string() and virXMLNodeContentString read it. */
  readonly raw?: string;
}

/** libxml2 refuses documents nested deeper than this without XML_PARSE_HUGE. */
export const LIBXML2_MAX_DEPTH = 256;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  // Values as written: libvirt reads attributes and element text untrimmed (' sev' is not 'sev').
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: '#comment',
  // No callback reads tag paths: skip building the path string for every element.
  jPath: false,
  // checkDepth has already refused anything deeper than libxml2 allows; fast-xml-parser's own
  // default (100) would turn 101–256 levels into an internal error.
  maxNestedTags: LIBXML2_MAX_DEPTH + 1,
});

function detailError(source: string, line: number, text: string, xml: string, column: number, emptyContext = ''): LibvirtError {
  const lines = xml.split('\n');
  const context = xml.length === 0 ? '(null)' : (lines[line - 1] || emptyContext);
  const caret = `${'-'.repeat(Math.max(0, column))}^`;
  return new LibvirtError({
    code: VirErrorNumber.XML_DETAIL,
    domain: VirErrorDomain.DOMAIN,
    message: `(${source}):${line}: ${text}\n${context}\n${caret}`,
  });
}

/**
 * Scans tag nesting without building a tree, so a hostile document cannot exhaust the stack. It
 * jumps from '<' to '<'; the line and column are only worked out for the error.
 */
function checkDepth(xml: string, source: string): void {
  let depth = 0;
  const gt = forwardSearch(xml, '>');
  for (let i = xml.indexOf('<'); i >= 0; i = xml.indexOf('<', i + 1)) {
    const next = xml.charCodeAt(i + 1);
    if (next === 47 /* / */) {
      depth--;
      continue;
    }
    if (next === 33 /* ! */ || next === 63 /* ? */) continue;
    const close = gt(i);
    if (close < 0) return; // the validator reports the unterminated tag
    if (xml.charCodeAt(close - 1) !== 47) depth++;
    if (depth > LIBXML2_MAX_DEPTH) {
      const lineStart = xml.lastIndexOf('\n', i) + 1;
      const line = lineCount(xml, lineStart);
      throw detailError(source, line, `Excessive depth in document: ${LIBXML2_MAX_DEPTH} use XML_PARSE_HUGE option`, xml, close + 1 - lineStart);
    }
  }
}

/**
 * indexOf for a scan that only moves forward: the answer for `from` stays valid until `from`
 * passes it, so a document full of '<' with one '>' at the end is searched once, not once per '<'.
 */
function forwardSearch(xml: string, needle: string): (from: number) => number {
  let found = -2;
  return (from) => {
    if (found === -1 || (found >= from && found !== -2)) return found;
    found = xml.indexOf(needle, from);
    return found;
  };
}

/** 1 + the newlines before `end`. */
function lineCount(xml: string, end: number): number {
  let n = 1;
  for (let i = xml.indexOf('\n'); i >= 0 && i < end; i = xml.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Entity expansion is off: a DTD declaring entities is refused outright (it is how billion-laughs
 * documents work), and a reference to anything but the predefined entities gets libxml2's text.
 * Real libvirt expands internal entities; the fake deliberately does not.
 */
function checkEntities(xml: string, source: string): void {
  // Most documents have neither a DTD nor a reference: two substring searches settle it.
  const decl = xml.indexOf('<!ENTITY');
  if (decl < 0 && !xml.includes('&')) return;
  if (decl >= 0) {
    throw detailError(source, lineCount(xml, decl), 'entity declarations are refused: the fake never expands entities', xml, decl - xml.lastIndexOf('\n', decl) - 1);
  }
  const ref = /&(?!(?:amp|lt|gt|apos|quot|#[0-9]+|#x[0-9a-fA-F]+);)([A-Za-z_][\w.-]*);/.exec(xml);
  if (ref) {
    const line = lineCount(xml, ref.index);
    const col = ref.index - xml.lastIndexOf('\n', ref.index) - 1 + ref[0].length;
    throw detailError(source, line, `Entity '${ref[1]}' not defined`, xml, col);
  }
}

/**
 * A document that ends inside an element: libxml2 names the innermost open element and the line it
 * opened on, and points at the end of the data (libvirt prints an empty last line as "(null)").
 */
function prematureEnd(xml: string, source: string): LibvirtError {
  const open: { name: string; line: number }[] = [];
  // Tags come in document order, so the line count carries on from the previous tag (counting from
  // the start for each tag made a long unclosed document take minutes).
  let line = 1;
  let counted = 0;
  for (const t of tags(xml)) {
    if (t.selfClosing) continue;
    if (t.closing) {
      open.pop();
      continue;
    }
    for (let nl = xml.indexOf('\n', counted); nl >= 0 && nl < t.at; nl = xml.indexOf('\n', nl + 1)) line++;
    counted = t.at;
    open.push({ name: t.name, line });
  }
  const lines = xml.split('\n');
  const last = lines[lines.length - 1]!;
  // A start tag cut off by the end (`<disk`) has its own text.
  const tail = unterminatedStartTag(xml);
  if (tail !== null) {
    return detailError(source, lines.length, `Couldn't find end of Start Tag ${tail.name} line ${lineCount(xml, tail.at)}`, xml, last.length, '(null)');
  }
  const innermost = open[open.length - 1] ?? { name: '', line: 1 };
  return detailError(source, lines.length, `Premature end of data in tag ${innermost.name} line ${innermost.line}`, xml, last.length, '(null)');
}

const isSpace = (c: string) => /\s/.test(c);

/**
 * The element tags of a document in order, skipping comments, CDATA, declarations and processing
 * instructions: a scanner in place of a regular expression that backtracked over every '<' and
 * froze the daemon on a long unterminated tag. Each search only moves forward, so the whole scan
 * is linear in the document. A tag needs a '>' after its name; a '<' without one is passed over.
 */
function* tags(xml: string): Generator<{ at: number; name: string; closing: boolean; selfClosing: boolean }> {
  const gt = forwardSearch(xml, '>');
  const commentEnd = forwardSearch(xml, '-->');
  const cdataEnd = forwardSearch(xml, ']]>');
  for (let i = xml.indexOf('<'); i >= 0; ) {
    const close = gt(i);
    if (close < 0) return; // nothing after here can be a complete tag
    if (xml.startsWith('<!--', i) && commentEnd(i + 4) >= 0) {
      i = xml.indexOf('<', commentEnd(i + 4) + 3);
      continue;
    }
    if (xml.startsWith('<![CDATA[', i) && cdataEnd(i + 9) >= 0) {
      i = xml.indexOf('<', cdataEnd(i + 9) + 3);
      continue;
    }
    const c = xml[i + 1];
    if (c === '?' || c === '!') {
      i = xml.indexOf('<', close + 1);
      continue;
    }
    const closing = c === '/';
    const nameStart = closing ? i + 2 : i + 1;
    let nameEnd = nameStart;
    while (nameEnd < close && xml[nameEnd] !== '/' && !isSpace(xml[nameEnd]!)) nameEnd++;
    if (nameEnd === nameStart) {
      i = xml.indexOf('<', i + 1);
      continue;
    }
    yield { at: i, name: xml.slice(nameStart, nameEnd), closing, selfClosing: xml[close - 1] === '/' };
    i = xml.indexOf('<', close + 1);
  }
}

/** The first start tag that no '>' ever ends (`<disk` at the end of the data), or null. */
function unterminatedStartTag(xml: string): { at: number; name: string } | null {
  for (let i = xml.indexOf('<', xml.lastIndexOf('>') + 1); i >= 0; i = xml.indexOf('<', i + 1)) {
    let end = i + 1;
    while (end < xml.length && !'/>!?'.includes(xml[end]!) && !isSpace(xml[end]!)) end++;
    if (end > i + 1) return { at: i, name: xml.slice(i + 1, end) };
  }
  return null;
}

/** fast-xml-parser's ways of saying the document ended with elements still open. */
const UNCLOSED = /^Unclosed tag '|^Invalid '\[.*\]' found/s;

function libxml2Wording(msg: string): string {
  let m = /^Expected closing tag '([^']+)' \(opened in line (\d+)[^)]*\) instead of closing tag '([^']+)'/.exec(msg);
  if (m) return `Opening and ending tag mismatch: ${m[1]} line ${m[2]} and ${m[3]}`;
  m = /^Unclosed tag '([^']+)'/.exec(msg);
  if (m) return `Premature end of data in tag ${m[1]}`;
  if (/Extra text at the end|Multiple possible root nodes/.test(msg)) return 'Extra content at the end of the document';
  if (/Closing tag '([^']+)' has not been opened/.test(msg)) return 'Extra content at the end of the document';
  return msg.replace(/\.$/, '');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', apos: "'", quot: '"' };

/** Decodes the predefined entities and character references only: no DTD entity is ever expanded. */
function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|apos|quot);/g, (_, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(Number.parseInt(e.slice(2), 16))
    : e.startsWith('#') ? String.fromCodePoint(Number.parseInt(e.slice(1), 10))
    : (ENTITIES[e] ?? ''),
  );
}

function toNodes(items: unknown[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const item of items as Record<string, unknown>[]) {
    for (const key in item) {
      if (key === ':@' || key === '#text' || key === '#comment') continue;
      const raw = item[':@'] as Record<string, string> | undefined;
      const attrs: Record<string, string> = {};
      // XML attribute-value normalisation: a literal tab, newline or CR (CRLF as one) reads as a space.
      if (raw) for (const k in raw) attrs[k] = decodeEntities(String(raw[k]).replace(/\r\n|[\t\n\r]/g, ' '));
      const kids = item[key] as Record<string, unknown>[];
      let text = '';
      let rawText = '';
      for (const k of kids) {
        if (!('#text' in k)) continue;
        rawText += String(k['#text']);
        text += String(k['#text']).trim();
      }
      out.push({ name: key, attrs, children: toNodes(kids), text: decodeEntities(text), raw: decodeEntities(rawText.replace(/\r\n?/g, '\n')) });
    }
  }
  return out;
}

/**
 * Parses one XML document into a tree; `source` is the name libvirt uses in errors
 * (e.g. "domain_definition").
 */
export function parseXmlDocument(xml: string, source: string): XmlNode {
  // libxml2 on a document with no element: empty, or whitespace only (reported at its last line).
  if (xml.length === 0) throw detailError(source, 1, 'Document is empty', '', 0);
  if (xml.trim().length === 0) {
    const lines = xml.split('\n');
    const last = lines[lines.length - 1]!;
    throw detailError(source, lines.length, "Start tag expected, '<' not found", xml, last.length);
  }
  checkDepth(xml, source);
  checkEntities(xml, source);
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    if (UNCLOSED.test(msg)) throw prematureEnd(xml, source);
    throw detailError(source, line, libxml2Wording(msg), xml, col);
  }
  const roots = toNodes(parser.parse(xml) as unknown[]);
  const root = roots[0];
  if (!root || roots.length > 1) throw detailError(source, 1, 'Extra content at the end of the document', xml, xml.length);
  return root;
}

export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

export function children(node: XmlNode, name: string): XmlNode[] {
  return node.children.filter((c) => c.name === name);
}

/** Formats a tree as libvirt does (two-space indentation, single-quoted attributes). */
export function formatXml(node: XmlNode): string {
  return writeXml(writable(node));
}

function writable(n: XmlNode): WritableNode {
  const leafText = n.children.length === 0 && n.text !== '' ? { text: n.text } : {};
  return { name: n.name, attrs: n.attrs, children: n.children.map(writable), ...leafText };
}

export function element(name: string, attrs: Record<string, string> = {}, kids: XmlNode[] = [], text = ''): XmlNode {
  return { name, attrs, children: kids, text };
}
