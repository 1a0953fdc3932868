/**
 * The long run of the hostile suite: `npm run soak -- --minutes N [--profile P] [--kill-every S]`.
 *
 * Starts `sevharness serve --state-dir` in its own process and, until the time is up, drives it
 * with ordinary clients (define/start/dumpxml/destroy/undefine loops, read-only readers) and
 * hostile ones (random and mutated frames, replies too large to send, pipelined calls nobody
 * reads, connections opened and dropped). With --kill-every it kills the daemon with SIGKILL every
 * S seconds, restarts it on the same state directory and checks that every acknowledged definition
 * is back. Every 10 seconds it prints operations, errors by kind, the daemon's RSS and the latency
 * of getLibVersion; it exits non-zero when an ordinary client saw an unexpected error, the daemon
 * died on its own, its RSS passed 300 MiB, or an acknowledged definition was lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as dial, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { connect, type LibvirtClient } from '../src/libvirt/client.ts';
import { encodeCall } from '../src/rpc/codec.ts';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from '../src/rpc/constants.ts';
import { encodeMessage } from '../src/rpc/header.ts';
import { PROCEDURE_ROWS } from '../src/rpc/procedures.ts';
import { STRING_MAX } from '../src/xdr/index.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    profile: { type: 'string', default: 'milan-7003-es8' },
    'kill-every': { type: 'string' },
    seed: { type: 'string', default: '15' },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const killEveryMs = values['kill-every'] ? Number(values['kill-every']) * 1000 : 0;
const RSS_LIMIT_MIB = 300;
const CLI = resolve(import.meta.dirname, '../bin/sevharness.js');

/** A small seeded PRNG (mulberry32), so a failing run can be repeated with --seed. */
let seed = Number(values.seed) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

// ---- the daemon ---------------------------------------------------------------------------------

interface Daemon {
  readonly child: ChildProcess;
  readonly uri: string;
  readonly socket: string;
  readonly roSocket: string;
  readonly exited: Promise<number | null>;
}

const state = mkdtempSync(join(tmpdir(), 'sevharness-soak-'));
let daemon: Daemon;
let killedByUs = false;
let diedOnItsOwn = false;

async function startDaemon(): Promise<Daemon> {
  const roSocket = join(state, 'ro-sock');
  const child = spawn(process.execPath, [CLI, 'serve', '--json', '--profile', values.profile!, '--state-dir', state, '--read-only-socket', roSocket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    void exited.then((code) => reject(new Error(`serve exited with ${code}`)));
  });
  const a = JSON.parse(line) as { uri: string; socket: string };
  void exited.then(() => {
    if (!killedByUs) diedOnItsOwn = true;
  });
  return { child, uri: a.uri, socket: a.socket, roSocket, exited };
}

function rssMiB(): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemon.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

// ---- bookkeeping --------------------------------------------------------------------------------

let ops = 0;
const errors = new Map<string, number>();
let unexpected = 0;
const rssSamples: string[] = [];
let rssMax = 0;
let latencies: number[] = [];
const acknowledged = new Set<string>();
let lost = 0;

/** An error reduced to its kind: code/domain and the message without names and numbers. */
function kindOf(e: unknown): string {
  const err = e as { code?: number; domain?: number; message?: string };
  const text = (err.message ?? String(e)).split('\n')[0]!.replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N').slice(0, 80);
  return err.code === undefined ? text : `${err.code}/${err.domain}: ${text}`;
}

function count(kind: string, isUnexpected: boolean): void {
  const key = `${isUnexpected ? 'UNEXPECTED ' : ''}${kind}`;
  errors.set(key, (errors.get(key) ?? 0) + 1);
  if (isUnexpected) unexpected++;
}

let restarting: Promise<void> | null = null;
/** Ordinary work: an error is unexpected unless the daemon is being restarted on purpose. */
async function ordinary<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    const r = await f();
    ops++;
    return r;
  } catch (e) {
    count(kindOf(e), restarting === null);
    return undefined;
  }
}

const running = () => performance.now() < deadline;
let deadline = 0;

// ---- ordinary clients ---------------------------------------------------------------------------

function guestXml(name: string): string {
  return `<domain type='kvm'><name>${name}</name><uuid>${randomUUID()}</uuid><memory unit='KiB'>524288</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features></domain>\n`;
}

async function withClient(uri: () => string, body: (c: LibvirtClient) => Promise<void>): Promise<void> {
  while (running()) {
    if (restarting) await restarting;
    const c = await ordinary(() => connect(uri(), { callTimeoutMs: 30_000 }));
    if (!c) {
      await sleep(100);
      continue;
    }
    try {
      while (running() && !c.rpc.closed) await body(c);
    } finally {
      await c.close().catch(() => undefined);
    }
  }
}

async function lifecycleWorker(w: number): Promise<void> {
  let i = 0;
  await withClient(
    () => daemon.uri,
    async (c) => {
      const name = `soak${w}-${i++}`;
      const dom = await ordinary(() => c.defineXML(guestXml(name)));
      if (!dom) return;
      acknowledged.add(name);
      await ordinary(() => c.domainCreate(dom));
      await ordinary(() => c.getXMLDesc(dom));
      await ordinary(() => c.destroy(dom));
      if ((await ordinary(() => c.undefine(dom).then(() => true))) === true) acknowledged.delete(name);
    },
  );
}

async function readerWorker(): Promise<void> {
  await withClient(
    () => `qemu+unix:///system?socket=${daemon.roSocket}`,
    async (c) => {
      await ordinary(() => c.listAllDomains());
      await ordinary(() => c.nodeGetInfo());
      await ordinary(() => c.getCapabilities());
    },
  );
}

