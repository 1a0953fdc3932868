/**
 * The define memo's proof: for every document of the oracle corpus, at every context the golden
 * test judges (each recorded libvirt version's profile, with SEV and without), the memo's answer
 * cold, warm (the same text again) and for the document's family with two other names and uuids
 * (the second of them served from the proven template) equals a fresh run of the pipeline on the
 * same text: the same definition and tree, or the same error. Random draws (MACs, generated uuids)
 * differ between any two defines by design, so they are compared as draws: absent from the
 * document and consistently mapped.
 */
import { describe, expect, it } from 'vitest';
import { readCorpus } from '../../oracle/corpus.ts';
import { fakeHostFor } from '../../oracle/judge.ts';
import { RECORDED_VERSIONS, type RecordedLibvirt } from '../../oracle/versions.ts';
import { defineDomainXmlFresh, runDefinePipeline, type DomainDef } from '../../fakelibvirt/libvirt/domain-def.ts';
import { domainContext } from '../../fakelibvirt/libvirt/domain/context.ts';
import { DefineMemo } from '../../fakelibvirt/libvirt/define-memo/memo.ts';
import { keyOf, NAME_MARK, UUID_MARK } from '../../fakelibvirt/libvirt/define-memo/identity.ts';
import { sameAnswer, type Answer } from './define-memo-compare.ts';

const docs = readCorpus();
const CASES = (Object.keys(RECORDED_VERSIONS) as RecordedLibvirt[]).flatMap((v) => (['sev', 'plain'] as const).map((side) => [v, side] as const));

const answer = (f: () => DomainDef): Answer => {
  try {
    return { def: f() };
  } catch (error) {
    return { error };
  }
};

/** The i-th other member of a document's family: another ordinary name (of another length) and uuid. */
function variant(key: string, i: number): string {
  return key.replaceAll(NAME_MARK, `zq-memo-${i}${'x'.repeat(i)}`).replaceAll(UUID_MARK, `7e57a11${i}-0b0e-4c0d-8e0f-00000000000${i}`);
}

describe.each(CASES)('the define memo on the corpus, libvirt %s (%s)', (version, side) => {
  it('answers every document as a fresh pipeline does: cold, warm, and for its family', () => {
    const host = fakeHostFor(side, RECORDED_VERSIONS[version].profile);
    const ctx = domainContext(host.profile, host.sectypes());
    const memo = new DefineMemo<DomainDef>();
    let runs = 0;
    const run = (text: string) => {
      runs++;
      return runDefinePipeline(text, ctx);
    };
    const wrong: string[] = [];
    const served = { again: 0, family: 0, families: 0 };
    // A text's fresh answer serves for each of its checks (draws are compared as draws).
    const check = (what: string, id: string, text: string, countAs?: 'again' | 'family', fresh = answer(() => defineDomainXmlFresh(text, ctx))) => {
      const before = runs;
      const got = answer(() => memo.define(text, run));
      if (countAs && runs === before) served[countAs]++;
      const why = sameAnswer(got, fresh, text);
      if (why) wrong.push(`${id} ${what}: ${why}`);
    };
    for (const doc of docs) {
      // The second define of a text proves its random draws (when it drew any); the third is served.
      const fresh = answer(() => defineDomainXmlFresh(doc.xml, ctx));
      check('cold', doc.id, doc.xml, undefined, fresh);
      check('warm', doc.id, doc.xml, undefined, fresh);
      const { key, identity } = keyOf(doc.xml);
      if (identity.name !== undefined || identity.uuid !== undefined) {
        served.families++;
        check('family 2', doc.id, variant(key, 2));
        check('family 3', doc.id, variant(key, 3), 'family');
      }
      check('again', doc.id, doc.xml, 'again', fresh);
    }
    console.log(`[define memo ${version} ${side}] ${docs.length} documents: ${served.again} answered again from the memo; ` +
      `${served.family} of ${served.families} family members from a template`);
    expect(wrong.slice(0, 20)).toEqual([]);
    // The proof must have exercised the memo, not only the pipeline behind it.
    expect(served.again).toBeGreaterThan(docs.length / 2);
    expect(served.family).toBeGreaterThan(served.families / 4);
  }, 300_000);
});
