/**
 * FakeLibvirtd: libvirtd's socket front end over one libvirt backend (a FakeHost). It listens on a
 * UNIX socket (and optionally a read-only one), keeps one Connection per client, and knows bytes
 * and procedures, never SEV: every answer comes from the backend (host/libvirt-backend.ts).
 */
import { lstatSync, rmSync } from 'node:fs';
import { connect as dial, createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { streamPair } from '../../src/libvirt/stream-pair.ts';
import { offerInProcess } from '../../src/libvirt/transport.ts';
import type { LibvirtBackend } from '../host/libvirt-backend.ts';
import { Connection, type ConnectionStats } from './connection.ts';
import type { DaemonState } from './context.ts';
import { LIBVIRTD_DEFAULT_LIMITS, type DaemonLimits } from './limits.ts';

export interface FakeLibvirtdOptions {
  /** The read-write socket. */
  readonly socketPath: string;
  /** Mode of the read-write socket; libvirtd's unix_sock_rw_perms default is 0700-ish, ours 0600. */
  readonly socketMode?: number;
  /** An optional read-only socket: its clients may only call read procedures. */
  readonly readOnlySocketPath?: string;
  readonly readOnlySocketMode?: number;
  /**
   * The state store's barrier (DomainStore.flushed): replies wait for it, so a call is answered
   * only once what it changed is on disk.
   */
  readonly durable?: () => Promise<void> | null;
  /** libvirtd's processing limits; each defaults to libvirtd's (limits.ts). */
  readonly limits?: Partial<DaemonLimits>;
  /**
   * TypeScript clients of this process that dial one of the daemon's sockets get an in-memory
   * connection instead (connectInProcess): the same bytes and limits without the kernel's cost
   * per message. Clients of other processes still use the socket.
   */
  readonly inProcessClients?: boolean;
}

/** A socket path the daemon may not take: a live daemon answers there, or something that is not a socket sits there. */
export class SocketPathError extends Error {
  override readonly name = 'SocketPathError';
}

export class FakeLibvirtd<B extends LibvirtBackend = LibvirtBackend> implements DaemonState {
  readonly host: B;
  private readonly opts: FakeLibvirtdOptions;
  private readonly servers: Server[] = [];
  /** Socket files this daemon created: the only ones close() may remove. */
  private readonly bound: string[] = [];
  private readonly connections = new Set<Connection>();
  /** Accepted sockets waiting for a free client slot, unread (libvirtd leaves them in its listen backlog). */
  private readonly waiting: Array<{ sock: Duplex; readOnly: boolean }> = [];
  /** Withdrawals of the in-memory connections offered to this process's clients. */
  private readonly offers: Array<() => void> = [];
  readonly limits: DaemonLimits;
  private nextCallbackId = 0;
  private listening = false;

  constructor(host: B, opts: FakeLibvirtdOptions) {
    this.host = host;
    this.opts = opts;
    this.limits = { ...LIBVIRTD_DEFAULT_LIMITS, ...opts.limits };
  }

  /** `qemu+unix:///system?socket=…` for the read-write socket. */
  get uri(): string {
    return `qemu+unix:///system?socket=${this.opts.socketPath}`;
  }

  get readOnlyUri(): string | null {
    return this.opts.readOnlySocketPath ? `qemu+unix:///system?socket=${this.opts.readOnlySocketPath}` : null;
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  /** Clients currently served. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Per served client: what it holds of the daemon's memory (for tests and the soak run). */
  clientStats(): ConnectionStats[] {
    return [...this.connections].map((c) => c.stats);
  }

  /** Clients connected but waiting for a slot (max_clients reached). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  allocateCallbackId(): number {
    return this.nextCallbackId++;
  }

  durable(): Promise<void> | null {
    return this.opts.durable?.() ?? null;
  }

  async listen(): Promise<void> {
    if (this.listening) return;
    await this.listenOn(this.opts.socketPath, this.opts.socketMode ?? 0o600, false);
    if (this.opts.readOnlySocketPath) await this.listenOn(this.opts.readOnlySocketPath, this.opts.readOnlySocketMode ?? 0o666, true);
    this.listening = true;
  }

  private async listenOn(path: string, mode: number, readOnly: boolean): Promise<void> {
    await removeStaleSocket(path);
    const server = createServer((sock) => this.accept(sock, readOnly));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
      // The socket file is born with its final mode: bind() runs inside listen(), synchronously,
      // under a umask that leaves exactly `mode`. Changing the mode afterwards by path would follow
      // a symlink swapped in by whoever owns the socket's directory.
      withUmask(0o777 & ~mode, () => server.listen(path));
    });
    // Never let a server-level error (e.g. EMFILE on accept) take the process down.
    server.on('error', () => undefined);
    this.servers.push(server);
    this.bound.push(path);
    if (this.opts.inProcessClients) this.offers.push(offerInProcess(path, () => this.connectInProcess({ readOnly })));
  }

  /**
   * A client of this process without a socket: the returned stream is the client's end of an
   * in-memory connection that the daemon serves as it serves a socket's (same limits, same
   * answers), e.g. `connect(daemon.uri, { stream: daemon.connectInProcess() })`.
   */
  connectInProcess(opts: { readonly readOnly?: boolean } = {}): Duplex {
    const [client, server] = streamPair();
    this.accept(server, opts.readOnly ?? false);
    return client;
  }

  private accept(sock: Duplex, readOnly: boolean): void {
    sock.on('error', () => undefined);
    if (this.connections.size < this.limits.maxClients) {
      this.serve(sock, readOnly);
    } else if (this.waiting.length < this.limits.maxQueuedClients) {
      // Unread until a slot frees: to the client this is libvirtd's listen backlog.
      const entry = { sock, readOnly };
      this.waiting.push(entry);
      sock.once('close', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
      });
    } else {
      sock.destroy();
    }
  }

  private serve(sock: Duplex, readOnly: boolean): void {
    const conn = new Connection(sock, this, { readOnly, limits: this.limits });
    this.connections.add(conn);
    sock.once('close', () => {
      this.connections.delete(conn);
      this.admitWaiting();
    });
  }

  private admitWaiting(): void {
    while (this.connections.size < this.limits.maxClients && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      if (!next.sock.destroyed) this.serve(next.sock, next.readOnly);
    }
  }

  /** Stops listening, drops every client and removes the socket files. */
  async close(): Promise<void> {
    for (const withdraw of this.offers.splice(0)) withdraw();
    const servers = this.servers.splice(0);
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const w of this.waiting.splice(0)) w.sock.destroy();
    for (const c of this.connections) c.close();
    this.connections.clear();
    await Promise.all(closed);
    // Only our own sockets: a daemon that failed to start must not delete a live daemon's socket.
    for (const p of this.bound.splice(0)) rmSync(p, { force: true });
    this.listening = false;
  }
}

/** A socket file nobody answers on is left over from a dead daemon; one that answers is in use; any other file is not ours to delete. */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new SocketPathError(`${path} exists and is not a socket; not replacing it`);
  const inUse = await new Promise<boolean>((resolve) => {
    const s = dial(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (inUse) throw new SocketPathError(`${path} is in use by another daemon`);
  rmSync(path, { force: true });
}

/**
 * Runs `f` (which must create its files synchronously) under `mask`. process.umask is refused in
 * worker threads; there the process's own umask applies.
 */
export function withUmask<T>(mask: number, f: () => T): T {
  let old: number | null = null;
  try {
    old = process.umask(mask);
  } catch {
    old = null;
  }
  try {
    return f();
  } finally {
    if (old !== null) process.umask(old);
  }
}

/** Creates and starts a daemon. */
export async function startFakeLibvirtd<B extends LibvirtBackend>(host: B, opts: FakeLibvirtdOptions): Promise<FakeLibvirtd<B>> {
  const d = new FakeLibvirtd(host, opts);
  await d.listen();
  return d;
}
