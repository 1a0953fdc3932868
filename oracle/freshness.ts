/**
 * Are committed records still what real libvirt answers? Every `stride`-th corpus document that
 * libvirt neither crashed nor hung on (on either side) is defined again on a live oracle; the ids
 * whose answers differ, byte for byte, are returned.
 */
import { readCorpus, readJsonLines, type DefineRecord } from './corpus.ts';
import type { OraclePair } from './record.ts';

export interface Freshness {
  readonly sampled: number;
  readonly differing: readonly string[];
}

const live = (a: DefineRecord['sev']): boolean => a.outcome === 'ok' || a.outcome === 'error';

export async function recordedSampleFreshness(pair: OraclePair, recordsPath: string, stride: number): Promise<Freshness> {
  const records = new Map(readJsonLines<DefineRecord>(recordsPath).map((r) => [r.id, r]));
  const sample = readCorpus().filter((d, i) => {
    const r = records.get(d.id);
    return i % stride === 0 && r !== undefined && live(r.sev) && live(r.plain);
  });
  const differing: string[] = [];
  for (const doc of sample) {
    const now = await pair.define(doc.xml);
    const then = records.get(doc.id)!;
    if (JSON.stringify(now.sev) !== JSON.stringify(then.sev) || JSON.stringify(now.plain) !== JSON.stringify(then.plain)) differing.push(doc.id);
  }
  return { sampled: sample.length, differing };
}
