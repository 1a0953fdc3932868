/** Shared pieces of the hostile-input suite: a daemon with a read-only socket, raw calls, a bystander that measures latency. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLibvirtd, type FakeLibvirtdOptions } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { decodeError, encodeCall } from '../../src/rpc/codec.ts';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from '../../src/rpc/constants.ts';
import type { RemoteError } from '../../src/rpc/errors.ts';
import { encodeMessage } from '../../src/rpc/header.ts';
import { RawClient } from '../daemon/raw-client.ts';

export interface HostileDaemon {
  readonly daemon: FakeLibvirtd<FakeHost>;
  readonly host: FakeHost;
  readonly dir: string;
  readonly rw: string;
  readonly ro: string;
  close(): Promise<void>;
}

export async function startHostile(profile = 'milan-7003-es8', opts: Partial<FakeLibvirtdOptions> = {}): Promise<HostileDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-hostile-'));
  const host = new FakeHost(loadProfile(profile));
  const rw = join(dir, 'sock');
  const ro = join(dir, 'sock-ro');
  const daemon = new FakeLibvirtd(host, { socketPath: rw, readOnlySocketPath: ro, ...opts });
  await daemon.listen();
  return {
    daemon,
    host,
    dir,
    rw,
    ro,
    async close() {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const rawCall = (proc: number, serial: number, payload: Buffer = Buffer.alloc(0)) =>
  encodeMessage({ prog: REMOTE_PROGRAM, vers: 1, proc, type: MessageType.CALL, serial, status: MessageStatus.OK }, payload);

/** An XDR string's bytes, for payloads built by hand (invalid UTF-8, NULs). */
export function xdrString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

/** A raw connection that has done AUTH_LIST and, unless `open` is false, CONNECT_OPEN. */
export async function rawClient(path: string, open = true): Promise<RawClient> {
  const c = await RawClient.open(path);
  c.send(encodeCall('AUTH_LIST', 0, undefined));
  if (open) {
    c.send(encodeCall('CONNECT_OPEN', 1, { name: 'qemu:///system', flags: 0 }));
    await c.reply(1);
  } else await c.reply(0);
  return c;
}

/** The error a reply carries, or null for an OK reply; throws when the connection closed instead. */
export async function errorOf(c: RawClient, serial: number): Promise<RemoteError | null> {
  const r = await c.reply(serial);
  if (r === null) throw new Error(`connection closed before the reply to serial ${serial}`);
  return r.header.status === MessageStatus.ERROR ? decodeError(r.payload) : null;
}

const BYSTANDER = new URL('./bystander.mjs', import.meta.url).pathname;

export interface Latency {
  readonly count: number;
  readonly median: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Another client calling getLibVersion in a loop while an attack runs: the daemon must keep
 * answering it. It runs in its own process (bystander.mjs), so what it measures is the daemon,
 * not the event loop of the test that attacks it. `stop()` summarises the round-trip times.
 */
/** The machine's share of a round trip: a server in its own process that echoes every frame. */
const ECHO = `const s = require('node:net').createServer((c) => c.on('data', (d) => c.write(d)).on('error', () => {}));
s.listen(process.argv[1], () => process.stdout.write('ready\\n'));
process.stdin.on('end', () => process.exit(0)).resume();`;

export class Bystander {
  private constructor(
    private readonly child: import('node:child_process').ChildProcess,
    private readonly output: Promise<string>,
    private readonly echo: { child: import('node:child_process').ChildProcess; dir: string } | null,
  ) {}

  /**
   * `target`: a socket path, or a `qemu+unix:///system?socket=…` URI. With `control`, the same
   * frame also goes to an echo server in another process; `stop()` reports both.
   */
  static async start(target: string, intervalMs = 5, control = false): Promise<Bystander> {
    const { spawn } = await import('node:child_process');
    const socketPath = target.includes('socket=') ? target.slice(target.indexOf('socket=') + 7) : target;
    let echo: { child: import('node:child_process').ChildProcess; dir: string } | null = null;
    const args = [BYSTANDER, socketPath, String(intervalMs)];
    if (control) {
      const dir = mkdtempSync(join(tmpdir(), 'sevharness-echo-'));
      const child = spawn(process.execPath, ['-e', ECHO, join(dir, 'echo')], { stdio: ['pipe', 'pipe', 'inherit'] });
      await new Promise((r) => child.stdout!.once('data', r));
      echo = { child, dir };
      args.push(join(dir, 'echo'));
    }
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((r) => (ready = r));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) ready();
    });
    const output = new Promise<string>((r) => child.once('exit', () => r(out)));
    await Promise.race([isReady, output.then(() => Promise.reject(new Error(`bystander exited: ${out}`)))]);
    return new Bystander(child, output, echo);
  }

  async stop(): Promise<Latency> {
    return (await this.stopWithControl()).daemon;
  }

  /** The daemon's round trips and, when started with `control`, the echo server's over the same time. */
  async stopWithControl(): Promise<{ daemon: Latency; control: Latency | null }> {
    this.child.stdin!.end();
    const out = await this.output;
    if (this.echo) {
      this.echo.child.stdin!.end();
      rmSync(this.echo.dir, { recursive: true, force: true });
    }
    const { times, controlTimes, failures } = JSON.parse(out.slice('ready\n'.length)) as { times: number[]; controlTimes: number[]; failures: number };
    if (failures > 0) throw new Error(`the bystander's getLibVersion failed ${failures} times`);
    return { daemon: summarise(times), control: this.echo ? summarise(controlTimes) : null };
  }
}

function summarise(times: readonly number[]): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return { count: sorted.length, median: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

// ---- `sevharness serve` as a child process ------------------------------------------------------

export interface Announced {
  readonly uri: string;
  readonly socket: string;
  readonly sysroot: string;
  readonly profile: string;
  readonly readOnlyUri?: string;
}

export interface ServeChild {
  readonly child: import('node:child_process').ChildProcess;
  readonly announced: Announced;
  stderr(): string;
  /** The daemon's resident set in MiB, from /proc. */
  rssMiB(): number;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

const CLI = new URL('../../bin/sevharness.js', import.meta.url).pathname;

/** Starts `sevharness serve --json ARGS` for one profile and waits for its announcement. */
export async function serveChild(args: readonly string[]): Promise<ServeChild> {
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  const { readFileSync } = await import('node:fs');
  const child = spawn(process.execPath, [CLI, 'serve', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  const announced = await new Promise<Announced>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l) as Announced));
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return {
    child,
    announced,
    stderr: () => stderr,
    rssMiB() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : Number.NaN;
    },
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
