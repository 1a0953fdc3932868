/**
 * Starts a private libvirtd for a test, the test driver reachable as `test+unix:///default`:
 * where Docker is available, Debian 12's libvirtd in a container (containers/, no network, its
 * socket bind-mounted from a temporary directory); elsewhere this machine's libvirtd with its own
 * config, socket directory and XDG directories in a temporary directory, no authentication. As
 * root the latter drops to uid/gid 65534 (nobody) so it runs in session mode and never touches the
 * system's /run/libvirt; as another user it runs as that user.
 *
 *   const daemon = await startRealLibvirtd();
 *   const client = await connect(daemon.testUri);
 *   ...
 *   await daemon.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startRealLibvirt } from './real-libvirt.ts';
import { containersUnavailable } from './gate.ts';
import { findExecutable, requireRealStack, type RealStack } from './real-stack.ts';

export interface RealLibvirtd {
  /** Daemon socket (read-write). */
  readonly socketPath: string;
  /** `test+unix:///default?socket=…`: the built-in test driver through this daemon. */
  readonly testUri: string;
  readonly dir: string;
  /** A bookworm container, or this machine's libvirtd binary. */
  readonly where: 'container' | 'machine';
  /** The daemon's stderr so far, for diagnosing failures (the machine's daemon only). */
  log(): string;
  stop(): Promise<void>;
}

/** The daemon a test gets when Docker cannot run the bookworm container. */
const containerUsable = () => containersUnavailable(['bookworm'], { build: false }) === null;

/** A real libvirtd can be started: in a container, or from this machine's libvirtd binary. */
export function realLibvirtdAvailable(): RealStack {
  if (containerUsable()) return { available: true, missing: [], paths: {} };
  return requireRealStack(['libvirtd']);
}

export interface StartOptions {
  /** Give up when the socket has not appeared after this long. */
  readonly startTimeoutMs?: number;
  /** Extra lines for libvirtd.conf. */
  readonly extraConfig?: string;
}

const NOBODY = 65534;

export async function startRealLibvirtd(opts: StartOptions = {}): Promise<RealLibvirtd> {
  if (opts.extraConfig === undefined && containerUsable()) {
    const real = await startRealLibvirt('bookworm');
    return {
      socketPath: real.socket,
      testUri: `test+unix:///default?socket=${real.socket}`,
      dir: dirname(real.socket),
      where: 'container',
      log: () => '',
      stop: () => real.stop(),
    };
  }
  const libvirtd = findExecutable('libvirtd');
  if (!libvirtd) throw new Error('libvirtd not found');
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-libvirtd-'));
  const runDir = join(dir, 'run');
  for (const d of ['run', 'config', 'cache', 'home']) mkdirSync(join(dir, d), { recursive: true });
  const confPath = join(dir, 'libvirtd.conf');
  writeFileSync(
    confPath,
    [
      `unix_sock_dir = "${runDir}"`,
      'auth_unix_rw = "none"',
      'auth_unix_ro = "none"',
      'unix_sock_rw_perms = "0777"',
      'unix_sock_ro_perms = "0777"',
      opts.extraConfig ?? '',
    ].join('\n'),
  );

  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    for (const d of ['', 'run', 'config', 'cache', 'home', 'libvirtd.conf']) chownSync(join(dir, d), NOBODY, NOBODY);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: join(dir, 'home'),
    XDG_RUNTIME_DIR: runDir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
  };
  const child: ChildProcess = spawn(libvirtd, ['-f', confPath], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const socketPath = join(runDir, 'libvirt-sock');
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  let running = true;
  void exited.then(() => {
    running = false;
  });
  while (!existsSync(socketPath)) {
    if (!running) throw new Error(`libvirtd exited before creating its socket:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`libvirtd did not create ${socketPath} in time:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  return {
    socketPath,
    testUri: `test+unix:///default?socket=${socketPath}`,
    dir,
    where: 'machine',
    log: () => stderr,
    async stop() {
      if (running) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
