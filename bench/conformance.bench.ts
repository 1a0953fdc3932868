/**
 * The whole conformance matrix (every profile × every case) with the reference driver on the fake
 * target: wall time sequentially and on worker threads, CPU time, and where the time goes by area.
 *   node bin/run-ts.js bench/conformance.bench.ts [jobs]
 */
import { availableParallelism, loadavg } from 'node:os';
import { resolveDriverSpec } from '../conformance/runner/driver-spec.ts';
import { runConformanceParallel } from '../conformance/runner/parallel.ts';
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

if (jobs > 1) {
  c0 = cpu();
  const par = await runConformanceParallel({ driverSpec: 'ref', jobs });
  console.log(line(`${jobs} worker threads`, par, cpu() - c0));
}
