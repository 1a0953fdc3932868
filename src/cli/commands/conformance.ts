/**
 * `sevharness conformance`: judges an SEV driver against the conformance catalogue on fake hosts
 * built from the hardware profiles, prints a case × profile table and the wall time, and writes
 * JUnit/JSON reports on request. Exit 0 only when nothing failed or errored.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveDriverSpec } from '../../../conformance/runner/driver-spec.ts';
import { RunnerUsageError } from '../../../conformance/runner/outcomes.ts';
import { formatReport, parseReportSpec } from '../../../conformance/runner/reports/spec.ts';
import { formatTable } from '../../../conformance/runner/reports/table.ts';
import { autoJobs, runConformanceParallel } from '../../../conformance/runner/parallel.ts';
import { runConformance } from '../../../conformance/runner/run.ts';
import type { RunReport } from '../../../conformance/runner/types.ts';
import { HostFactsError } from '../../../conformance/real/host-files.ts';
import { runRealMode } from '../../../conformance/real/run.ts';
import { makeDirs } from '../../fs/make-dirs.ts';
import { parseUri, UriError } from '../../libvirt/uri.ts';
import { optionalString, UsageError, type Command, type ParsedValues } from '../command.ts';
import { conformanceProfiles, defaultConformanceProfiles } from '../profile-arg.ts';

/** A comma list option; given but naming nothing (`--profiles ''`) is refused rather than read as "all". */
function listOption(values: ParsedValues, key: string): string[] | undefined {
  const v = optionalString(values, key);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${key} names nothing; leave it out to run them all`);
  return items;
}

/** A URI the client could never open is a mistake in the command line, found before anything runs. */
function checkUri(uri: string): void {
  try {
    parseUri(uri);
  } catch (e) {
    if (e instanceof UriError) throw new UsageError(`--uri: ${e.message}`);
    throw e;
  }
}

/** Makes each report's directory and file before the run, so an unwritable path fails in a second, not after it. */
function prepareReportFiles(reports: readonly { file: string }[]): void {
  for (const { file } of reports) {
    const path = resolve(file);
    makeDirs(dirname(path));
    writeFileSync(path, '');
  }
}

export const conformanceCommand: Command = {
  name: 'conformance',
  summary: 'judge an SEV driver against the conformance catalogue on every profile',
  usage: "[--driver ref|./module.js|'cmd args'] [--profiles a,b] [--cases id-or-area,…] [--target fake|real] [--uri URI] [--sysroot DIR] [--report junit=FILE,json=FILE,html=FILE] [--jobs N] [--verbose]",
  options: {
    driver: { type: 'string' },
    profiles: { type: 'string' },
    cases: { type: 'string' },
    target: { type: 'string' },
    uri: { type: 'string' },
    sysroot: { type: 'string' },
    report: { type: 'string' },
    verbose: { type: 'boolean' },
    jobs: { type: 'string' },
  },
  async run(values, _positionals, io) {
    const target = optionalString(values, 'target') ?? 'fake';
    if (target !== 'fake' && target !== 'real') throw new UsageError(`--target must be fake or real, not '${target}'`);
    const uri = optionalString(values, 'uri');
    if (uri !== undefined && target !== 'real') throw new UsageError('--uri applies only to --target real');
    if (uri !== undefined) checkUri(uri);
    const sysroot = optionalString(values, 'sysroot');
    if (sysroot !== undefined && target !== 'real') throw new UsageError('--sysroot applies only to --target real');
    if (target === 'real' && values.profiles !== undefined) throw new UsageError('--profiles does not apply to --target real: the host itself is the profile');
    const jobsText = optionalString(values, 'jobs');
    if (jobsText !== undefined && !/^[1-9]\d*$/.test(jobsText)) throw new UsageError(`--jobs must be a positive integer, not '${jobsText}'`);
    let jobs = jobsText === undefined ? 1 : Number(jobsText);
    if (jobs > 1 && target === 'real') throw new UsageError('--jobs applies only to --target fake (a real host is one profile)');
    const named = listOption(values, 'profiles');
    // Without --profiles: every bundled profile plus a few generated hosts of a fixed seed.
    const profiles = target === 'real' ? undefined : conformanceProfiles(named ?? defaultConformanceProfiles());
    const cases = listOption(values, 'cases');
    // Without --jobs: worker threads when the matrix is large enough to pay for starting them.
    if (jobsText === undefined && target !== 'real') jobs = autoJobs(profiles, cases);
    try {
      const reports = values.report === undefined ? [] : parseReportSpec(String(values.report));
      prepareReportFiles(reports);
      const driverSpec = optionalString(values, 'driver') ?? 'ref';
      const driver = await resolveDriverSpec(driverSpec, process.cwd());
      const tty = process.stdout.isTTY === true;
      const progress = tty ? { onProgress: (p: { done: number; total: number; profile: string; caseId: string }) => io.err(`\r\x1b[K[${p.done + 1}/${p.total}] ${p.profile} ${p.caseId}`) } : {};
      let report: RunReport;
      if (target === 'real') {
        const real = await runRealMode({ uri: uri ?? 'qemu:///system', ...(sysroot !== undefined && { sysroot }), driver, cases, ...progress });
        io.err(`real host: ${real.summary}\n`);
        if (values.verbose === true) for (const d of real.derivations) io.err(`  ${d}\n`);
        report = real.report;
      } else if (jobs > 1) {
        report = await runConformanceParallel({ driverSpec, jobs, profiles, cases, ...progress });
      } else {
        report = await runConformance({ driver, profiles, cases, ...progress });
      }
      if (tty) io.err('\r\x1b[K');
      io.out(formatTable(report, { verbose: values.verbose === true }));
      for (const { kind, file } of reports) writeFileSync(resolve(file), await formatReport(kind, report));
      return report.counts.fail + report.counts.error === 0 ? 0 : 1;
    } catch (e) {
      if (e instanceof RunnerUsageError) throw new UsageError(e.message);
      if (e instanceof HostFactsError) {
        io.err(`real mode: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
  },
};
