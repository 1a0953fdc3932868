/** The committed corpus and the records the oracle made of it. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OracleAnswer } from './oracle-process.ts';

export const ORACLE_DIR = dirname(fileURLToPath(import.meta.url));
export const CORPUS_FILE = join(ORACLE_DIR, 'corpus', 'domains.jsonl');
export const RECORDS_DIR = join(ORACLE_DIR, 'records');

export interface CorpusDocument {
  readonly id: string;
  readonly group: string;
  readonly xml: string;
}

/** One document as real libvirt answered it: `sev` with SEV-capable QEMU, `plain` without. */
export interface DefineRecord {
  readonly id: string;
  readonly sev: OracleAnswer;
  readonly plain: OracleAnswer;
}

export function readJsonLines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export const readCorpus = (file = CORPUS_FILE): CorpusDocument[] => readJsonLines<CorpusDocument>(file);