async function latencyWorker(): Promise<void> {
  await withClient(
    () => daemon.uri,
    async (c) => {
      const t0 = performance.now();
      if ((await ordinary(() => c.getLibVersion())) !== undefined) latencies.push(performance.now() - t0);
      await sleep(10);
    },
  );
}

// ---- hostile clients ----------------------------------------------------------------------------

function rawFrame(proc: number, serial: number, payload: Buffer): Buffer {
  return encodeMessage({ prog: REMOTE_PROGRAM, vers: 1, proc, type: MessageType.CALL, serial, status: MessageStatus.OK }, payload);
}

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}

const CALLS = PROCEDURE_ROWS.filter((r) => r.kind === 'call').map((r) => r.number);
const LONG = 'x'.repeat(STRING_MAX - 4);

function openRaw(path: string): Promise<Socket | null> {
  return new Promise((resolveSocket) => {
    const s = dial(path);
    s.once('connect', () => resolveSocket(s));
    s.once('error', () => resolveSocket(null));
  });
}

async function hostileWorker(): Promise<void> {
  while (running()) {
    if (restarting) await restarting;
    const path = random() < 0.5 ? daemon.socket : daemon.roSocket;
    const s = await openRaw(path);
    if (!s) {
      await sleep(50);
      continue;
    }
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    const attack = pick(['random', 'mutated', 'xdr', 'long', 'pipeline', 'drop'] as const);
    s.write(encodeCall('AUTH_LIST', 0, undefined));
    s.write(encodeCall('CONNECT_OPEN', 1, { name: null, flags: 0 }));
    if (attack === 'random') s.write(randomBytes(1 + Math.floor(random() * 300)));
    if (attack === 'mutated') {
      const f = Buffer.from(encodeCall('DOMAIN_LOOKUP_BY_NAME', 2, { name: 'soak' }));
      for (let k = 0; k < 4; k++) f[Math.floor(random() * f.length)] = Math.floor(random() * 256);
      s.write(f);
    }
    if (attack === 'xdr') s.write(rawFrame(pick(CALLS), 3, randomBytes(Math.floor(random() * 200))));
    if (attack === 'long') s.write(encodeCall('DOMAIN_LOOKUP_BY_NAME', 4, { name: LONG }));
    if (attack === 'pipeline') {
      s.pause();
      s.write(Buffer.concat(Array.from({ length: 2000 }, (_, k) => rawFrame(59 /* CONNECT_GET_HOSTNAME */, 10 + k, Buffer.alloc(0)))));
    }
    await sleep(attack === 'pipeline' ? 500 : 20);
    s.destroy();
    count(`attack: ${attack}`, false);
    ops++;
  }
}

// ---- kill -9 and restart ------------------------------------------------------------------------

async function killer(): Promise<void> {
  while (killEveryMs > 0 && running()) {
    await sleep(killEveryMs);
    if (!running()) return;
    let done: () => void = () => undefined;
    restarting = new Promise<void>((r) => (done = r));
    killedByUs = true;
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    const expected = new Set(acknowledged);
    daemon = await startDaemon();
    killedByUs = false;
    const c = await connect(daemon.uri);
    const names = new Set((await c.listAllDomains()).map((d) => d.name));
    await c.close();
    for (const n of expected) if (!names.has(n)) lost++;
    count('daemon killed with SIGKILL and restarted', false);
    restarting = null;
    done();
  }
}

// ---- report -------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();

function report(final: boolean): void {
  const rss = rssMiB();
  rssMax = Math.max(rssMax, rss);
  const sorted = [...latencies].sort((a, b) => a - b);
  latencies = [];
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(1) : '-');
  const at = ((performance.now() - t0) / 1000).toFixed(0);
  rssSamples.push(`${at}s:${rss.toFixed(0)}`);
  console.log(`[${at.padStart(5)} s] ops ${ops}  unexpected ${unexpected}  daemon RSS ${rss.toFixed(0)} MiB  getLibVersion (seen from this process) median ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`);
  if (final) {
    console.log('errors by kind:');
    for (const [k, n] of [...errors.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(8)}  ${k}`);
    console.log(`RSS over time (MiB): ${rssSamples.join(' ')}`);
    console.log(`RSS max ${rssMax.toFixed(0)} MiB; acknowledged definitions lost across kill -9: ${lost}; daemon died on its own: ${diedOnItsOwn ? 'yes' : 'no'}`);
  }
}

async function main(): Promise<number> {
  daemon = await startDaemon();
  deadline = performance.now() + durationMs;
  console.log(`soak: ${values.minutes} min against ${values.profile}, state ${state}, seed ${values.seed}${killEveryMs ? `, kill -9 every ${killEveryMs / 1000} s` : ''}`);
  const ticker = setInterval(() => report(false), 10_000);
  await Promise.all([lifecycleWorker(0), lifecycleWorker(1), readerWorker(), readerWorker(), latencyWorker(), hostileWorker(), hostileWorker(), killer()]);
  clearInterval(ticker);
  report(true);
  killedByUs = true;
  daemon.child.kill('SIGTERM');
  await daemon.exited;
  rmSync(state, { recursive: true, force: true });
  const ok = unexpected === 0 && !diedOnItsOwn && rssMax < RSS_LIMIT_MIB && lost === 0;
  console.log(ok ? 'soak: passed' : 'soak: FAILED');
  return ok ? 0 : 1;
}

process.exitCode = await main();
