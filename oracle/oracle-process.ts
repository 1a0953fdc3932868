/**
 * One real libvirt 9.0 QEMU driver in a child process (oracle/libvirt_oracle.py), fed one request
 * at a time. A request that kills libvirt (some inputs abort it) or hangs is answered as what it
 * is, `crash` or `hang`, and the next request gets a fresh process.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER = join(HERE, 'libvirt_oracle.py');
const PRIVATE_DEV = join(HERE, 'private-dev.sh');
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** What real libvirt answered to one request. */
export type OracleAnswer =
  | { readonly outcome: 'ok'; readonly xml: string }
  | { readonly outcome: 'error'; readonly code: number; readonly domain: number; readonly message: string }
  | { readonly outcome: 'crash'; readonly signal: string | null; readonly exitCode: number | null }
  | { readonly outcome: 'hang'; readonly seconds: number };

/** One lifecycle step: a libvirt API name and its arguments after the domain. */
export type ScenarioStep = readonly [string, ...(number | string)[]];
/** One step's answer: its return value (JSON) or libvirt's error. */
export type StepAnswer =
  | { readonly outcome: 'ok'; readonly ret: unknown }
  | { readonly outcome: 'error'; readonly code: number; readonly domain: number; readonly message: string };
export type ScenarioAnswer =
  | { readonly outcome: 'ok'; readonly steps: readonly StepAnswer[] }
  | { readonly outcome: 'error'; readonly define: StepAnswer; readonly steps: readonly [] }
  | Extract<OracleAnswer, { outcome: 'crash' | 'hang' }>;

/** The SEV values the oracle's patched QEMU capabilities report (null: QEMU without SEV). */
export interface OracleSev {
  readonly cbitpos: number;
  readonly reducedPhysBits: number;
  readonly pdh: string;
  readonly certChain: string;
  readonly cpu0Id?: string;
  /** QEMU offers SEV-SNP guests too (libvirt 10.5+ reads its sev-snp-guest flag). */
  readonly snp?: true;
}

