/**
 * Large calls run on the worker pool (limits.offloadBytes): every answer is the one the in-thread
 * path gives, a client's replies keep its order, and a define's effect and events are visible to
 * the next call exactly as for a small document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCall } from '../../src/rpc/codec.ts';
import { MessageStatus } from '../../src/rpc/constants.ts';
import type { Message } from '../../src/rpc/header.ts';
import { Proc } from '../../src/rpc/procedures.ts';
import { errorOf, rawCall, rawClient, startHostile, type HostileDaemon } from '../hostile/support.ts';
import type { RawClient } from './raw-client.ts';

/** A valid definition made large by its description. */
function bigGuest(name: string, bytes: number): string {
  return `<domain type='kvm'><name>${name}</name><memory unit='KiB'>524288</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><description>${'d'.repeat(bytes)}</description></domain>`;
}

/** The same call's reply from a daemon that keeps everything on its main thread and from one that offloads it. */
async function bothWays(send: (c: RawClient) => void, serial: number, open = true, readOnly = false): Promise<[Message | null, Message | null]> {
  const out: (Message | null)[] = [];
  for (const offloadBytes of [Infinity, 1024]) {
    const d = await startHostile('milan-7003-es8', { limits: { offloadBytes } });
    try {
      const c = await rawClient(readOnly ? d.ro : d.rw, open);
      send(c);
      out.push(await c.reply(serial));
      c.destroy();
    } finally {
      await d.close();
    }
  }
  return out as [Message | null, Message | null];
}

const comparable = (m: Message | null) => m && { status: m.header.status, payload: m.payload.toString('hex') };

describe('large calls on the worker pool', () => {
  let d: HostileDaemon;
  beforeAll(async () => {
    d = await startHostile('milan-7003-es8', { limits: { offloadBytes: 1024 } });
  });
  afterAll(async () => {
    await d.close();
  });

  it('a large define is visible to the call pipelined right after it, and replies come in order', async () => {
    const c = await rawClient(d.rw);
    c.send(encodeCall('DOMAIN_DEFINE_XML', 10, { xml: bigGuest('big1', 200_000) }));
    c.send(encodeCall('DOMAIN_LOOKUP_BY_NAME', 11, { name: 'big1' }));
    c.send(rawCall(Proc.CONNECT_GET_LIB_VERSION, 12));
    expect(await errorOf(c, 12)).toBeNull();
    const order = c.messages.filter((m) => m.header.type === 1 && m.header.serial >= 10).map((m) => m.header.serial);
    expect(order).toEqual([10, 11, 12]);
    expect((await c.reply(11))!.header.status).toBe(MessageStatus.OK);
    expect(d.host.listAllDomains().map((x) => x.name)).toContain('big1');
    c.destroy();
  });

  it('its DEFINED event follows its reply, as for a small document', async () => {
    const c = await rawClient(d.rw);
    c.send(encodeCall('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY', 5, { eventID: 0, dom: null }));
    await c.reply(5);
    c.send(encodeCall('DOMAIN_DEFINE_XML', 6, { xml: bigGuest('big2', 100_000) }));
    await c.reply(6);
    await new Promise((r) => setTimeout(r, 50));
    const after = c.messages.slice(c.messages.findIndex((m) => m.header.serial === 6 && m.header.type === 1));
    expect(after.map((m) => m.header.proc)).toEqual([Proc.DOMAIN_DEFINE_XML, Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE]);
    c.destroy();
  });

  it.each([
    ['a valid define', (c: RawClient) => c.send(encodeCall('DOMAIN_DEFINE_XML_FLAGS', 2, { xml: bigGuest('same', 50_000).replace('<name>', "<uuid>0b6f3e3c-0000-4000-8000-000000000001</uuid><name>"), flags: 0 })), true, false],
    ['a malformed define', (c: RawClient) => c.send(encodeCall('DOMAIN_DEFINE_XML', 2, { xml: `<domain>${'<a/>'.repeat(20_000)}` })), true, false],
    ['an invalid createXML', (c: RawClient) => c.send(encodeCall('DOMAIN_CREATE_XML', 2, { xml_desc: bigGuest('x', 50_000).replace('524288', '-1'), flags: 0 })), true, false],
    ['a baselineCPU', (c: RawClient) => c.send(encodeCall('CONNECT_BASELINE_CPU', 2, { xmlCPUs: [`<cpu>${' '.repeat(50_000)}<model>EPYC</model></cpu>`], flags: 0 })), true, false],
    ['a define before CONNECT_OPEN', (c: RawClient) => c.send(encodeCall('DOMAIN_DEFINE_XML', 2, { xml: bigGuest('x', 50_000) })), false, false],
    ['a define on the read-only socket', (c: RawClient) => c.send(encodeCall('DOMAIN_DEFINE_XML', 2, { xml: bigGuest('x', 50_000) })), true, true],
    ['a long CONNECT_OPEN URI', (c: RawClient) => c.send(encodeCall('CONNECT_OPEN', 2, { name: `qemu:///${'s'.repeat(50_000)}`, flags: 0 })), false, false],
    ['a long unknown name', (c: RawClient) => c.send(encodeCall('DOMAIN_LOOKUP_BY_NAME', 2, { name: 'n'.repeat(50_000) })), true, false],
    ['undecodable arguments', (c: RawClient) => c.send(rawCall(Proc.DOMAIN_DEFINE_XML, 2, Buffer.alloc(50_000, 0xff))), true, false],
    ['an unimplemented procedure', (c: RawClient) => c.send(rawCall(26, 2, Buffer.alloc(50_000))), true, false],
  ])('%s: answered as on the main thread', async (_what, send, open, readOnly) => {
    const [inThread, offloaded] = await bothWays(send, 2, open, readOnly);
    expect(inThread).not.toBeNull();
    expect(comparable(offloaded)).toEqual(comparable(inThread));
  });
});
