/**
 * `<metadata>` as libvirt keeps and prints it: xmlCopyNode of `./metadata[1]` (namespaces declared
 * outside the copy are re-declared on its root, the `<metadata>` element), then
 * virXMLNodeSanitizeNamespaces (children without a namespace, and later children sharing an
 * earlier one's namespace URI, removed — text between them too), printed by libxml2's
 * xmlNodeDump at level 1 with formatting on (util/virxml.c virXMLFormatMetadata): double-quoted
 * attributes, libxml2's escaping, and indentation only inside elements without text children.
 * Comments are not kept by our scanner, so they are not printed.
 */
import type { XmlNode } from '../xml-tree.ts';
import { inputFirst, setTop, type DraftStep } from './draft.ts';

/** xmlsave.c: two spaces per level, at most 60 columns. */
const indent = (level: number) => '  '.repeat(Math.min(level, 30));

const prefixOf = (qname: string) => {
  const colon = qname.indexOf(':');
  return colon < 0 ? '' : qname.slice(0, colon);
};
const isDecl = (name: string) => name === 'xmlns' || name.startsWith('xmlns:');
const declPrefix = (name: string) => (name === 'xmlns' ? '' : name.slice(6));

/** Declarations in scope at `el` (inner ones win), from its ancestors outward. */
function lookup(prefix: string, chain: readonly XmlNode[]): string | undefined {
  const key = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
  for (let i = chain.length - 1; i >= 0; i--) {
    const v = chain[i]!.attrs[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** libxml2's xmlAttrSerializeTxtContent without a document encoding. */
function escapeAttr(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '&') out += '&amp;';
    else if (ch === '"') out += '&quot;';
    else if (ch === '\n') out += '&#10;';
    else if (ch === '\r') out += '&#13;';
    else if (ch === '\t') out += '&#9;';
    else if (c >= 0x80) out += `&#x${c.toString(16).toUpperCase()};`;
    else out += ch;
  }
  return out;
}

/** libxml2's default content escaping (xmlEscapeContent). */
const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');

/** The namespace URI an element's prefix resolves to in the original document. */
const elementNs = (el: XmlNode, chain: readonly XmlNode[]) => lookup(prefixOf(el.name), [...chain, el]);

/**
 * The prefixes the copy must declare on its root: those its elements and prefixed attributes
 * use but that are declared above `<metadata>`, in the order the copy meets them.
 */
function hoisted(meta: XmlNode, outer: readonly XmlNode[]): [string, string][] {
  const out = new Map<string, string>();
  const visit = (el: XmlNode, inside: readonly XmlNode[]) => {
    const chain = [...inside, el];
    const need = (prefix: string) => {
      if (prefix === 'xml') return;
      if (lookup(prefix, chain) !== undefined || out.has(prefix)) return;
      const uri = lookup(prefix, outer);
      if (uri !== undefined && uri !== '') out.set(prefix, uri);
    };
    if (prefixOf(el.name) !== '') need(prefixOf(el.name));
    for (const k of Object.keys(el.attrs)) if (!isDecl(k) && prefixOf(k) !== '') need(prefixOf(k));
    for (const c of el.children) visit(c, chain);
  };
  visit(meta, []);
  return [...out];
}

function dump(el: XmlNode, level: number, extraDecls: readonly [string, string][] = [], kids?: readonly (XmlNode | string)[]): string {
  const entries = Object.entries(el.attrs);
  const decls = [...entries.filter(([k]) => isDecl(k)).map(([k, v]) => [declPrefix(k), v] as [string, string]), ...extraDecls];
  let s = `<${el.name}`;
  for (const [p, uri] of decls) s += ` ${p === '' ? 'xmlns' : `xmlns:${p}`}="${escapeAttr(uri)}"`;
  for (const [k, v] of entries) if (!isDecl(k)) s += ` ${k}="${escapeAttr(v)}"`;
  const content = kids ?? el.content ?? (el.children.length > 0 ? el.children : el.raw ? [el.raw] : el.text ? [el.text] : []);
  if (content.length === 0) return `${s}/>`;
  s += '>';
  const format = content.every((c) => typeof c !== 'string');
  if (format) s += '\n';
  for (const c of content) {
    if (format) s += indent(level + 1);
    s += typeof c === 'string' ? escapeText(c) : dump(c, level + 1);
    if (format) s += '\n';
  }
  if (format) s += indent(level);
  return `${s}</${el.name}>`;
}

/** `./metadata[1]`, copied, sanitised and serialised as libxml2 prints it. */
export const parseMetadata: DraftStep = (d) => {
  const meta = inputFirst(d, 'metadata');
  if (!meta) return;
  const outer = [d.input];
  const decls = hoisted(meta, outer);
  const scope = [d.input, { ...meta, attrs: { ...meta.attrs, ...Object.fromEntries(decls.map(([p, u]) => [p === '' ? 'xmlns' : `xmlns:${p}`, u])) } }];
  const seen = new Set<string>();
  const kept: XmlNode[] = [];
  for (const c of meta.children) {
    const ns = elementNs(c, scope);
    if (ns === undefined || ns === '' || seen.has(ns)) continue;
    seen.add(ns);
    kept.push(c);
  }
  const serialised = dump(meta, 1, decls, kept);
  // The children stay readable (each with its namespace declared on it) for the host model.
  const children = kept.map((c) => {
    const p = prefixOf(c.name);
    const key = p === '' ? 'xmlns' : `xmlns:${p}`;
    return c.attrs[key] !== undefined ? c : { ...c, attrs: { [key]: elementNs(c, scope)!, ...c.attrs } };
  });
  setTop(d, 'metadata', { name: 'metadata', attrs: {}, children, text: '', serialised });
};
