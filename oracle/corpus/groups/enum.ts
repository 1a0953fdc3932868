// enum/*: every placement (placements.ts) × every value libvirt's schema allows there, plus four
// invalid ones: 'bogus', '', the first valid value uppercased, and the first valid value padded
// with spaces. Ids: enum/<site>/<value> and enum/<site>/invalid-<kind>.

import type { Corpus } from '../corpus.ts';
import { slugPart } from '../corpus.ts';
import { domainXml } from '../domain.ts';
import { PLACEMENTS, type Placement } from '../placements.ts';
import type { DomainSchema } from '../schema.ts';

export function siteSlug(p: Placement): string {
  const path = p.path === '' ? ['domain'] : p.path.replace(/^devices\//, '').split('/');
  const where = Object.values(p.where ?? {});
  return [...path, ...where, p.name.replace(/^@/, ''), ...(p.variant ? [p.variant] : [])].map(slugPart).join('.');
}

export function valuesFor(schema: DomainSchema, p: Placement): { values: string[]; fromSchema: boolean } {
  const found = schema.lookup(p.path, p.name, p.where);
  if (found && found.length > 0) return { values: [...new Set([...found, ...(p.extra ?? [])])], fromSchema: true };
  if (p.fallback) return { values: [...new Set([...p.fallback, ...(p.extra ?? [])])], fromSchema: false };
  throw new Error(`schema has no enum for ${p.path} ${p.name} ${JSON.stringify(p.where ?? {})} and the placement gives no fallback`);
}

export function invalidValues(values: string[]): [string, string][] {
  const first = values[0] ?? 'x';
  const out: [string, string][] = [['bogus', 'bogus'], ['empty', '']];
  const upper = first.toUpperCase();
  if (upper !== first && !values.includes(upper)) out.push(['upper', upper]);
  out.push(['padded', ` ${first} `]);
  return out.filter(([, v]) => !values.includes(v));
}

export function addEnum(c: Corpus, schema: DomainSchema): void {
  for (const p of PLACEMENTS) {
    const { values, fromSchema } = valuesFor(schema, p);
    if (fromSchema && p.path !== '' && !schema.hasPath(p.path)) throw new Error(`schema has no element path ${p.path}`);
    const site = siteSlug(p);
    for (const v of values) c.add('enum', `${site}/${slugPart(v)}`, domainXml(p.build(v)));
    for (const [kind, v] of invalidValues(values)) c.add('enum', `${site}/invalid-${kind}`, domainXml(p.build(v)));
  }
}
