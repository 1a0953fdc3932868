/** Shared pieces of the hostile-input suite: a daemon with a read-only socket, raw calls, a bystander that measures latency. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLibvirtd, type FakeLibvirtdOptions } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { decodeError, encodeCall } from '../../src/rpc/codec.ts';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from '../../src/rpc/constants.ts';
import type { RemoteError } from '../../src/rpc/errors.ts';
import { encodeMessage } from '../../src/rpc/header.ts';
import { RawClient } from '../daemon/raw-client.ts';

export interface HostileDaemon {
  readonly daemon: FakeLibvirtd;
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

/**
 * Another client calling getLibVersion in a loop while an attack runs: the daemon must keep
 * answering it. `stop()` returns every round-trip time in milliseconds.
 */
export class Bystander {
  private readonly times: number[] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly client: LibvirtClient) {}

  static async start(uri: string, intervalMs = 5): Promise<Bystander> {
    const b = new Bystander(await connect(uri));
    b.loop = b.run(intervalMs);
    return b;
  }

  private async run(intervalMs: number): Promise<void> {
    while (this.running) {
      const t0 = performance.now();
      await this.client.getLibVersion();
      this.times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  async stop(): Promise<{ count: number; max: number; p99: number }> {
    this.running = false;
    await this.loop;
    await this.client.close();
    const sorted = [...this.times].sort((a, b) => a - b);
    return { count: sorted.length, max: sorted[sorted.length - 1] ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
  }
}
