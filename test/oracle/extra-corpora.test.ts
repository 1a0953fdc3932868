/**
 * Two small corpora written by hand after the fake was built, in styles the generated corpus does
 * not use (oracle/corpus/extra/): nova-style guests with one value changed at a time, and single
 * mutations of a virt-install-style guest. The fake must answer every document as real libvirt 9.0
 * did (oracle/records/libvirt-9.0.0-define-*.jsonl), on both sides.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORACLE_DIR, RECORDS_DIR, readCorpus, readJsonLines, type DefineRecord } from '../../oracle/corpus.ts';
import { fakeHostFor, figuresOf, judgeCorpus, percent } from '../../oracle/judge.ts';
import { ORACLE_SEV_PROFILE } from '../../oracle/record.ts';

const CORPORA = ['nova-style', 'mutations'] as const;

describe.each(CORPORA)('the %s corpus on the fake vs real libvirt 9.0', (name) => {
  const docs = readCorpus(join(ORACLE_DIR, 'corpus', 'extra', `${name}.jsonl`));
  const records = new Map(readJsonLines<DefineRecord>(join(RECORDS_DIR, `libvirt-9.0.0-define-${name}.jsonl`)).map((r) => [r.id, r]));

  it.each(['sev', 'plain'] as const)('answers every document as libvirt does (%s)', (side) => {
    expect(docs.every((d) => records.has(d.id))).toBe(true);
    const judged = judgeCorpus(docs, records, side, fakeHostFor(side, ORACLE_SEV_PROFILE));
    const f = figuresOf(judged);
    console.log(`[oracle ${name} ${side}] ${f.documents} documents: agree ${percent(f.agreeing, f.documents)}, formatted alike ${percent(f.formattedAlike, f.acceptedByBoth)}`);
    const wrong = judged.filter((j) => !['exact', 'format', 'crash-refused', 'environment'].includes(j.verdict)).map((j) => `${j.verdict} ${j.id}`);
    expect(wrong).toEqual([]);
    expect(f.formattedAlike / f.acceptedByBoth).toBeGreaterThanOrEqual(0.99);
  });
});
