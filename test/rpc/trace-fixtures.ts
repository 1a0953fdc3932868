/** Loads the captured libvirt-python ↔ libvirtd trace (full payloads) for golden-byte tests. */
import { readFileSync } from 'node:fs';

export const TRACE_DIR = '/work/shared/reference/libvirt-traces';

export interface TraceRecord {
  readonly dir: 'C>S' | 'S>C';
  readonly len: number;
  readonly vers: number;
  readonly proc: number;
  readonly name: string;
  readonly type: 'CALL' | 'REPLY';
  readonly serial: number;
  readonly status: 'OK' | 'ERROR';
  readonly payload: string;
  readonly plen: number;
}

export function loadTrace(file = `${TRACE_DIR}/trace-test.jsonl`): TraceRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TraceRecord);
}
