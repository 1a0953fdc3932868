/**
 * `npm run nova-report`: runs the whole conformance suite against nova Zed on every fake profile,
 * writes REPORT.md and run.json next to this file, and prints how the run differs from
 * expected-matrix.json. `--accept` also rewrites expected-matrix.json from this run (after you have
 * checked that every change is explained); `--from FILE` renders an existing RunReport JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformance } from '../../runner/run.ts';
import { FakeTarget } from '../../runner/fake-target.ts';
import type { RunReport } from '../../runner/types.ts';
import { compareMatrix, matrixOf, renderNovaReport, type StatusMatrix } from './report.ts';
import { novaComputeFactory, recordingTarget } from './service.ts';

export const REPORT_PATH = fileURLToPath(new URL('./REPORT.md', import.meta.url));
export const MATRIX_PATH = fileURLToPath(new URL('./expected-matrix.json', import.meta.url));
const COMMAND = 'npm run nova-report';
/** The raw run (git-ignored), for re-rendering with `--from reports/nova-run.json`. */
const RUN_DIR = fileURLToPath(new URL('../../../reports/', import.meta.url));

/** One full run of nova Zed against the fake (every profile × every case). */
export async function runNova(opts: { profiles?: readonly string[]; cases?: readonly string[] } = {}): Promise<RunReport> {
  const target = recordingTarget(new FakeTarget());
  return runConformance({ driver: novaComputeFactory(target.hostOf), target, ...opts });
}

export function readExpectedMatrix(): StatusMatrix {
  return JSON.parse(readFileSync(MATRIX_PATH, 'utf8')) as StatusMatrix;
}

async function main(args: readonly string[]): Promise<number> {
  const from = args.indexOf('--from');
  const started = Date.now();
  const run: RunReport = from >= 0 ? (JSON.parse(readFileSync(args[from + 1] ?? '', 'utf8')) as RunReport) : await runNova();
  if (from < 0) {
    mkdirSync(RUN_DIR, { recursive: true });
    writeFileSync(join(RUN_DIR, 'nova-run.json'), `${JSON.stringify(run)}\n`);
  }
  writeFileSync(REPORT_PATH, renderNovaReport(run, COMMAND));
  const actual = matrixOf(run.results);
  if (args.includes('--accept')) writeFileSync(MATRIX_PATH, `${JSON.stringify(actual, null, 1)}\n`);
  let diffs: ReturnType<typeof compareMatrix> = [];
  try {
    diffs = compareMatrix(readExpectedMatrix(), actual);
  } catch {
    process.stderr.write(`no ${MATRIX_PATH} yet: run with --accept to create it\n`);
  }
  process.stdout.write(`${JSON.stringify(run.counts)} in ${Date.now() - started} ms; wrote ${REPORT_PATH}\n`);
  for (const d of diffs) process.stdout.write(`differs from expected: ${d.caseId} on ${d.profile}: expected ${d.expected}, got ${d.actual}\n`);
  return diffs.length === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
