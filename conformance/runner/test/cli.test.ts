/** Driver specs, report formats and the `sevharness conformance` command's exit codes and output. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { factoryFromExport, resolveDriverSpec, splitCommandLine } from '../driver-spec.ts';
import { RunnerUsageError } from '../outcomes.ts';
import { formatJson } from '../reports/json.ts';
import { formatJunit } from '../reports/junit.ts';
import { parseReportSpec } from '../reports/spec.ts';
import { formatTable } from '../reports/table.ts';
import { countStatuses, type CaseResult, type RunReport } from '../types.ts';
import { sysfsDriver } from './toy-drivers.ts';

const dir = mkdtempSync(join(tmpdir(), 'conformance-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const status = await main(['conformance', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { status, out, err };
}

/** A driver module the CLI imports: honest (reads the sysroot) or bragging (always SEV). */
function driverModule(name: string, honest: boolean): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `import { readFileSync } from 'node:fs';
const slot = { min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 };
function on(root) { try { return /^(1|Y)$/.test(readFileSync(root + '/sys/module/kvm_amd/parameters/sev', 'utf8').trim()); } catch { return false; } }
export default () => ({
  describe: () => ({ name: '${name}', version: '0.1', ops: ['reportHost'], models: ['amd-sev'] }),
  reportHost: async (p) => (${honest ? 'on(p.sysroot)' : 'true'})
    ? { traits: ['HW_CPU_X86_AMD_SEV'], inventories: { MEM_ENCRYPTION_CONTEXT: { total: 5, ...slot } }, warnings: [] }
    : { traits: [], inventories: {}, warnings: [] },
});
`);
  return file;
}

describe('driver specs', () => {
  it('splits command lines like a shell', () => {
    expect(splitCommandLine(`python3 -u 'my driver.py' --x "a \\"b\\"" c\\ d`)).toEqual(['python3', '-u', 'my driver.py', '--x', 'a "b"', 'c d']);
    expect(splitCommandLine('  ')).toEqual([]);
    expect(() => splitCommandLine("python3 'oops")).toThrow(RunnerUsageError);
  });

  it('a module path yields its default export: a factory, or a shared driver; anything else is refused', async () => {
    const factory = await resolveDriverSpec(driverModule('honest', true), dir);
    expect((await factory()).describe().name).toBe('honest');
    const d = sysfsDriver();
    expect(await factoryFromExport(d, 'x')()).toBe(d);
    expect(() => factoryFromExport(42, 'x.js')).toThrow(/neither a SevDriver nor a function/);
    await expect(resolveDriverSpec('./missing.js', dir)).rejects.toThrow(/driver module not found/);
  });

  it('a module that fails to load, or exports an object without the driver methods, is a usage error naming what is wrong', async () => {
    writeFileSync(join(dir, 'broken.mjs'), 'export default {{{\n');
    writeFileSync(join(dir, 'plain.mjs'), 'export default { name: "x", reportHost() {} };\n');
    const broken = await cli('--driver', join(dir, 'broken.mjs'));
    expect(broken.status).toBe(2);
    expect(broken.err).toMatch(/^sevharness conformance: driver module .*broken\.mjs failed to load: \w*Error: .*(Unexpected token|invalid JS syntax)/); // vitest parses imports itself
    const plain = await cli('--driver', join(dir, 'plain.mjs'));
    expect(plain.status).toBe(2);
    expect(plain.err).toContain('plain.mjs: the default export is neither a SevDriver nor a function returning one: it has no describe()\n');
  });

  it("'ref' is the reference driver", async () => {
    const d = await (await resolveDriverSpec('ref'))();
    expect(d.describe().ops).toContain('spawn');
    await d.close?.();
  });
});

const result = (caseId: string, profile: string, status: CaseResult['status'], reason?: string): CaseResult =>
  ({ caseId, area: 'detect', title: caseId, profile, status, durationMs: 1.5, ...(reason && { reason }) });

const REPORT: RunReport = (() => {
  const results = [
    result('detect.a', 'p1', 'pass'), result('detect.a', 'p2', 'fail', 'expected <sev> & "x"'),
    result('detect.b', 'p1', 'not-applicable', 'no SEV'), result('detect.b', 'p2', 'not-implemented', 'driver does not implement spawn'),
    { ...result('detect.c', 'p1', 'error', 'socket closed'), driverLog: 'Traceback…' },
  ];
  return { driver: { name: 'toy', version: '1', ops: ['reportHost'], models: ['amd-sev'] }, target: 'fake', profiles: ['p1', 'p2'], results, wallMs: 1234, counts: countStatuses(results) };
})();

