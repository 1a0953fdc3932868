/**
 * `sevharness conformance`: judges an SEV driver against the conformance catalogue on fake hosts
 * built from the hardware profiles, prints a case × profile table and the wall time, and writes
 * JUnit/JSON reports on request. Exit 0 only when nothing failed or errored.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveDriverSpec } from '../../../conformance/runner/driver-spec.ts';
import { RunnerUsageError } from '../../../conformance/runner/outcomes.ts';
import { formatJson } from '../../../conformance/runner/reports/json.ts';
import { formatJunit } from '../../../conformance/runner/reports/junit.ts';
import { parseReportSpec } from '../../../conformance/runner/reports/spec.ts';
import { formatTable } from '../../../conformance/runner/reports/table.ts';
import { runConformance } from '../../../conformance/runner/run.ts';
import { optionalString, UsageError, type Command } from '../command.ts';

const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter(Boolean);

export const conformanceCommand: Command = {
  name: 'conformance',
  summary: 'judge an SEV driver against the conformance catalogue on every profile',
  usage: "[--driver ref|./module.js|'cmd args'] [--profiles a,b] [--cases id-or-area,…] [--target fake|real] [--uri URI] [--report junit=FILE,json=FILE] [--verbose]",
  options: {
    driver: { type: 'string' },
    profiles: { type: 'string' },
    cases: { type: 'string' },
    target: { type: 'string' },
    uri: { type: 'string' },
    report: { type: 'string' },
    verbose: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const target = optionalString(values, 'target') ?? 'fake';
    if (target !== 'fake' && target !== 'real') throw new UsageError(`--target must be fake or real, not '${target}'`);
    const uri = optionalString(values, 'uri');
    if (uri !== undefined && target !== 'real') throw new UsageError('--uri applies only to --target real');
    if (target === 'real') {
      io.err(`real mode: not built yet (would judge ${uri ?? 'qemu:///system'})\n`);
      return 2;
    }
    try {
      const reports = values.report === undefined ? [] : parseReportSpec(String(values.report));
      const driver = await resolveDriverSpec(optionalString(values, 'driver') ?? 'ref', process.cwd());
      const tty = process.stdout.isTTY === true;
      const report = await runConformance({
        driver,
        profiles: list(optionalString(values, 'profiles')),
        cases: list(optionalString(values, 'cases')),
        ...(tty && { onProgress: (p) => io.err(`\r\x1b[K[${p.done + 1}/${p.total}] ${p.profile} ${p.caseId}`) }),
      });
      if (tty) io.err('\r\x1b[K');
      io.out(formatTable(report, { verbose: values.verbose === true }));
      for (const { kind, file } of reports) {
        const path = resolve(file);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, kind === 'junit' ? formatJunit(report) : formatJson(report));
      }
      return report.counts.fail + report.counts.error === 0 ? 0 : 1;
    } catch (e) {
      if (e instanceof RunnerUsageError) throw new UsageError(e.message);
      throw e;
    }
  },
};
