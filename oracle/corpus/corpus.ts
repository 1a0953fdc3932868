// The corpus being built: entries with unique, checked ids, written as JSON lines.

export interface Entry {
  id: string;
  group: string;
  xml: string;
}

const SLUG = /^[A-Za-z0-9][A-Za-z0-9_.=+-]*(\/[A-Za-z0-9_.=+-]+)*$/;

export class Corpus {
  readonly entries: Entry[] = [];
  private readonly ids = new Set<string>();

  add(group: string, slug: string, xml: string): void {
    if (!SLUG.test(slug)) throw new Error(`bad slug for ${group}: ${JSON.stringify(slug)}`);
    const id = `${group}/${slug}`;
    if (this.ids.has(id)) throw new Error(`duplicate id ${id}`);
    this.ids.add(id);
    this.entries.push({ id, group, xml });
  }

  count(group: string): number {
    return this.entries.filter((e) => e.group === group).length;
  }

  jsonl(): string {
    return this.entries.map((e) => JSON.stringify({ id: e.id, group: e.group, xml: e.xml })).join('\n') + '\n';
  }
}

/** A value as an id fragment: letters, digits, '.', '-' and '_' kept; anything else as +XX (hex). */
export function slugPart(v: string): string {
  if (v === '') return 'empty';
  return v.replace(/[^A-Za-z0-9._-]/g, (c) => `+${c.codePointAt(0)?.toString(16) ?? ''}`);
}
