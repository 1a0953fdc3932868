/**
 * A child process seen as lines: text lines in on stdin, complete lines out of stdout (however the
 * pipe splits them), stderr kept in a bounded tail. It knows nothing of the protocol on top.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { TailBuffer } from './tail-buffer.ts';

/** How the process ended: it exited (code or signal), or it never started. */
export type ChannelEnd =
  | { readonly kind: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'spawn-error'; readonly message: string };

export interface ChannelListener {
  line(text: string): void;
  /** stdout broke the line discipline (a line too long to be a message); the channel stops reading. */
  violation(reason: string): void;
  end(how: ChannelEnd): void;
}

export interface LineChannelOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly stderr: TailBuffer;
  /** Longest stdout line accepted, in bytes. */
  readonly maxLineBytes: number;
}

export function describeEnd(how: ChannelEnd): string {
  if (how.kind === 'spawn-error') return `could not be started: ${how.message}`;
  return how.signal ? `was killed by ${how.signal}` : `exited with code ${how.code}`;
}

export class LineChannel {
  private readonly child: ChildProcess;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private reading = true;
  private exitedFlag = false;
  private endedFlag = false;
  /** Resolves once the process has exited (or failed to start): it no longer needs reaping. */
  readonly exited: Promise<void>;

  constructor(command: readonly string[], opts: LineChannelOptions, private readonly listener: ChannelListener) {
    const [file, ...args] = command;
    if (file === undefined || file === '') throw new Error('driver command is empty');
    // Own process group, so a driver that is a wrapper script is ended together with its children.
    this.child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let markExited!: () => void;
    this.exited = new Promise((resolve) => (markExited = resolve));

    this.child.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk, opts.maxLineBytes));
    this.child.stderr!.on('data', (chunk: Buffer) => opts.stderr.push(chunk));
    // A driver that dies while we write gives EPIPE; its exit is reported through 'close'.
    this.child.stdin!.on('error', () => {});
    this.child.on('exit', () => {
      this.exitedFlag = true;
      markExited();
    });
    this.child.on('error', (err) => {
      // Only a failed spawn has no pid; later errors (a failed kill) are not the end of the process.
      if (this.child.pid !== undefined) return;
      this.exitedFlag = true;
      markExited();
      this.finish({ kind: 'spawn-error', message: err.message });
    });
    // 'close' comes after exit and after stdout/stderr drained, so the stderr tail is complete.
    this.child.on('close', (code, signal) => this.finish({ kind: 'exit', code, signal }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitedFlag;
  }

  send(line: string): void {
    if (this.endedFlag || this.child.stdin!.destroyed) return;
    this.child.stdin!.write(`${line}\n`);
  }

  endInput(): void {
    if (!this.child.stdin!.destroyed) this.child.stdin!.end();
  }

  /** Signals the driver's whole process group (falls back to the process alone). */
  signal(sig: NodeJS.Signals): void {
    if (this.exitedFlag || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      this.child.kill(sig);
    }
  }

  private onStdout(chunk: Buffer, maxLineBytes: number): void {
    if (!this.reading) return;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.pendingBytes + piece.length > maxLineBytes) return this.overflow(maxLineBytes);
      const bytes = this.pending.length ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      // Whole lines are decoded at once, so a character split across chunks stays intact.
      this.listener.line(bytes.toString('utf8'));
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.pendingBytes + rest.length > maxLineBytes) return this.overflow(maxLineBytes);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  private overflow(maxLineBytes: number): void {
    this.reading = false;
    this.pending = [];
    this.listener.violation(`a stdout line is longer than ${maxLineBytes} bytes`);
  }

  private finish(how: ChannelEnd): void {
    if (this.endedFlag) return;
    this.endedFlag = true;
    this.listener.end(how);
  }
}
