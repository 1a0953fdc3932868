/**
 * After a run: every generated host on which the driver failed is shrunk by fast-check to the
 * smallest host on which the same cases still fail (fakelibvirt/profile/generate.ts). Each
 * candidate is written as a profile file and judged by a fresh fake target on just those cases; the
 * smallest failing host is kept as a file to rerun with `--profiles FILE --cases …`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeneratedName, shrinkFailingHost, type ShrunkHost } from '../../fakelibvirt/profile/generate.ts';
import type { HardwareProfile } from '../../fakelibvirt/profile/schema.ts';
import type { DriverFactory } from '../runner/driver-spec.ts';
import { FakeTarget } from '../runner/fake-target.ts';
import { runConformance } from '../runner/run.ts';
import type { RunReport } from '../runner/types.ts';

export interface ShrinkResult {
  /** The generated host that failed (`gen-SEED-I`). */
  readonly host: string;
  readonly cases: readonly string[];
  /** Null when the failure did not reproduce on the host alone. */
  readonly shrunk: ShrunkHost | null;
  /** The shrunk host's profile file. */
  readonly file: string | null;
}

export interface ShrinkOptions {
  readonly driver: DriverFactory;
  /** Time for each failing host's shrinking; the smallest host found by then is reported. */
  readonly budgetMs: number;
  /** Where the shrunk profiles are written (default: a new temporary directory). */
  readonly dir?: string;
}

/** Failing case ids per generated host of the run. */
export function generatedFailures(report: RunReport): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of report.results) {
    if ((r.status === 'fail' || r.status === 'error') && isGeneratedName(r.profile)) out.set(r.profile, [...(out.get(r.profile) ?? []), r.caseId]);
  }
  return out;
}

/** Whether any of `cases` fails or errors on `profile` (written to `dir` as its own file). */
async function failsOn(profile: HardwareProfile, cases: readonly string[], opts: ShrinkOptions, dir: string): Promise<boolean> {
  const file = join(dir, `${profile.name}.json`);
  writeFileSync(file, JSON.stringify(profile, null, 2));
  const target = new FakeTarget();
  try {
    const r = await runConformance({ driver: opts.driver, profiles: [file], cases, target });
    return r.counts.fail + r.counts.error > 0;
  } finally {
    await target.close();
  }
}

export async function shrinkGeneratedFailures(report: RunReport, opts: ShrinkOptions): Promise<ShrinkResult[]> {
  const failures = generatedFailures(report);
  if (failures.size === 0) return [];
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sevharness-shrunk-'));
  const out: ShrinkResult[] = [];
  for (const [host, cases] of failures) {
    const shrunk = await shrinkFailingHost(host, (p) => failsOn(p, cases, opts, dir), opts.budgetMs);
    let file: string | null = null;
    if (shrunk) {
      // Candidates overwrite one file as they are tried: write the smallest one last.
      file = join(dir, `${shrunk.profile.name}.json`);
      writeFileSync(file, `${JSON.stringify(shrunk.profile, null, 2)}\n`);
    }
    out.push({ host, cases, shrunk, file });
  }
  return out;
}

/** The shrink results as lines for the terminal. */
export function formatShrinkResults(results: readonly ShrinkResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (!r.shrunk) {
      lines.push(`${r.host}: the failure of ${r.cases.join(', ')} did not reproduce on the host alone; nothing to shrink`);
      continue;
    }
    lines.push(
      `${r.host}: ${r.cases.length} case(s) failed; shrunk${r.shrunk.complete ? '' : ' (time budget reached)'} over ${r.shrunk.tried} host(s) to:`,
      `  ${r.shrunk.profile.description}`,
      `  rerun: --profiles ${r.file} --cases ${r.cases.join(',')}`,
    );
  }
  return lines.length ? `\nsmallest failing generated hosts:\n${lines.join('\n')}\n` : '';
}
