/**
 * dumpxml: the definition given back in libvirt's layout. Memory sizes are normalised to KiB as
 * libvirt stores them; a running domain's root element carries its ID.
 */
import type { DomainDef } from './domain-def.ts';
import { formatXml, type XmlNode } from './xml-tree.ts';

const MEMORY_ELEMENTS = new Set(['memory', 'currentMemory']);

export function formatDomainXml(def: DomainDef, opts: { id?: number }): string {
  const root = def.tree;
  const attrs: Record<string, string> = { type: root.attrs.type ?? def.type };
  if (opts.id !== undefined) attrs.id = String(opts.id);
  for (const [k, v] of Object.entries(root.attrs)) if (k !== 'type' && k !== 'id') attrs[k] = v;
  const children: XmlNode[] = root.children.map((c) =>
    MEMORY_ELEMENTS.has(c.name) ? { ...c, attrs: { ...c.attrs, unit: 'KiB' }, text: String(c.name === 'memory' ? def.memoryKiB : kib(c, def.memoryKiB)) } : c,
  );
  return formatXml({ name: 'domain', attrs, children, text: '' });
}

const FACTORS: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024 };

function kib(node: XmlNode, fallback: number): number {
  const f = FACTORS[(node.attrs.unit ?? 'KiB').toLowerCase()];
  const n = Number(node.text);
  return f === undefined || !Number.isFinite(n) ? fallback : Math.ceil(n * f);
}
