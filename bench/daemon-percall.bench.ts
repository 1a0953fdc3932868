/**
 * The daemon's per-call cost, as ratios measured in one run (issue 17): a define → create →
 * destroy → undefine cycle against four getLibVersion round trips of the same client, for
 * libvirt-python (in its own process) and for the TypeScript client. The host's own work in the
 * cycle (parse, validation, QEMU start) is timed inside the daemon and shown apart, so the
 * daemon's share — decode, dispatch, encode, socket writes — reads as (cycle − host) / 4 RT.
 *
 * The cycle is five round trips, not four: virDomainCreate's client (libvirt's remoteDomainCreate,
 * and the TypeScript client's domainCreate after it) looks the domain up again for its new id. So
 * the protocol's floor is 5 RT = 1.25 × 4 RT with no work at all in the daemon; "/ 5 RT" shows the
 * cycle against that floor. For libvirt-python the daemon's CPU time is measured too (the client
 * is another process): per getLibVersion, and per call of the cycle with the host's work taken out,
 * which is what the per-call path costs whatever the machine's load does to wall-clock figures.
 *
 *   node bin/run-ts.js bench/daemon-percall.bench.ts [calls-per-round] [rounds]
 */
import { spawn } from 'node:child_process';
import { connect } from '../src/libvirt/client.ts';
import { findExecutable } from '../containers/real-stack.ts';
import { startFake } from '../fakelibvirt/testing/daemon.ts';
import { guestXml } from '../fakelibvirt/testing/guest-xml.ts';

const N = Number(process.argv[2] ?? 400);
const ROUNDS = Number(process.argv[3] ?? 5);
const XML = guestXml({ name: 'bench', uuid: 'beeeeeee-1111-4222-8333-444444444444' });

const PY = String.raw`
import sys, time, libvirt
uri, xml, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = libvirt.open(uri)
for _ in range(300): conn.getLibVersion()
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

const fake = await startFake('milan-7003-es8');
// The host's share of each cycle, timed around the host calls the handlers make.
const host = fake.host as unknown as Record<string, (...a: unknown[]) => unknown>;
let hostSeconds = 0;
for (const m of ['defineXML', 'defineParsed', 'create', 'destroy', 'undefine']) {
  const f = host[m]!.bind(fake.host);
  host[m] = (...a: unknown[]) => {
    const t = performance.now();
    try {
      return f(...a);
    } finally {
      hostSeconds += (performance.now() - t) / 1000;
    }
  };
}

interface Round {
  readonly rt: number;
  readonly cycle: number;
  readonly host: number;
  /** The daemon's CPU seconds per getLibVersion and per cycle (an out-of-process client only). */
  readonly cpuRt?: number;
  readonly cpuCycle?: number;
}

/** The calls of one cycle on the wire: define, create + its lookup, destroy, undefine. */
const CYCLE_RT = 5;

function report(who: string, rounds: readonly Round[]): void {
  const rt = median(rounds.map((r) => r.rt));
  const cycle = median(rounds.map((r) => r.cycle));
  const hostPart = median(rounds.map((r) => r.host));
  console.log(
    `${who}: getLibVersion ${us(rt)}, cycle ${us(cycle)} (host work ${us(hostPart)}); ` +
      `cycle / 4 RT = ${(cycle / (4 * rt)).toFixed(2)} [target ≤ 1.3; floor ${(CYCLE_RT / 4).toFixed(2)}], ` +
      `(cycle − host) / 4 RT = ${((cycle - hostPart) / (4 * rt)).toFixed(2)}, cycle / ${CYCLE_RT} RT = ${(cycle / (CYCLE_RT * rt)).toFixed(2)}`,
  );
  const cpu = rounds.filter((r) => r.cpuRt !== undefined && r.cpuCycle !== undefined);
  if (cpu.length) {
    const perRt = median(cpu.map((r) => r.cpuRt!));
    const perCall = median(cpu.map((r) => (r.cpuCycle! - r.host) / CYCLE_RT));
    console.log(`${' '.repeat(who.length)}  daemon CPU: ${us(perRt)} per getLibVersion, ${us(perCall)} per cycle call without the host's work (${(perCall / perRt).toFixed(2)}×)`);
  }
}

const cpuSeconds = (since?: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

try {
  // TypeScript client.
  const client = await connect(fake.uri);
  for (let i = 0; i < 300; i++) await client.getLibVersion();
  const ts: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = performance.now();
    for (let i = 0; i < N; i++) await client.getLibVersion();
    const rt = (performance.now() - t0) / 1000 / N;
    hostSeconds = 0;
    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const d = await client.defineXML(XML);
      const running = await client.domainCreate(d);
      await client.destroy(running);
      await client.undefine(running);
    }
    ts.push({ rt, cycle: (performance.now() - t0) / 1000 / N, host: hostSeconds / N });
  }
  await client.close();
  report('TS client     ', ts);

  if (!findExecutable('/usr/bin/python3')) {
    console.log('python3 missing: skipping libvirt-python');
  } else {
    const py: Round[] = [];
    await new Promise<void>((resolve, reject) => {
      const child = spawn('/usr/bin/python3', ['-c', PY, fake.uri, XML, String(N), String(ROUNDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
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
            py.push({ rt, cycle, host: hostSeconds / N, cpuRt, cpuCycle });
          }
          child.stdin.write('\n');
        }
      });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`python exited ${code}`))));
    });
    report('libvirt-python', py);
  }
} finally {
  await fake.close();
}
