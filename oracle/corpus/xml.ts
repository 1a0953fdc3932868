// A minimal XML tree and its pretty-printer: 2-space indentation, attributes in single quotes,
// one element per line, text-only elements on one line — the way a person writes domain XML.

export type Attrs = Record<string, string | number | null | undefined | false>;
export type Child = XNode | string | null | undefined | false;

export type XNode =
  | { kind: 'el'; name: string; attrs: [string, string][]; children: XNode[] }
  | { kind: 'text'; text: string }
  /** Written verbatim on its own line, indented like an element (comments, deliberate breakage). */
  | { kind: 'raw'; text: string };

export type El = Extract<XNode, { kind: 'el' }>;

export function h(name: string, attrs: Attrs = {}, ...children: Child[]): El {
  const list: [string, string][] = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    list.push([k, String(v)]);
  }
  return { kind: 'el', name, attrs: list, children: kids(children) };
}

/** An element holding only text: h('name', {}, 'web-01') without the braces. */
export function t(name: string, text: string | number, attrs: Attrs = {}): El {
  return h(name, attrs, String(text));
}

export function raw(text: string): XNode {
  return { kind: 'raw', text };
}

export function kids(children: readonly Child[]): XNode[] {
  const out: XNode[] = [];
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    out.push(typeof c === 'string' ? { kind: 'text', text: c } : c);
  }
  return out;
}

export function escAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
}

export function escText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function renderLines(n: XNode, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  if (n.kind === 'raw') {
    for (const line of n.text.split('\n')) out.push(line === '' ? '' : pad + line);
    return;
  }
  if (n.kind === 'text') {
    out.push(pad + escText(n.text));
    return;
  }
  const attrs = n.attrs.map(([k, v]) => ` ${k}='${escAttr(v)}'`).join('');
  if (n.children.length === 0) {
    out.push(`${pad}<${n.name}${attrs}/>`);
    return;
  }
  const only = n.children[0];
  if (n.children.length === 1 && only && only.kind === 'text') {
    out.push(`${pad}<${n.name}${attrs}>${escText(only.text)}</${n.name}>`);
    return;
  }
  out.push(`${pad}<${n.name}${attrs}>`);
  for (const c of n.children) renderLines(c, depth + 1, out);
  out.push(`${pad}</${n.name}>`);
}

/** The document text: the root element pretty-printed, ending in one newline. */
export function render(root: XNode): string {
  const out: string[] = [];
  renderLines(root, 0, out);
  return out.join('\n') + '\n';
}

/** A copy of an element with some attributes replaced (undefined removes), order kept. */
export function withAttrs(el: El, attrs: Attrs): El {
  const list: [string, string][] = [];
  const seen = new Set<string>();
  for (const [k, v] of el.attrs) {
    if (k in attrs) {
      seen.add(k);
      const nv = attrs[k];
      if (nv !== null && nv !== undefined && nv !== false) list.push([k, String(nv)]);
    } else {
      list.push([k, v]);
    }
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (!seen.has(k) && v !== null && v !== undefined && v !== false) list.push([k, String(v)]);
  }
  return { ...el, attrs: list };
}
