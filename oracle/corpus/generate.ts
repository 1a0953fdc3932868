// Writes oracle/corpus/domains.jsonl: the domain XML corpus real libvirt is asked to judge.
// Deterministic: every draw comes from seeded streams (prng.ts), enums from libvirt's installed
// RELAX NG schema (schema.ts). Run: npm run oracle:corpus

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Corpus } from './corpus.ts';
import { addValid } from './groups/valid.ts';
import { addEnum } from './groups/enum.ts';
import { addNumber } from './groups/number.ts';
import { addRequired } from './groups/required.ts';
import { addDuplicate } from './groups/duplicate.ts';
import { addDocument } from './groups/document.ts';
import { addMalformed } from './groups/malformed.ts';
import { addLaunchsec } from './groups/launchsec.ts';
import { DomainSchema } from './schema.ts';
import { PLACEMENTS } from './placements.ts';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'domains.jsonl');

const schema = new DomainSchema();
const corpus = new Corpus();
addValid(corpus);
addEnum(corpus, schema);
addNumber(corpus);
addRequired(corpus);
addDuplicate(corpus);
addDocument(corpus);
addMalformed(corpus);
addLaunchsec(corpus);

writeFileSync(out, corpus.jsonl());
const groups = [...new Set(corpus.entries.map((e) => e.group))];
for (const g of groups) console.log(`${g.padEnd(12)} ${corpus.count(g)}`);
console.log(`${'total'.padEnd(12)} ${corpus.entries.length}  -> ${out}`);

// Which of the schema's enumerated sites the placement table reaches (the rest: Xen, LXC, s390,
// storage backends, nested sources, ... — see README.md).
const placed = new Set(PLACEMENTS.map((p) => `${p.path} ${p.name}`));
const sites = new Set(schema.sites.map((s) => `${s.path.join('/')} ${s.kind === 'attribute' ? '@' : ''}${s.name}`));
const reached = [...sites].filter((k) => placed.has(k)).length;
console.log(`schema ${schema.digest}: ${sites.size} enumerated sites, ${reached} placed, ${PLACEMENTS.length} placements`);
