/**
 * The conformance suite as a user runs it: `sevharness conformance` in a process of its own, the
 * reference driver's whole matrix (every bundled profile and the generated hosts, every case) and
 * the Python example driver's, each with the default threads and with `--jobs 1`; the CLI's start
 * from a stale bundle (cold: a source changed, esbuild rebuilds) and a fresh one (warm). Wall time
 * of the process and of the run (the table's own line), and CPU time of the process and its
 * children (bash's `times`), with the load average around each run. Then, in this process, the
 * matrix once more to show where its time goes by area and the slowest cases.
 * Targets (issue #17): reference ≤ 3 s, Python example ≤ 5 s.
 *   node bin/run-ts.js bench/conformance.bench.ts [--quick]   (--quick: the CLI runs only)
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveDriverSpec } from '../conformance/runner/driver-spec.ts';
import { runConformance } from '../conformance/runner/run.ts';
import { conformanceProfiles, defaultConformanceProfiles } from '../src/cli/profile-arg.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const PYTHON_DRIVER = '/usr/bin/python3 conformance/examples/python/driver.py';

const load = (): string => loadavg()[0]!.toFixed(1);
const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

interface CliRun {
  readonly wallS: number;
  readonly runS: number | null;
  readonly cpuS: number;
  readonly summary: string;
}

/** One `sevharness` process; CPU is its own and its children's (drivers, xmllint, esbuild). */
async function cli(args: readonly string[]): Promise<CliRun> {
  const line = ['node', 'bin/sevharness.js', ...args].map(quote).join(' ');
  const t0 = performance.now();
  // `times` prints the shell's and then its children's user and system time.
  const out = `/tmp/sevharness-bench-cli-${process.pid}.out`;
  const { stdout } = await run('bash', ['-c', `${line} > ${out} 2>&1; times; tail -n 1 ${out}; rm -f ${out}`], { cwd: root, maxBuffer: 64 << 20 });
  const wallS = (performance.now() - t0) / 1000;
  const lines = stdout.trim().split('\n');
  const seconds = (t: string) => [...t.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
  const cpuS = seconds(lines[1] ?? '');
  const summary = lines.slice(2).join(' ');
  const wall = /wall time ([\d.]+) s/.exec(summary);
  return { wallS, runS: wall ? Number(wall[1]) : null, cpuS, summary };
}

function show(label: string, r: CliRun, before: string): void {
  const runPart = r.runS === null ? '' : `run ${r.runS.toFixed(2)} s, `;
  console.log(`${label.padEnd(34)} ${runPart}process ${r.wallS.toFixed(2)} s wall, CPU ${r.cpuS.toFixed(2)} s (load ${before} → ${load()})`);
}

async function measure(label: string, args: readonly string[]): Promise<CliRun> {
  const before = load();
  const r = await cli(args);
  show(label, r, before);
  return r;
}

console.log(`${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// Start-up: the bundle rebuilt (its record removed: the next start finds no fresh bundle), then reused.
rmSync(fileURLToPath(new URL('../node_modules/.cache/sevharness/current.json', import.meta.url)), { force: true });
await measure('--version, cold (bundle rebuilt)', ['--version']);
await measure('--version, warm', ['--version']);
await measure('--version, warm', ['--version']);

const ref = await measure('reference, default threads', ['conformance']);
console.log(`  ${ref.summary}`);
const ref1 = await measure('reference, --jobs 1', ['conformance', '--jobs', '1']);
const ref2 = await measure('reference, --jobs 2', ['conformance', '--jobs', '2']);
const py = await measure('python example, default threads', ['conformance', '--driver', PYTHON_DRIVER]);
console.log(`  ${py.summary}`);
const py1 = await measure('python example, --jobs 1', ['conformance', '--driver', PYTHON_DRIVER, '--jobs', '1']);
const best = (...rs: CliRun[]) => Math.min(...rs.map((r) => r.runS ?? Infinity));
console.log(`reference: best run ${best(ref, ref1, ref2).toFixed(2)} s = ${(best(ref, ref1, ref2) / 3).toFixed(2)}× the 3 s target; python: ${best(py, py1).toFixed(2)} s = ${(best(py, py1) / 5).toFixed(2)}× the 5 s target`);

if (!quick) {
  // Where the time goes, in this process (TypeScript through tsx: its start is not counted here).
  const c0 = process.cpuUsage();
  const seq = await runConformance({ driver: await resolveDriverSpec('ref'), profiles: conformanceProfiles(defaultConformanceProfiles()) });
  const c1 = process.cpuUsage(c0);
  console.log(`in-process, one thread: ${(seq.wallMs / 1000).toFixed(2)} s wall, CPU ${((c1.user + c1.system) / 1e6).toFixed(2)} s, ${seq.results.length} results (load ${load()})`);
  const byArea = new Map<string, number>();
  for (const r of seq.results) byArea.set(r.area, (byArea.get(r.area) ?? 0) + r.durationMs);
  console.log(`  by area: ${[...byArea].sort((a, b) => b[1] - a[1]).map(([a, ms]) => `${a} ${(ms / 1000).toFixed(2)} s`).join(', ')}`);
  const slowest = [...seq.results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 6);
  console.log(`  slowest: ${slowest.map((r) => `${r.caseId}@${r.profile} ${(r.durationMs / 1000).toFixed(2)} s`).join(', ')}`);
}
