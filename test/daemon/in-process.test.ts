/**
 * In-process clients: a TypeScript client of the daemon's own process reaches it over an in-memory
 * stream pair instead of the socket. The answers must be the socket's, byte for byte in meaning
 * (values, error codes, domains, texts); the limits too (read-only socket, flow control, close).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeLibvirtd } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { ConnectionClosedError } from '../../src/rpc/connection.ts';
import { encodeCall } from '../../src/rpc/codec.ts';
import { FrameDecoder } from '../../src/rpc/frame-decoder.ts';
import { streamPair } from '../../src/libvirt/stream-pair.ts';
import { guestXml, PLAIN_GUEST, SEV_GUEST } from './helpers.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function daemon(inProcessClients: boolean): Promise<FakeLibvirtd<FakeHost>> {
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-inproc-'));
  const d = new FakeLibvirtd(new FakeHost(loadProfile('milan-7003-es8')), {
    socketPath: join(dir, 'rw.sock'),
    readOnlySocketPath: join(dir, 'ro.sock'),
    inProcessClients,
  });
  await d.listen();
  cleanup.push(async () => {
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return d;
}

/** What a client sees for a step: its value, or its error's code, domain and text. */
async function outcome(step: () => Promise<unknown>): Promise<unknown> {
  try {
    const v = await step();
    return { ok: JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))) as unknown };
  } catch (e) {
    const err = e as { code?: number; domain?: number; message?: string };
    return { code: err.code, domain: err.domain, message: err.message };
  }
}

/** A session of calls whose every answer (or refusal) is recorded. */
async function session(c: LibvirtClient): Promise<unknown[]> {
  const plain = guestXml({ ...PLAIN_GUEST, name: 'p1', uuid: '11111111-2222-4333-8444-555555555555' });
  const sev = guestXml({ ...SEV_GUEST, name: 's1', uuid: '66666666-2222-4333-8444-555555555555' });
  const out: unknown[] = [];
  out.push(await outcome(() => c.getLibVersion()));
  out.push(await outcome(() => c.nodeGetSevInfo()));
  out.push(await outcome(() => c.getCapabilities()));
  const p = await c.defineXML(plain);
  out.push(await outcome(async () => p));
  out.push(await outcome(() => c.domainCreate(p)));
  out.push(await outcome(() => c.getState(p)));
  out.push(await outcome(() => c.defineXML(sev)));
  out.push(await outcome(() => c.listAllDomains()));
  out.push(await outcome(() => c.domainCreate(p)));
  out.push(await outcome(() => c.destroy(p)));
  out.push(await outcome(() => c.undefine(p)));
  out.push(await outcome(() => c.lookupByName('p1')));
  out.push(await outcome(() => c.defineXML('<domain type="kvm"><name>broken')));
  return out;
}

describe('in-process clients', () => {
  it('get the socket client’s answers and refusals, without the socket', async () => {
    const bySocket = await daemon(false);
    const inProcess = await daemon(true);
    // No socket file left: only the in-memory connection can reach this daemon.
    rmSync(inProcess.socketPath);
    const a = await connect(bySocket.uri);
    const b = await connect(inProcess.uri);
    cleanup.push(() => a.close(), () => b.close());
    expect(inProcess.connectionCount).toBe(1);
    const expected = await session(a);
    expect(await session(b)).toEqual(expected);
    expect(expected.at(-1)).toMatchObject({ code: expect.any(Number), message: expect.any(String) });
  });

  it('refuse writes on the read-only socket as the socket does', async () => {
    const bySocket = await daemon(false);
    const inProcess = await daemon(true);
    const a = await connect(bySocket.readOnlyUri!, { readonly: true });
    const b = await connect(inProcess.readOnlyUri!, { readonly: true });
    cleanup.push(() => a.close(), () => b.close());
    const xml = guestXml({ ...PLAIN_GUEST, name: 'ro' });
    const refused = await outcome(() => a.defineXML(xml));
    expect(refused).toMatchObject({ message: expect.stringContaining('read only access') });
    expect(await outcome(() => b.defineXML(xml))).toEqual(refused);
  });

  it('end with the daemon: pending and later calls fail as on a closed socket', async () => {
    const d = await daemon(true);
    const c = await connect(d.uri);
    await d.close();
    await expect(c.getLibVersion()).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(c.rpc.closed).toBe(true);
  });

  it('leave the daemon when the client closes', async () => {
    const d = await daemon(true);
    const c = await connect(d.uri);
    expect(d.connectionCount).toBe(1);
    await c.close();
    for (let i = 0; i < 10 && d.connectionCount > 0; i++) await new Promise((r) => setImmediate(r));
    expect(d.connectionCount).toBe(0);
  });

  it('hold a client that pipelines calls and reads nothing to the request limit', async () => {
    const d = await daemon(true);
    const stream = d.connectInProcess();
    cleanup.push(() => void stream.destroy());
    stream.pause();
    const calls = 1000;
    for (let i = 0; i < calls; i++) stream.write(encodeCall('CONNECT_GET_LIB_VERSION', i, undefined));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    const [stats] = d.clientStats();
    expect(stats!.readPaused).toBe(true);
    expect(stats!.unflushedReplies).toBeLessThanOrEqual(d.limits.maxClientRequests);
    // The daemon stopped taking the calls in: most still wait on the client's side.
    expect(stream.writableLength).toBeGreaterThan(0);
    // Reading again lets every call through, each answered once.
    const decoder = new FrameDecoder();
    let replies = 0;
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        replies += decoder.push(chunk).length;
        if (replies === calls) resolve();
      });
      stream.resume();
    });
    expect(replies).toBe(calls);
  });
});

describe('streamPair', () => {
  it('delivers in order after the writer’s code, then EOF', async () => {
    const [a, b] = streamPair();
    const got: string[] = [];
    b.on('data', (c: Buffer) => got.push(c.toString()));
    const ended = new Promise<void>((r) => b.on('end', () => r()));
    a.write('one');
    a.write('two');
    expect(got).toEqual([]);
    a.end();
    await ended;
    expect(got.join('')).toBe('onetwo');
  });

  it('makes the writer wait while the reader is full, and lets it go when it reads', async () => {
    const [a, b] = streamPair();
    b.pause();
    let done = 0;
    const chunk = Buffer.alloc(64 << 10);
    for (let i = 0; i < 10; i++) a.write(chunk, () => void done++);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(done).toBeLessThan(10);
    let read = 0;
    b.on('data', (c: Buffer) => void (read += c.length));
    b.resume();
    for (let i = 0; i < 50 && done < 10; i++) await new Promise((r) => setImmediate(r));
    expect(done).toBe(10);
    expect(read).toBe(10 * chunk.length);
  });

  it('lets timers run while two ends answer each other without end', async () => {
    const [a, b] = streamPair();
    let fired = false;
    setTimeout(() => (fired = true), 5);
    const t0 = performance.now();
    let exchanges = 0;
    await new Promise<void>((resolve) => {
      b.on('data', () => {
        exchanges++;
        if (fired || performance.now() - t0 > 2000) resolve();
        else b.write('pong');
      });
      a.on('data', () => a.write('ping'));
      a.write('ping');
    });
    expect(fired).toBe(true);
    expect(exchanges).toBeGreaterThan(1);
    a.destroy();
  });

  it('closes the other end when one is destroyed', async () => {
    const [a, b] = streamPair();
    b.resume();
    const closed = new Promise<void>((r) => b.on('close', () => r()));
    a.destroy();
    await closed;
    expect(b.destroyed).toBe(true);
  });
});
