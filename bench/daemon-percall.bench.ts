/**
 * The daemon's per-call cost, as ratios measured in one run (issue 17): a define → create →
 * destroy → undefine cycle against four getLibVersion round trips of the same client, for
 * libvirt-python (in its own process) and for the TypeScript client (over the socket, and over the
 * in-memory connection a daemon offers to clients of its own process). The host's own work in the
 * cycle (parse, validation, QEMU start) is timed inside the daemon and shown apart.
 *
 * The cycle is five round trips, not four: virDomainCreate's client (libvirt's remoteDomainCreate,
 * and the TypeScript client's domainCreate after it) looks the domain up again for its new id. So
 * the protocol's floor is 5 RT = 1.25 × 4 RT with no work at all in the daemon.
 *
 * Three servers answer the same clients in the same run, so the ratio can be read apart:
 *   null   — canned replies, no dispatch (bench/daemon-floor.ts): the client's and the kernel's cost;
 *   idle   — the fake daemon over a backend that does nothing: plus the daemon's own path;
 *   fake   — the fake daemon over a FakeHost: plus the host's work.
 * For libvirt-python the server's CPU time is measured too (the client is another process): per
 * getLibVersion, and per call of the cycle with the host's work taken out. For the TypeScript
 * client, client and server share this process: its CPU is theirs together.
 *
 *   node bin/run-ts.js bench/daemon-percall.bench.ts [calls-per-round] [rounds]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../src/libvirt/client.ts';
import { findExecutable } from '../containers/real-stack.ts';
import { FakeLibvirtd } from '../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { guestXml } from '../fakelibvirt/testing/guest-xml.ts';
import { idleBackend, startNullServer } from './daemon-floor.ts';

const N = Number(process.argv[2] ?? 400);
const ROUNDS = Number(process.argv[3] ?? 5);
const XML = guestXml({ name: 'bench', uuid: 'beeeeeee-1111-4222-8333-444444444444' });

const PY = String.raw`
import sys, time, libvirt
uri, xml, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = libvirt.open(uri)
for _ in range(300): conn.getLibVersion()
for _ in range(100):
    d = conn.defineXML(xml); d.create(); d.destroy(); d.undefine()
for _ in range(rounds):
    sys.stdout.write("rt\n"); sys.stdout.flush(); sys.stdin.readline()
    t0 = time.perf_counter()
    for _ in range(n): conn.getLibVersion()
    rt = (time.perf_counter() - t0) / n
    sys.stdout.write("host\n"); sys.stdout.flush(); sys.stdin.readline()
    t0 = time.perf_counter()
    for _ in range(n):
        d = conn.defineXML(xml); d.create(); d.destroy(); d.undefine()
    cyc = (time.perf_counter() - t0) / n
    sys.stdout.write(f"{rt} {cyc}\n"); sys.stdout.flush(); sys.stdin.readline()
conn.close()
`;

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const us = (s: number) => `${(s * 1e6).toFixed(0)} µs`;

/** The calls of one cycle on the wire: define, create + its lookup, destroy, undefine. */
const CYCLE_RT = 5;

interface Round {
  readonly rt: number;
  readonly cycle: number;
  readonly host: number;
  /** This process's CPU seconds per getLibVersion and per cycle. */
  readonly cpuRt: number;
  readonly cpuCycle: number;
}

/** Seconds the host spent inside its own calls since the last reset (the fake server only). */
let hostSeconds = 0;

function timeHostCalls(host: FakeHost): void {
  const h = host as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['defineXML', 'defineParsed', 'create', 'lookupByUUID', 'destroy', 'undefine']) {
    const f = h[m]!.bind(host);
    h[m] = (...a: unknown[]) => {
      const t = performance.now();
      try {
        return f(...a);
      } finally {
        hostSeconds += (performance.now() - t) / 1000;
      }
    };
  }
}

