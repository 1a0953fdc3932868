// Reads libvirt's RELAX NG grammar for domain XML (the files the libvirt-common package installs
// under /usr/share/libvirt/schemas) and lists every enumerated attribute and element it defines:
// where it sits in a domain document (the element path from <domain>), which sibling attributes
// fix its branch (e.g. controller model under type='usb'), and its allowed values.
//
// Only what the corpus needs is interpreted: element, attribute, ref, define (with combine),
// include, choice, group, interleave, optional, zeroOrMore, oneOrMore, value, data, text, empty.

import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';

export const SCHEMA_DIR = '/usr/share/libvirt/schemas';

/** One RNG node, reduced to what the walker needs. */
interface RngNode {
  tag: string;
  attrs: Record<string, string>;
  children: RngNode[];
  text: string;
}

/** An enumerated attribute or element found in the grammar. */
export interface EnumSite {
  kind: 'attribute' | 'element';
  name: string;
  /** Element names from <domain> (exclusive) down to the owning element (attribute) or the parent (element). */
  path: string[];
  /** Attributes of the owning element fixed to one or a few values in the branch this site is in. */
  context: Record<string, string[]>;
  /** The enumerated values, in schema order, without duplicates. */
  values: string[];
  /** True when the content also allows free data (a <data>/<text> alternative next to the values). */
  open: boolean;
}

type Parsed = Record<string, unknown>;

function toNodes(list: Parsed[]): RngNode[] {
  const out: RngNode[] = [];
  for (const item of list) {
    const attrsRaw = (item[':@'] ?? {}) as Record<string, string>;
    for (const key of Object.keys(item)) {
      if (key === ':@' || key === '#comment') continue;
      if (key === '#text') continue;
      const kids = (item[key] ?? []) as Parsed[];
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(attrsRaw)) attrs[k.replace(/^@_/, '')] = String(v);
      const text = kids.filter((k) => '#text' in k).map((k) => String(k['#text'])).join('');
      out.push({ tag: key, attrs, children: toNodes(kids), text });
    }
  }
  return out;
}

function parseFile(path: string, text: string): RngNode {
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    commentPropName: '#comment',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
  });
  const doc = toNodes(parser.parse(text) as Parsed[]);
  const grammar = doc.find((n) => n.tag === 'grammar');
  if (!grammar) throw new Error(`${path}: no <grammar> root`);
  return grammar;
}

/**
 * All defines reachable from one grammar file through its includes (combine="choice" merges), and
 * a digest of the files read, in the order read.
 */
function loadDefines(dir: string, file: string): { defines: Map<string, RngNode>; digest: string } {
  const defines = new Map<string, RngNode>();
  const seen = new Set<string>();
  const hash = createHash('sha256');
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    const text = readFileSync(join(dir, f), 'utf8');
    hash.update(`${f}\n${text}`);
    const grammar = parseFile(join(dir, f), text);
    for (const child of grammar.children) {
      if (child.tag === 'include') visit(child.attrs.href ?? '');
    }
    for (const child of grammar.children) {
      if (child.tag !== 'define') continue;
      const name = child.attrs.name ?? '';
      const prev = defines.get(name);
      if (prev && child.attrs.combine === 'choice') {
        const merged: RngNode = {
          tag: 'define', attrs: { name }, text: '',
          children: [{ tag: 'choice', attrs: {}, text: '', children: [...prev.children, ...child.children] }],
        };
        defines.set(name, merged);
      } else if (!prev || child.attrs.combine === undefined) {
        defines.set(name, child);
      }
    }
  };
  visit(file);
  return { defines, digest: hash.digest('hex').slice(0, 16) };
}

/** An attribute, or an optional/group holding only attributes. */
function isAttributeOnly(n: RngNode): boolean {
  if (n.tag === 'attribute') return true;
  if (n.tag === 'optional' || n.tag === 'group') return n.children.length > 0 && n.children.every(isAttributeOnly);
  return false;
}

export class DomainSchema {
  readonly sites: EnumSite[] = [];
  /** Every element path ("devices/disk/target") the grammar allows under <domain>. */
  readonly elementPaths = new Set<string>();
  /** sha256 (first 16 hex digits) of the grammar files read: which schema the corpus came from. */
  readonly digest: string;
  private readonly defines: Map<string, RngNode>;

  constructor(dir = SCHEMA_DIR) {
    if (!existsSync(join(dir, 'domain.rng'))) {
      throw new Error(`${dir}/domain.rng is missing: install libvirt-common (apt-get install libvirt-daemon)`);
    }
    const loaded = loadDefines(dir, 'domain.rng');
    this.defines = loaded.defines;
    this.digest = loaded.digest;
    const domain = this.defines.get('domain');
    if (!domain) throw new Error('domain.rng: no <define name="domain">');
    const el = domain.children.find((c) => c.tag === 'element');
    if (!el) throw new Error('domain.rng: <define name="domain"> holds no element');
    this.walkContent(el.children, [], {}, new Set());
    this.dedupe();
  }

  private ref(name: string): RngNode[] {
    const d = this.defines.get(name);
    if (!d) throw new Error(`schema: <ref name="${name}"> has no define`);
    return d.children;
  }

  /** Values of a content model that is only values (through refs and choices); null when not an enum. */
  private enumOf(nodes: RngNode[], depth = 0): { values: string[]; open: boolean } | null {
    if (depth > 20) return null;
    const values: string[] = [];
    let open = false;
    let any = false;
    for (const n of nodes) {
      switch (n.tag) {
        case 'value': values.push(n.text); any = true; break;
        case 'choice': {
          const sub = this.enumOfChoice(n.children, depth + 1);
          if (!sub) return null;
          values.push(...sub.values); open ||= sub.open; any = true;
          break;
        }
        case 'ref': {
          const sub = this.enumOf(this.ref(n.attrs.name ?? ''), depth + 1);
          if (!sub) return null;
          values.push(...sub.values); open ||= sub.open; any = true;
          break;
        }
        default: return null;
      }
    }
    return any && values.length > 0 ? { values, open } : null;
  }