describe('reports', () => {
  it('JUnit: one testcase per case × profile, skips with their reason, failures and errors escaped', () => {
    const x = formatJunit(REPORT);
    expect(x.match(/<testcase /g)).toHaveLength(5);
    // No `skipped` on <testsuites>: the JUnit schema has none there (reports/junit.xsd); each testsuite counts its own.
    expect(x).toContain('<testsuites name="sevharness conformance: toy 1" tests="5" failures="1" errors="1" time="1.234">');
    expect(x).toContain('<skipped message="not applicable: no SEV"/>');
    expect(x).toContain('<skipped message="not implemented: driver does not implement spawn"/>');
    expect(x).toContain('<failure message="expected &lt;sev&gt; &amp; &quot;x&quot;" type="fail">');
    expect(x).toContain('<system-err>Traceback…</system-err>');
  });

  it('JSON round-trips the report with its format tag', () => {
    const j = JSON.parse(formatJson(REPORT)) as RunReport & { format: string };
    expect(j.format).toBe('sevharness-conformance');
    expect(j.results).toEqual(REPORT.results);
  });

  it('the table marks every cell and lists failures; verbose adds n/a reasons', () => {
    const t = formatTable(REPORT);
    expect(t).toMatch(/detect\.a\s+✓\s+✗/);
    expect(t).toMatch(/detect\.b\s+–\s+\?/);
    expect(t).toContain('✗ detect.a [p2]: expected <sev> & "x"');
    expect(t).not.toContain('no SEV');
    expect(formatTable(REPORT, { verbose: true })).toContain('– detect.b [p1]: no SEV');
    expect(t).toContain('wall time 1.2 s');
  });

  it('many results with one reason (a driver that never starts) are listed once; a few stay apart', () => {
    const err = (caseId: string, profile: string) => ({ caseId, area: 'detect' as const, title: caseId, profile, status: 'error' as const, reason: 'the driver did not start: x', durationMs: 0 });
    const many = { ...REPORT, results: ['a', 'b', 'c', 'd', 'e'].map((c) => err(`detect.${c}`, 'p1')) };
    const lines = formatTable(many).split('\n').filter((l) => l.includes('did not start'));
    expect(lines).toEqual(['  ! 5 results (detect.a [p1], detect.b [p1], …): the driver did not start: x']);
    const few = { ...REPORT, results: many.results.slice(0, 3) };
    expect(formatTable(few).split('\n').filter((l) => l.includes('did not start'))).toHaveLength(3);
  });

  it('--report specs: kinds and files, bad syntax refused', () => {
    expect(parseReportSpec('junit=a.xml,json=b.json')).toEqual([{ kind: 'junit', file: 'a.xml' }, { kind: 'json', file: 'b.json' }]);
    expect(() => parseReportSpec('junit')).toThrow(/not kind=FILE/);
    expect(parseReportSpec('html=r.html')).toEqual([{ kind: 'html', file: 'r.html' }]);
    expect(() => parseReportSpec('pdf=x')).toThrow(/kind 'pdf' is unknown/);
  });
});

describe('sevharness conformance', () => {
  it('exit 0 with a table and the wall time when nothing fails; reports written', async () => {
    const junit = join(dir, 'out/j.xml');
    const json = join(dir, 'out/r.json');
    const r = await cli('--driver', driverModule('honest2', true), '--profiles', 'intel-xeon,milan-7003-es8', '--cases', 'detect.kernel-param-missing,detect.kernel-param-forms', '--report', `junit=${junit},json=${json}`);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/detect\.kernel-param-missing\s+✓\s+–/);
    expect(r.out).toMatch(/2 cases × 2 profiles on fake: 2 passed, 0 failed, 0 errors, 2 not applicable, 0 not implemented — wall time \d+\.\d s/);
    expect(readFileSync(junit, 'utf8').match(/<testcase /g)).toHaveLength(4);
    expect((JSON.parse(readFileSync(json, 'utf8')) as RunReport).counts.pass).toBe(2);
  });

  it('--jobs 2 spreads profiles over worker threads with the same results, in profile order', async () => {
    const args = ['--driver', driverModule('honest3', true), '--profiles', 'intel-xeon,milan-7003-es8,rome-7002', '--cases', 'detect', '--report'];
    const seq = await cli(...args, `json=${join(dir, 'seq.json')}`);
    const par = await cli(...args, `json=${join(dir, 'par.json')}`, '--jobs', '2');
    expect(par.status).toBe(seq.status);
    const strip = (f: string) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunReport).results.map(({ durationMs: _, ...r }) => r);
    expect(strip('par.json')).toEqual(strip('seq.json'));
  });

  it('exit 1 when a case fails, with the reason listed', async () => {
    const r = await cli('--driver', driverModule('bragging', false), '--profiles', 'intel-xeon', '--cases', 'detect.kernel-param-missing');
    expect(r.status).toBe(1);
    expect(r.out).toContain('✗ detect.kernel-param-missing [intel-xeon]: expected SEV detected: no, driver reported yes');
  });

  it('an unwritable --report path fails before the run, with the system error and nothing printed', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const r = await cli('--cases', 'detect.sev-es', '--report', `junit=${join(file, 'r.xml')}`);
    expect(r.status).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(`error: EEXIST: file already exists, mkdir '${file}'\n`);
  });

  it('exit 2 with a clear message on usage errors', async () => {
    for (const [args, msg] of [
      [['--profiles', 'epyc-9999'], /unknown profile: epyc-9999/],
      [['--cases', 'nope'], /unknown case or area: nope/],
      [['--report', 'junit'], /not kind=FILE/],
      [['--target', 'cloud'], /--target must be fake or real/],
      [['--uri', 'qemu:///system'], /--uri applies only to --target real/],
      [['--target', 'real', '--profiles', 'rome-7002'], /--profiles does not apply to --target real/],
      [['--driver', './nowhere.js'], /driver module not found/],
      [['--jobs', '0'], /--jobs must be a positive integer/],
      [['--profiles', ''], /--profiles names nothing/],
      [['--target', 'real', '--uri', 'bogus'], /--uri: cannot parse connection URI 'bogus'/],
      [['--target', 'real', '--uri', 'qemu+ssh://host/system'], /--uri: transport 'ssh' is not supported/],
      [['--cases', ' , ,'], /--cases names nothing/],
    ] as const) {
      const r = await cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });
});
