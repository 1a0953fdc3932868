/**
 * The whole conformance matrix (every profile × every case) with the reference driver on the fake
 * target: wall time sequentially and on worker threads, CPU time, and where the time goes by area;
 * then the Python example driver's matrix through the process protocol, on as many threads as
 * `sevharness conformance` picks by default. Targets (issue #17): reference ≤ 3 s, Python ≤ 5 s.
 *   node bin/run-ts.js bench/conformance.bench.ts [jobs]
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { resolveDriverSpec } from '../conformance/runner/driver-spec.ts';
import { autoJobs, runConformanceParallel } from '../conformance/runner/parallel.ts';
import { runConformance } from '../conformance/runner/run.ts';
import type { RunReport } from '../conformance/runner/types.ts';

const jobs = Number(process.argv[2] ?? Math.min(2, availableParallelism()));

function line(label: string, r: RunReport, cpuMs: number): string {
  const c = r.counts;
  return `${label.padEnd(22)} wall ${(r.wallMs / 1000).toFixed(2)} s, CPU ${(cpuMs / 1000).toFixed(2)} s — ${r.results.length} results: ${c.pass} pass, ${c.fail} fail, ${c.error} error, ${c['not-applicable']} n/a, ${c['not-implemented']} n/i`;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${availableParallelism()} CPUs`);
let c0 = cpu();
const seq = await runConformance({ driver: await resolveDriverSpec('ref') });
console.log(line('sequential', seq, cpu() - c0));

const byArea = new Map<string, number>();
for (const r of seq.results) byArea.set(r.area, (byArea.get(r.area) ?? 0) + r.durationMs);
console.log(`  by area: ${[...byArea].sort((a, b) => b[1] - a[1]).map(([a, ms]) => `${a} ${(ms / 1000).toFixed(2)} s`).join(', ')}`);
const slowest = [...seq.results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
console.log(`  slowest: ${slowest.map((r) => `${r.caseId}@${r.profile} ${(r.durationMs / 1000).toFixed(2)} s`).join(', ')}`);

let best = seq.wallMs;
if (jobs > 1) {
  c0 = cpu();
  const par = await runConformanceParallel({ driverSpec: 'ref', jobs });
  console.log(line(`${jobs} worker threads`, par, cpu() - c0));
  best = Math.min(best, par.wallMs);
}
console.log(`reference matrix: best wall ${(best / 1000).toFixed(2)} s, ${(best / 3000).toFixed(2)}× the 3 s target (load ${loadavg()[0]!.toFixed(2)})`);

// The Python example driver through the process protocol (PROTOCOL.md), as the CLI would run it.
const python = `/usr/bin/python3 ${fileURLToPath(new URL('../conformance/examples/python/driver.py', import.meta.url))}`;
const pyJobs = autoJobs(undefined, undefined);
c0 = cpu();
const py = pyJobs > 1 ? await runConformanceParallel({ driverSpec: python, jobs: pyJobs }) : await runConformance({ driver: await resolveDriverSpec(python) });
console.log(line(`python, ${pyJobs} thread(s)`, py, cpu() - c0));
console.log(`python matrix: wall ${(py.wallMs / 1000).toFixed(2)} s, ${(py.wallMs / 5000).toFixed(2)}× the 5 s target; python/reference wall ${(py.wallMs / best).toFixed(2)}`);