const cpuSeconds = (since?: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

function report(who: string, rounds: readonly Round[], cpuIs: string): void {
  const rt = median(rounds.map((r) => r.rt));
  const cycle = median(rounds.map((r) => r.cycle));
  const hostPart = median(rounds.map((r) => r.host));
  const perRt = median(rounds.map((r) => r.cpuRt));
  const perCall = median(rounds.map((r) => (r.cpuCycle - r.host) / CYCLE_RT));
  console.log(
    `${who.padEnd(22)} RT ${us(rt).padStart(7)}, cycle ${us(cycle).padStart(8)} (host ${us(hostPart).padStart(7)}): ` +
      `cycle / 4 RT = ${(cycle / (4 * rt)).toFixed(2)}, (cycle − host) / 4 RT = ${((cycle - hostPart) / (4 * rt)).toFixed(2)}; ` +
      `${cpuIs} CPU ${us(perRt)} per RT, ${us(perCall)} per cycle call without the host`,
  );
}

async function tsRounds(uri: string): Promise<Round[]> {
  const client = await connect(uri);
  for (let i = 0; i < 300; i++) await client.getLibVersion();
  // The host's code warms up too (JIT, the define memo's first answers) before anything is timed.
  for (let i = 0; i < 100; i++) {
    const d = await client.defineXML(XML);
    await client.undefine(await client.domainCreate(d).then(async (running) => (await client.destroy(running), running)));
  }
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let mark = process.cpuUsage();
    let t0 = performance.now();
    for (let i = 0; i < N; i++) await client.getLibVersion();
    const rt = (performance.now() - t0) / 1000 / N;
    const cpuRt = cpuSeconds(mark) / N;
    hostSeconds = 0;
    mark = process.cpuUsage();
    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const d = await client.defineXML(XML);
      const running = await client.domainCreate(d);
      await client.destroy(running);
      await client.undefine(running);
    }
    rounds.push({ rt, cycle: (performance.now() - t0) / 1000 / N, host: hostSeconds / N, cpuRt, cpuCycle: cpuSeconds(mark) / N });
  }
  await client.close();
  return rounds;
}

async function pythonRounds(uri: string): Promise<Round[]> {
  const rounds: Round[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', PY, uri, XML, String(N), String(ROUNDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    let mark = process.cpuUsage();
    let cpuRt = 0;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'rt') mark = process.cpuUsage();
        else if (line === 'host') {
          cpuRt = cpuSeconds(mark) / N;
          hostSeconds = 0;
          mark = process.cpuUsage();
        } else {
          const cpuCycle = cpuSeconds(mark) / N;
          const [rt, cycle] = line.split(' ').map(Number) as [number, number];
          rounds.push({ rt, cycle, host: hostSeconds / N, cpuRt, cpuCycle });
        }
        child.stdin.write('\n');
      }
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`python exited ${code}`))));
  });
  return rounds;
}

const dir = mkdtempSync(join(tmpdir(), 'sevharness-percall-'));
const host = new FakeHost(loadProfile('milan-7003-es8'));
timeHostCalls(host);
const nul = await startNullServer(join(dir, 'null.sock'));
const idle = new FakeLibvirtd(idleBackend(), { socketPath: join(dir, 'idle.sock') });
const fake = new FakeLibvirtd(host, { socketPath: join(dir, 'fake.sock') });
// The same daemons again, offering clients of this process the in-memory connection.
const idleInProcess = new FakeLibvirtd(idleBackend(), { socketPath: join(dir, 'idle-mem.sock'), inProcessClients: true });
const fakeInProcess = new FakeLibvirtd(host, { socketPath: join(dir, 'fake-mem.sock'), inProcessClients: true });
for (const d of [idle, fake, idleInProcess, fakeInProcess]) await d.listen();

try {
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${N} calls × ${ROUNDS} rounds, medians; target cycle / 4 RT ≤ 1.3, floor ${(CYCLE_RT / 4).toFixed(2)}`);
  report('TS, null server', await tsRounds(nul.uri), 'process');
  report('TS, daemon idle', await tsRounds(idle.uri), 'process');
  report('TS, daemon fake', await tsRounds(fake.uri), 'process');
  report('TS in-process, idle', await tsRounds(idleInProcess.uri), 'process');
  report('TS in-process, fake', await tsRounds(fakeInProcess.uri), 'process');
  if (!findExecutable('/usr/bin/python3')) {
    console.log('python3 missing: skipping libvirt-python');
  } else {
    report('python, null server', await pythonRounds(nul.uri), 'server');
    report('python, daemon idle', await pythonRounds(idle.uri), 'server');
    report('python, daemon fake', await pythonRounds(fake.uri), 'server');
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  for (const d of [idle, fake, idleInProcess, fakeInProcess]) await d.close();
  await nul.close();
  rmSync(dir, { recursive: true, force: true });
}