  /** A choice whose branches are values, refs to enums, or (marked open) data/text. */
  private enumOfChoice(nodes: RngNode[], depth: number): { values: string[]; open: boolean } | null {
    const values: string[] = [];
    let open = false;
    for (const n of nodes) {
      if (n.tag === 'data' || n.tag === 'text') { open = true; continue; }
      if (n.tag === 'ref') {
        const sub = this.enumOf(this.ref(n.attrs.name ?? ''), depth + 1);
        if (sub) { values.push(...sub.values); open ||= sub.open; } else { open = true; }
        continue;
      }
      const sub = this.enumOf([n], depth + 1);
      if (!sub) return null;
      values.push(...sub.values); open ||= sub.open;
    }
    return { values, open };
  }

  /** Attributes fixed to an enum directly in this group (through refs): the branch's context. */
  private groupContext(nodes: RngNode[], depth = 0): Record<string, string[]> {
    const ctx: Record<string, string[]> = {};
    if (depth > 6) return ctx;
    for (const n of nodes) {
      if (n.tag === 'attribute' && n.attrs.name) {
        const e = this.enumOf(n.children);
        if (e && !e.open && e.values.length <= 8) ctx[n.attrs.name] = e.values;
      } else if (n.tag === 'ref') {
        Object.assign(ctx, this.groupContext(this.ref(n.attrs.name ?? ''), depth + 1));
      } else if (n.tag === 'group' || n.tag === 'interleave') {
        Object.assign(ctx, this.groupContext(n.children, depth + 1));
      }
    }
    return ctx;
  }

  private walkContent(nodes: RngNode[], path: string[], ctx: Record<string, string[]>, stack: Set<string>): void {
    const here = { ...ctx, ...this.groupContext(nodes) };
    for (const n of nodes) this.walk(n, path, here, stack);
  }

  private walk(n: RngNode, path: string[], ctx: Record<string, string[]>, stack: Set<string>): void {
    switch (n.tag) {
      case 'element': {
        const name = n.attrs.name;
        if (!name) return; // anyName: foreign content (metadata), not enumerable
        // The element's text content, its attributes set aside (<type arch=…>hvm</type>).
        const e = this.enumOf(n.children.filter((c) => !isAttributeOnly(c)));
        if (e) this.sites.push({ kind: 'element', name, path, context: ctx, values: e.values, open: e.open });
        const sub = [...path, name];
        const key = sub.join('/');
        this.elementPaths.add(key);
        // Recursive elements (a backingStore inside a backingStore) are walked once.
        if (path.includes(name) || stack.has(`@${key}`)) return;
        const inner = new Set(stack);
        inner.add(`@${key}`);
        this.walkContent(n.children, sub, {}, inner);
        return;
      }
      case 'attribute': {
        const name = n.attrs.name;
        if (!name) return;
        const e = this.enumOf(n.children);
        if (e) this.sites.push({ kind: 'attribute', name, path, context: ctx, values: e.values, open: e.open });
        return;
      }
      case 'ref': {
        const name = n.attrs.name ?? '';
        const key = `${path.join('/')}#${name}`;
        if (stack.has(key)) return;
        const inner = new Set(stack);
        inner.add(key);
        this.walkContent(this.ref(name), path, ctx, inner);
        return;
      }
      case 'choice':
        // Each branch is its own context: a group's fixed attributes do not leak into its siblings.
        for (const c of n.children) {
          if (c.tag === 'group' || c.tag === 'interleave') this.walkContent(c.children, path, ctx, stack);
          else this.walkContent([c], path, ctx, stack);
        }
        return;
      case 'group': case 'interleave': case 'optional': case 'zeroOrMore': case 'oneOrMore': case 'mixed':
        this.walkContent(n.children, path, ctx, stack);
        return;
      default:
        return;
    }
  }

  private dedupe(): void {
    const seen = new Map<string, EnumSite>();
    for (const s of this.sites) {
      const key = JSON.stringify([s.kind, s.name, s.path, s.context, s.values]);
      if (!seen.has(key)) seen.set(key, s);
    }
    this.sites.splice(0, this.sites.length, ...seen.values());
    for (const s of this.sites) s.values = [...new Set(s.values)];
  }

  /**
   * The enum of an attribute (`@name`) or element (`name`) at a path, optionally in the branch
   * where the owning element's attributes have the given values. Sites from several branches that
   * all match are merged (union, schema order). Null when the schema has no enum there.
   */
  lookup(path: string, name: string, where: Record<string, string> = {}): string[] | null {
    const kind = name.startsWith('@') ? 'attribute' : 'element';
    const bare = name.replace(/^@/, '');
    const p = path === '' ? [] : path.split('/');
    const values: string[] = [];
    let found = false;
    for (const s of this.sites) {
      if (s.kind !== kind || s.name !== bare) continue;
      if (s.path.length !== p.length || s.path.some((x, i) => x !== p[i])) continue;
      const ok = Object.entries(where).every(([k, v]) => !(k in s.context) || (s.context[k] ?? []).includes(v));
      if (!ok) continue;
      found = true;
      values.push(...s.values);
    }
    return found ? [...new Set(values)] : null;
  }

  hasPath(path: string): boolean {
    return this.elementPaths.has(path);
  }
}
