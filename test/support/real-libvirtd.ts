/**
 * Starts a private libvirtd for a test: its own config, socket directory and XDG directories in
 * a temporary directory, no authentication, the test driver reachable as `test+unix:///default`.
 * As root it drops to uid/gid 65534 (nobody) so it runs in session mode and never touches the
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
import { join } from 'node:path';
import { findExecutable } from './real-stack.ts';

export interface RealLibvirtd {
  /** Daemon socket (read-write). */
  readonly socketPath: string;
  /** `test+unix:///default?socket=…`: the built-in test driver through this daemon. */
  readonly testUri: string;
  readonly dir: string;
  readonly pid: number;
  /** The daemon's stderr so far, for diagnosing failures. */
  log(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Give up when the socket has not appeared after this long. */
  readonly startTimeoutMs?: number;
  /** Extra lines for libvirtd.conf. */
  readonly extraConfig?: string;
}

const NOBODY = 65534;

export async function startRealLibvirtd(opts: StartOptions = {}): Promise<RealLibvirtd> {
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

  const pid = child.pid ?? -1;
  return {
    socketPath,
    testUri: `test+unix:///default?socket=${socketPath}`,
    dir,
    pid,
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
