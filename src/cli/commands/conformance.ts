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
import { colourWanted, formatTable } from '../../../conformance/runner/reports/table.ts';
import { autoJobs, runConformanceParallel } from '../../../conformance/runner/parallel.ts';
import { runConformance } from '../../../conformance/runner/run.ts';
import { parseShard, selectCases, shardOf } from '../../../conformance/runner/select.ts';
import type { RunReport } from '../../../conformance/runner/types.ts';
import { HostFactsError } from '../../../conformance/real/host-files.ts';
import { runRealMode } from '../../../conformance/real/run.ts';
import { makeDirs } from '../../fs/make-dirs.ts';
import { parseUri, UriError } from '../../libvirt/uri.ts';
import { optionalString, UsageError, type Command, type ParsedValues } from '../command.ts';
import { conformanceProfiles, defaultConformanceProfiles } from '../profile-arg.ts';
import { formatShrinkResults, generatedFailures, shrinkGeneratedFailures } from '../../../conformance/generated/shrink.ts';

/** How long each failing generated host may be shrunk by default. */
const DEFAULT_SHRINK_SECONDS = 60;

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

/**
 * `--shard i/n`: several runners split the catalogue as vitest splits its files; shard i runs its
 * slice of the selected cases on every profile. Real mode's own host checks run with shard 1.
 */
function shardCases(cases: string[] | undefined, shardText: string | undefined, real: boolean): string[] | undefined {
  if (shardText === undefined) return cases;
  try {
    const shard = parseShard(shardText);
    const isReal = (f: string) => f === 'real' || f.startsWith('real.');
    const realChecks = real ? (cases?.some((f) => !isReal(f)) === false ? cases : (cases?.filter(isReal) ?? ['real'])) : [];
    const catalogue = cases?.filter((f) => !isReal(f));
    const ids = catalogue?.length === 0 ? [] : shardOf(selectCases(catalogue).map((c) => c.id), shard);
    const mine = [...(shard.index === 1 ? (realChecks ?? []) : []), ...ids];
    if (mine.length === 0) throw new UsageError(`--shard ${shardText} selects no case: there are fewer cases than shards`);
    return mine;
  } catch (e) {
    if (e instanceof RunnerUsageError) throw new UsageError(e.message);
    throw e;
  }
}

