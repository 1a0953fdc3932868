/**
 * A tiny XML writer that prints the way libvirt's virBuffer formatters do: two-space indentation,
 * single-quoted attributes, empty elements self-closed, text-only elements on one line.
 */

export type Attrs = Readonly<Record<string, string | number | undefined>>;

/** An element as the writer prints it (the parsed tree of fakelibvirt/libvirt/xml-tree.ts is `XmlNode`). */
export interface XmlWriterNode {
  readonly name: string;
  readonly attrs: Attrs;
  readonly children: readonly XmlWriterNode[];
  readonly text?: string;
  /**
   * The node already serialised (its first line unindented, later lines carrying their own
   * indentation), printed at the node's indentation: libvirt prints `<metadata>` as libxml2's
   * dumper returns it.
   */
  readonly serialised?: string;
}

/** An element with child elements (undefined/false children are dropped, so callers can gate inline). */
export function el(name: string, attrs: Attrs = {}, children: readonly (XmlWriterNode | null | undefined | false)[] = []): XmlWriterNode {
  return { name, attrs, children: children.filter((c): c is XmlWriterNode => !!c) };
}

/** An element holding only text, e.g. `<arch>x86_64</arch>`. */
export function textEl(name: string, text: string | number, attrs: Attrs = {}): XmlWriterNode {
  return { name, attrs, children: [], text: String(text) };
}

/** libvirt's `<enum name='x'><value>…</value></enum>`; an empty list prints `<enum name='x'/>`. */
export function enumEl(name: string, values: readonly string[]): XmlWriterNode {
  return el('enum', { name }, values.map((v) => textEl('value', v)));
}

/** virBufferEscapeString: the same five entities in text and attribute values alike. */
export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

const escapeAttr = escapeText;

function formatAttrs(attrs: Attrs): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${escapeAttr(String(v))}'`)
    .join('');
}

/**
 * libxml2 stops indenting at 60 columns (xmlsave.c's MAX_INDENT, 30 levels of two spaces), which
 * is what bounds libvirt's re-indented `<metadata>`: a 250-level element measured on libvirt 9.0
 * formats to 30,793 bytes, a 176 kB definition of 100 of them to 3.0 MB (17×).
 */
const MAX_INDENT_LEVELS = 30;

/** Serialises one node at the given depth; every line ends with a newline. */
export function formatXml(node: XmlWriterNode, depth = 0): string {
  const pad = '  '.repeat(Math.min(depth, MAX_INDENT_LEVELS));
  if (node.serialised !== undefined) return `${pad}${node.serialised}\n`;
  const open = `${pad}<${node.name}${formatAttrs(node.attrs)}`;
  if (node.text !== undefined) return `${open}>${escapeText(node.text)}</${node.name}>\n`;
  if (node.children.length === 0) return `${open}/>\n`;
  return `${open}>\n${node.children.map((c) => formatXml(c, depth + 1)).join('')}${pad}</${node.name}>\n`;
}