/** Why the oracle cannot run here, or null when it can. */
export function oracleUnavailable(): string | null {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is missing`;
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import libvirt'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'python3-libvirt is missing (Debian package python3-libvirt)';
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so')) {
    return "libvirt's QEMU driver is missing (Debian package libvirt-daemon-driver-qemu)";
  }
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'QEMU is missing (Debian package qemu-system-x86)';
  if (process.getuid?.() !== 0) return 'the oracle needs root (a private mount namespace with its own /dev)';
  const user = spawnSync('getent', ['passwd', 'libvirt-qemu']);
  if (user.status !== 0) return "the user 'libvirt-qemu' is missing (scripts/ensure-real-stack.sh creates it)";
  return null;
}

/**
 * A running real-libvirt container (containers/) to run the oracle in instead of this machine: its
 * own libvirt, QEMU and python3-libvirt, with this oracle/ directory mounted at `oracleDir`. Its
 * /dev is already a private one (no /dev/kvm, no /dev/sev), so no namespace is made there.
 */
export interface OracleContainer {
  readonly id: string;
  readonly oracleDir: string;
}

/** The command line that runs the oracle server: in its own mount namespace and /dev, or in the container. */
function inNamespace(args: readonly string[], container?: OracleContainer): [string, string[]] {
  if (!container) return ['unshare', ['--mount', '--propagation', 'private', PRIVATE_DEV, SYSTEM_PYTHON, SERVER, ...args]];
  // The server's PID is kept beside its root, so a hung one can be killed inside the container.
  const script = 'echo $$ > "$0.pid"; exec /usr/bin/python3 "$@"';
  return ['docker', ['exec', '-i', container.id, 'sh', '-c', script, `${args[1]}`, `${container.oracleDir}/libvirt_oracle.py`, ...args]];
}

/** Probes QEMU into ROOT's capability cache and, with `sev`, patches it to report SEV. */
export function prepareRoot(root: string, sev: OracleSev | null, container?: OracleContainer): void {
  const [cmd, args] = inNamespace(['prepare', root, JSON.stringify(sev)], container);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`oracle: preparing ${root} failed: ${r.stderr || r.error?.message}`);
}

export class OracleProcess {
  private child: ChildProcessWithoutNullStreams | null = null;
  private lines: Interface | null = null;
  private pending: ((line: string | null) => void) | null = null;
  private readonly queue: string[] = [];
  private exit: { signal: string | null; code: number | null } | null = null;

  constructor(
    private readonly root: string,
    private readonly timeoutMs = 30_000,
    private readonly container?: OracleContainer,
  ) {}

  private async start(): Promise<void> {
    const [cmd, args] = inNamespace(['serve', this.root], this.container);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.exit = null;
    child.stderr.resume(); // libvirt's own log lines: not part of any answer
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.deliver(line));
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.deliver(null);
    });
    const ready = await this.next();
    if (ready === null || !ready.includes('"ready"')) {
      throw new Error(`oracle: server for ${this.root} did not start (exit ${JSON.stringify(this.exit)})`);
    }
  }

  private deliver(line: string | null): void {
    const waiter = this.pending;
    if (waiter) {
      this.pending = null;
      waiter(line);
    } else if (line !== null) {
      this.queue.push(line);
    }
  }

  private next(): Promise<string | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exit) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.pending = resolve;
    });
  }

  /** virDomainDefineXML, then the inactive XML of what was defined (and undefine). */
  async define(xml: string): Promise<OracleAnswer> {
    return this.request({ op: 'define', xml });
  }

  /**
   * Defines `xml`, runs each step ([API name, ...args], oracle/libvirt_oracle.py's STEPS) on that
   * domain, then destroys and undefines it.
   */
  async scenario(xml: string, steps: readonly ScenarioStep[]): Promise<ScenarioAnswer> {
    return (await this.request({ op: 'scenario', xml, steps })) as unknown as ScenarioAnswer;
  }

  /** virConnectGetCapabilities. */
  async capabilities(): Promise<OracleAnswer> {
    return this.request({ op: 'capabilities' });
  }

  /** virConnectGetDomainCapabilities. */
  async domainCapabilities(q: { emulator?: string; arch?: string; machine?: string; virttype?: string }): Promise<OracleAnswer> {
    return this.request({ op: 'domcapabilities', ...q });
  }

  private async request(req: object): Promise<OracleAnswer> {
    if (!this.child || this.exit) await this.start();
    const child = this.child as ChildProcessWithoutNullStreams;
    child.stdin.write(`${JSON.stringify(req)}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    const line = await Promise.race([this.next(), timedOut]);
    clearTimeout(timer);
    if (line === 'timeout') {
      this.pending = null;
      await this.kill();
      return { outcome: 'hang', seconds: this.timeoutMs / 1000 };
    }
    if (line === null) {
      const exit = this.exit ?? { code: null, signal: null };
      this.child = null;
      return { outcome: 'crash', ...this.deathOf(exit) };
    }
    return JSON.parse(line) as OracleAnswer;
  }

  /** `docker exec` reports a server killed by signal N as exit code 128 + N: told as the signal, as here. */
  private deathOf(exit: { signal: string | null; code: number | null }): { signal: string | null; exitCode: number | null } {
    if (!this.container || exit.code === null || exit.code <= 128) return { signal: exit.signal, exitCode: exit.code };
    const name = Object.entries(constants.signals).find(([, n]) => n === exit.code! - 128)?.[0];
    return name ? { signal: name, exitCode: null } : { signal: exit.signal, exitCode: exit.code };
  }

  private async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (this.container && !this.exit) {
      spawnSync('docker', ['exec', this.container.id, 'sh', '-c', 'kill -9 "$(cat "$0.pid")"', this.root], { timeout: 30_000 });
    }
    if (!child || this.exit) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async close(): Promise<void> {
    if (this.child && !this.exit) {
      this.child.stdin.end();
      await this.kill();
    }
  }
}