export const conformanceCommand: Command = {
  name: 'conformance',
  summary: 'judge an SEV driver against the conformance catalogue on every profile',
  help: `  --driver     ref (default, the reference driver), a module (./d.js, ./d.ts: default export a
               SevDriver or a function making one), or a command line speaking conformance/PROTOCOL.md
  --profiles   bundled names, profile files (./host.json) and generated:N[:SEED] (N generated hosts);
               default: every bundled profile and generated:3 of a fixed seed
  --cases      case ids or areas (detect, inventory, request, xml, boot, slots, memory, lifecycle,
               scheduling, faults); default all
  --report     junit=FILE, json=FILE, html=FILE (a single-file page: matrix, filters, failure details)
  --shrink-seconds  time to shrink each failing generated host to the smallest one still failing
               (default 60; 0 = do not shrink)
  --jobs       threads running the matrix: this one and N−1 workers (default: 2 or more for a large
               run when a core is idle, else 1)
  --target real --uri URI [--sysroot DIR]   judge the driver on this machine's libvirt instead
  --control SOCKET [--control-host NAME]    real mode on a served fake (serve --control): host
               controls and the look inside QEMU through its control socket, so no case is left
               not applicable for want of them
  --peer-uri URI [--peer-sysroot DIR] [--peer-control SOCKET]   a second host like the first:
               the destination of migration cases (without one they are not applicable)
  NO_COLOR=1   no colour in the table (it is coloured only on a terminal)
  exit status: 0 nothing failed, 1 a case failed or errored, 2 a usage error`,
  usage: "[--driver ref|./module.js|'cmd args'] [--profiles a,b] [--cases id-or-area,…] [--target fake|real] [--uri URI] [--sysroot DIR] [--control SOCKET] [--peer-uri URI] [--report junit=FILE,json=FILE,html=FILE] [--jobs N] [--shrink-seconds S] [--shard i/n] [--verbose]",
  options: {
    driver: { type: 'string' },
    profiles: { type: 'string' },
    cases: { type: 'string' },
    target: { type: 'string' },
    uri: { type: 'string' },
    sysroot: { type: 'string' },
    control: { type: 'string' },
    'control-host': { type: 'string' },
    'peer-uri': { type: 'string' },
    'peer-sysroot': { type: 'string' },
    'peer-control': { type: 'string' },
    report: { type: 'string' },
    verbose: { type: 'boolean' },
    jobs: { type: 'string' },
    'shrink-seconds': { type: 'string' },
    shard: { type: 'string' },
  },
  async run(values, _positionals, io) {
    const target = optionalString(values, 'target') ?? 'fake';
    if (target !== 'fake' && target !== 'real') throw new UsageError(`--target must be fake or real, not '${target}'`);
    const uri = optionalString(values, 'uri');
    if (uri !== undefined && target !== 'real') throw new UsageError('--uri applies only to --target real');
    if (uri !== undefined) checkUri(uri);
    const sysroot = optionalString(values, 'sysroot');
    if (sysroot !== undefined && target !== 'real') throw new UsageError('--sysroot applies only to --target real');
    const realOnly = ['control', 'control-host', 'peer-uri', 'peer-sysroot', 'peer-control'].filter((k) => values[k] !== undefined);
    if (realOnly.length > 0 && target !== 'real') throw new UsageError(`--${realOnly[0]} applies only to --target real`);
    const peerUri = optionalString(values, 'peer-uri');
    if (peerUri !== undefined) checkUri(peerUri);
    if (peerUri === undefined && (values['peer-sysroot'] !== undefined || values['peer-control'] !== undefined)) throw new UsageError('--peer-sysroot and --peer-control describe the host of --peer-uri');
    if (values['control-host'] !== undefined && values.control === undefined) throw new UsageError('--control-host names a host of --control SOCKET');
    if (target === 'real' && values.profiles !== undefined) throw new UsageError('--profiles does not apply to --target real: the host itself is the profile');
    const jobsText = optionalString(values, 'jobs');
    if (jobsText !== undefined && !/^[1-9]\d*$/.test(jobsText)) throw new UsageError(`--jobs must be a positive integer, not '${jobsText}'`);
    let jobs = jobsText === undefined ? 1 : Number(jobsText);
    if (jobs > 1 && target === 'real') throw new UsageError('--jobs applies only to --target fake (a real host is one profile)');
    const shrinkText = optionalString(values, 'shrink-seconds') ?? String(DEFAULT_SHRINK_SECONDS);
    if (!/^\d+$/.test(shrinkText)) throw new UsageError(`--shrink-seconds must be a whole number of seconds, not '${shrinkText}'`);
    const named = listOption(values, 'profiles');
    // Without --profiles: every bundled profile plus a few generated hosts of a fixed seed.
    const profiles = target === 'real' ? undefined : conformanceProfiles(named ?? defaultConformanceProfiles());
    const cases = shardCases(listOption(values, 'cases'), optionalString(values, 'shard'), target === 'real');
    // Interrupted (Ctrl-C, a kill): exit through process.exit, whose handlers remove the run's
    // temporary directories (sysroot trees and firmware images, in memory). Real mode has its own
    // handler, which removes the suite's guests from the host before it exits (host-hygiene.ts).
    const interrupted = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
    if (target !== 'real') process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
    try {
      const reports = values.report === undefined ? [] : parseReportSpec(String(values.report));
      prepareReportFiles(reports);
      const driverSpec = optionalString(values, 'driver') ?? 'ref';
      const driver = await resolveDriverSpec(driverSpec, process.cwd());
      // Without --jobs: worker threads when the matrix is large enough to pay for starting them and a
      // core is free (a process driver's lanes mostly wait for its interpreter: see autoJobs).
      if (jobsText === undefined && target !== 'real') jobs = autoJobs(profiles, cases, { processDriver: driver.prestart === true });
      const tty = process.stdout.isTTY === true;
      const progress = tty ? { onProgress: (p: { done: number; total: number; profile: string; caseId: string }) => io.err(`\r\x1b[K[${p.done + 1}/${p.total}] ${p.profile} ${p.caseId}`) } : {};
      let report: RunReport;
      if (target === 'real') {
        const endpoint = (u: string, root: string | undefined, control: string | undefined, controlHost?: string) => ({
          uri: u,
          ...(root !== undefined && { sysroot: root }),
          ...(control !== undefined && { control: resolve(control) }),
          ...(controlHost !== undefined && { controlHost }),
        });
        const peer = peerUri === undefined ? undefined : endpoint(peerUri, optionalString(values, 'peer-sysroot'), optionalString(values, 'peer-control'));
        const real = await runRealMode({
          ...endpoint(uri ?? 'qemu:///system', sysroot, optionalString(values, 'control'), optionalString(values, 'control-host')),
          ...(peer && { peer }),
          driver,
          cases,
          ...progress,
        });
        io.err(`real host: ${real.summary}\n  ${real.reach}\n`);
        if (values.verbose === true) for (const d of real.derivations) io.err(`  ${d}\n`);
        report = real.report;
      } else if (jobs > 1) {
        report = await runConformanceParallel({ driverSpec, jobs, profiles, cases, ...progress });
      } else {
        report = await runConformance({ driver, profiles, cases, ...progress });
      }
      if (tty) io.err('\r\x1b[K');
      io.out(formatTable(report, { verbose: values.verbose === true, colour: colourWanted(process.stdout, process.env) }));
      for (const { kind, file } of reports) writeFileSync(resolve(file), await formatReport(kind, report));
      // A failure on a generated host: the smallest host on which the same cases still fail.
      if (target === 'fake' && Number(shrinkText) > 0 && generatedFailures(report).size > 0) {
        io.err('shrinking the failing generated hosts…\n');
        io.out(formatShrinkResults(await shrinkGeneratedFailures(report, { driver, budgetMs: Number(shrinkText) * 1000 })));
      }
      return report.counts.fail + report.counts.error === 0 ? 0 : 1;
    } catch (e) {
      if (e instanceof RunnerUsageError) throw new UsageError(e.message);
      if (e instanceof HostFactsError) {
        io.err(`real mode: ${e.message}\n`);
        return 2;
      }
      throw e;
    } finally {
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    }
  },
};
