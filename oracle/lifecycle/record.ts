/**
 * Records what real libvirt 9.0 answers to each lifecycle scenario (oracle/lifecycle/scenarios.ts)
 * on a plain TCG guest, into oracle/records/libvirt-9.0.0-lifecycle.json.
 *
 *   node bin/run-ts.js oracle/lifecycle/record.ts
 *
 * Needs what oracle/record.ts needs (root, python3-libvirt, libvirt's QEMU driver, QEMU).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RECORDS_DIR } from '../corpus.ts';
import { OracleProcess, oracleUnavailable, prepareRoot, type ScenarioAnswer } from '../oracle-process.ts';
import { SCENARIOS } from './scenarios.ts';

export const LIFECYCLE_RECORDS = join(RECORDS_DIR, 'libvirt-9.0.0-lifecycle.json');

export interface LifecycleRecord {
  readonly id: string;
  readonly answer: ScenarioAnswer;
}

async function record(): Promise<void> {
  const why = oracleUnavailable();
  if (why) throw new Error(`oracle: cannot run: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-lifecycle-'));
  const started = Date.now();
  const out: LifecycleRecord[] = [];
  try {
    prepareRoot(dir, null);
    const oracle = new OracleProcess(dir);
    try {
      for (const s of SCENARIOS) out.push({ id: s.id, answer: await oracle.scenario(s.xml, s.steps) });
    } finally {
      await oracle.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(LIFECYCLE_RECORDS, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`recorded ${out.length} scenarios in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await record();
