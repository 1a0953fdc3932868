/**
 * `serve --fleet`: what an idle served host costs beyond the first (issue 17 target ≤ 10 MB).
 * Starts `sevharness serve --fleet` for 1, 100 and 1000 hosts (a 3:2 Milan/Genoa mix), waits for
 * every announcement, lets it settle, and reads the process's resident set from /proc; then the
 * same fleets in this process for the V8 heap after a full collection.
 *
 *   node bin/run-ts.js bench/daemon-fleet.bench.ts [sizes, e.g. 1,100,1000]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ServedFleet } from '../fakelibvirt/daemon/fleet-server.ts';
import { FakeFleet } from '../fakelibvirt/fleet/fake-fleet.ts';

const SIZES = (process.argv[2] ?? '1,100,1000').split(',').map(Number);
const CLI = new URL('../bin/sevharness.js', import.meta.url).pathname;
const spec = (n: number) => (n === 1 ? 'milan-7003-es8:1' : `milan-7003-es8:3,genoa-9004:2@${n}`);

async function servedRss(n: number): Promise<{ rssMiB: number; readyMs: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve', '--fleet', spec(n), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = 0;
  await new Promise<void>((ready) => createInterface({ input: child.stdout! }).on('line', () => ++seen === n && ready()));
  const readyMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { rssMiB, readyMs };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heapOf(n: number): Promise<number> {
  const base = mkdtempSync(join(tmpdir(), 'sevharness-fleet-bench-'));
  gc();
  const before = process.memoryUsage().heapUsed;
  const served = await ServedFleet.start(new FakeFleet(spec(n)), { base, sysroot: false });
  gc();
  const heap = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  await served.close();
  rmSync(base, { recursive: true, force: true });
  return heap;
}

const rows: { hosts: number; rssMiB: number; readyMs: number; heapMiB: number }[] = [];
for (const n of SIZES) rows.push({ hosts: n, ...(await servedRss(n)), heapMiB: await heapOf(n) });
console.table(rows.map((r) => ({ hosts: r.hosts, 'ready (ms)': r.readyMs.toFixed(0), 'RSS (MiB)': r.rssMiB.toFixed(0), 'heap of the hosts (MiB)': r.heapMiB.toFixed(1) })));
const first = rows[0]!;
for (const r of rows.slice(1)) {
  const perHost = ((r.rssMiB - first.rssMiB) / (r.hosts - first.hosts)) * 1024;
  console.log(`${r.hosts} hosts: ${perHost.toFixed(0)} KiB RSS and ${((r.heapMiB / r.hosts) * 1024).toFixed(0)} KiB heap per host beyond the first  [target ≤ 10 MB]`);
}
