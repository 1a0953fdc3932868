// Writes oracle/corpus/domains.jsonl: the domain XML corpus real libvirt is asked to judge.
// Deterministic: every draw comes from seeded streams (prng.ts), enums from libvirt's installed
// RELAX NG schema (schema.ts). Run: npm run oracle:corpus

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Corpus } from './corpus.ts';
import { addValid } from './groups/valid.ts';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'domains.jsonl');

const corpus = new Corpus();
addValid(corpus);

writeFileSync(out, corpus.jsonl());
const groups = [...new Set(corpus.entries.map((e) => e.group))];
for (const g of groups) console.log(`${g.padEnd(12)} ${corpus.count(g)}`);
console.log(`${'total'.padEnd(12)} ${corpus.entries.length}  -> ${out}`);
