/**
 * FakeLibvirtd: libvirtd's socket front end over one FakeHost. It listens on a UNIX socket (and
 * optionally a read-only one), keeps one Connection per client, and knows bytes and procedures,
 * never SEV: every answer comes from the host model.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { connect as dial, createServer, type Server, type Socket } from 'node:net';
import type { FakeHost } from '../host/fake-host.ts';
import { SecretStore } from '../libvirt/secret-store.ts';
import { Connection } from './connection.ts';
import type { DaemonState } from './context.ts';

export interface FakeLibvirtdOptions {
  /** The read-write socket. */
  readonly socketPath: string;
  /** Mode of the read-write socket; libvirtd's unix_sock_rw_perms default is 0700-ish, ours 0600. */
  readonly socketMode?: number;
  /** An optional read-only socket: its clients may only call read procedures. */
  readonly readOnlySocketPath?: string;
  readonly readOnlySocketMode?: number;
  readonly secrets?: SecretStore;
}

export class FakeLibvirtd implements DaemonState {
  readonly host: FakeHost;
  readonly secrets: SecretStore;
  private readonly opts: FakeLibvirtdOptions;
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private nextCallbackId = 0;
  private listening = false;

  constructor(host: FakeHost, opts: FakeLibvirtdOptions) {
    this.host = host;
    this.opts = opts;
    this.secrets = opts.secrets ?? new SecretStore();
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

  /** Clients currently connected. */
  get connectionCount(): number {
    return this.connections.size;
  }

  allocateCallbackId(): number {
    return this.nextCallbackId++;
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
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Never let a server-level error (e.g. EMFILE on accept) take the process down.
    server.on('error', () => undefined);
    chmodSync(path, mode);
    this.servers.push(server);
  }

  private accept(sock: Socket, readOnly: boolean): void {
    const conn = new Connection(sock, this, { readOnly });
    this.connections.add(conn);
    sock.once('close', () => this.connections.delete(conn));
  }

  /** Stops listening, drops every client and removes the socket files. */
  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const c of this.connections) c.close();
    this.connections.clear();
    await Promise.all(closed);
    for (const p of [this.opts.socketPath, this.opts.readOnlySocketPath]) if (p) rmSync(p, { force: true });
    this.listening = false;
  }
}

/** A socket file nobody answers on is left over from a dead daemon; one that answers is in use. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const inUse = await new Promise<boolean>((resolve) => {
    const s = dial(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (inUse) throw new Error(`${path} is in use by another daemon`);
  rmSync(path, { force: true });
}

/** Creates and starts a daemon. */
export async function startFakeLibvirtd(host: FakeHost, opts: FakeLibvirtdOptions): Promise<FakeLibvirtd> {
  const d = new FakeLibvirtd(host, opts);
  await d.listen();
  return d;
}
