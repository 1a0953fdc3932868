/** Client behaviour against a scripted server: handshake, serials, keepalive, errors, events, failures. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type DomainLifecycleEvent } from '../../src/libvirt/client.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { encodeEvent } from '../../src/rpc/codec.ts';
import { ConnectionClosedError } from '../../src/rpc/connection.ts';
import { KEEPALIVE_PROGRAM, MessageType } from '../../src/rpc/constants.ts';
import { encodeMessage } from '../../src/rpc/header.ts';
import { HOLD, ScriptedServer, type ReceivedCall } from './scripted-server.ts';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(handlers: ConstructorParameters<typeof ScriptedServer>[0] = {}): Promise<ScriptedServer> {
  server = new ScriptedServer(handlers);
  await server.listen();
  return server;
}

const dom = { name: 'sevguest', uuid: Buffer.from('c7a5fdbdedaf9455926ad65c16db1809', 'hex'), id: -1 };

describe('handshake', () => {
  it('follows the C client: serials from 0, 66 60 1 60 60 360, then 361 2 on close', async () => {
    const s = await start({ CONNECT_GET_TYPE: () => ({ type: 'QEMU' }) });
    const c = await connect(s.uri);
    expect(await c.getType()).toBe('QEMU');
    await c.close();
    expect(s.calls.map((x) => [x.serial, x.proc])).toEqual([
      [0, 66], [1, 60], [2, 1], [3, 60], [4, 60], [5, 360], [6, 3], [7, 361], [8, 2],
    ]);
    expect(s.calls.map((x) => x.args).slice(1, 5)).toEqual([
      { feature: 10 },
      { name: 'qemu:///system', flags: 0 },
      { feature: 14 },
      { feature: 15 },
    ]);
  });

  it('sends VIR_CONNECT_RO for read-only and the stripped test URI', async () => {
    const s = await start();
    const c = await connect(`test+unix:///default?socket=${s.socketPath}`, { readonly: true });
    await c.close();
    expect(s.calls.find((x) => x.proc === 1)!.args).toEqual({ name: 'test:///default', flags: 1 });
  });

  it('authenticates with polkit when that is the only method', async () => {
    const s = await start({ AUTH_LIST: () => ({ types: [2] }), AUTH_POLKIT: () => ({ complete: 1 }) });
    const c = await connect(s.uri);
    await c.close();
    expect(s.calls.map((x) => x.proc).slice(0, 3)).toEqual([66, 70, 60]);
  });

  it('skips the close callback when feature 15 is unsupported', async () => {
    const s = await start({ CONNECT_SUPPORTS_FEATURE: (a) => ({ supported: (a as { feature: number }).feature === 15 ? 0 : 1 }) });
    const c = await connect(s.uri);
    await c.close();
    expect(s.calls.map((x) => x.proc)).toEqual([66, 60, 1, 60, 60, 2]);
  });
});

describe('calls', () => {
  it('matches concurrent replies that arrive in reverse order', async () => {
    const held: ReceivedCall[] = [];
    const s = await start({ DOMAIN_LOOKUP_BY_NAME: (_a, call) => (held.push(call), HOLD) });
    const c = await connect(s.uri);
    const names = ['a', 'b', 'c'];
    const pending = names.map((n) => c.lookupByName(n));
    while (held.length < 3) await new Promise((r) => setImmediate(r));
    for (const call of [...held].reverse()) {
      const name = (call.args as { name: string }).name;
      s.reply(s.sockets[0]!, call, { dom: { ...dom, name } });
    }
    expect((await Promise.all(pending)).map((d) => d.name)).toEqual(names);
    await c.close();
  });

  it('maps "unknown procedure" to NO_SUPPORT and keeps server errors verbatim', async () => {
    const s = await start({
      DOMAIN_CREATE: () => {
        throw LibvirtError.of(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.QEMU, 'domain is already running');
      },
    });
    const c = await connect(s.uri);
    const unknown = (await c.getHostname().catch((e: unknown) => e)) as LibvirtError;
    expect([unknown.code, unknown.domain, unknown.message]).toEqual([VirErrorNumber.NO_SUPPORT, VirErrorDomain.RPC, 'unknown procedure: 59']);
    const running = (await c.domainCreate(dom).catch((e: unknown) => e)) as LibvirtError;
    expect([running.code, running.domain]).toEqual([55, 10]);
    expect(running.message).toBe('Requested operation is not valid: domain is already running');
    await c.close();
  });

  it('answers keepalive PING with PONG', async () => {
    const s = await start({ CONNECT_GET_TYPE: () => ({ type: 'QEMU' }) });
    const c = await connect(s.uri);
    s.broadcast(encodeMessage({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: 1, type: MessageType.MESSAGE, serial: 0, status: 0 }));
    while (!s.raw.some((m) => m.header.prog === KEEPALIVE_PROGRAM)) await new Promise((r) => setImmediate(r));
    const pong = s.raw.find((m) => m.header.prog === KEEPALIVE_PROGRAM)!;
    expect(pong.header).toEqual({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: 2, type: 2, serial: 0, status: 0 });
    expect(await c.getType()).toBe('QEMU');
    await c.close();
  });

  it('delivers lifecycle events', async () => {
    const s = await start({ CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: () => ({ callbackID: 7 }) });
    const c = await connect(s.uri);
    expect(await c.domainEventRegister()).toBe(7);
    const got = new Promise<DomainLifecycleEvent>((resolve) => c.once('lifecycle', resolve));
    s.broadcast(encodeEvent('DOMAIN_EVENT_CALLBACK_LIFECYCLE', { callbackID: 7, dom, event: 2, detail: 0 }));
    expect(await got).toEqual({ callbackID: 7, dom, event: 2, detail: 0 });
    await c.close();
  });

  it('rejects pending calls when the connection drops, and later calls too', async () => {
    const s = await start({ DOMAIN_GET_STATE: () => HOLD });
    const c = await connect(s.uri);
    const pending = c.getState(dom);
    while (!s.calls.some((x) => x.proc === 212)) await new Promise((r) => setImmediate(r));
    s.sockets[0]!.destroy();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(c.getType()).rejects.toThrow(/client socket is closed/);
  });

  it('times out a call that gets no reply', async () => {
    const s = await start({ DOMAIN_GET_STATE: () => HOLD });
    const c = await connect(s.uri, { callTimeoutMs: 20 });
    const err = (await c.getState(dom).catch((e: unknown) => e)) as LibvirtError;
    expect(err.code).toBe(VirErrorNumber.OPERATION_TIMEOUT);
    expect(c.rpc.inFlight).toBe(0);
    c.rpc.close();
  });

  it('fails to connect to a missing socket with SYSTEM_ERROR', async () => {
    const err = (await connect('qemu+unix:///system?socket=/nonexistent/sock').catch((e: unknown) => e)) as LibvirtError;
    expect(err.code).toBe(VirErrorNumber.SYSTEM_ERROR);
    expect(err.message).toContain('/nonexistent/sock');
  });
});
