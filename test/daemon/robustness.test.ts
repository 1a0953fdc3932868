/**
 * Hostile and broken clients: the daemon answers with an RPC error or closes only the offending
 * connection, keeps serving everyone else, and loses no defined domain.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/libvirt/client.ts';
import { VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { decodeError, encodeArgs, encodeCall } from '../../src/rpc/codec.ts';
import { KEEPALIVE_PROGRAM, MessageStatus, MessageType, REMOTE_PROGRAM } from '../../src/rpc/constants.ts';
import { encodeMessage } from '../../src/rpc/header.ts';
import { Proc } from '../../src/rpc/procedures.ts';
import { guestXml, PLAIN_GUEST, startFake, type FakeDaemon } from './helpers.ts';
import { RawClient } from './raw-client.ts';

const call = (proc: number, serial: number, payload: Buffer = Buffer.alloc(0), over: Partial<{ prog: number; vers: number; type: number; status: number }> = {}) =>
  encodeMessage({ prog: REMOTE_PROGRAM, vers: 1, proc, type: MessageType.CALL, serial, status: MessageStatus.OK, ...over }, payload);

/** Opens a raw connection that has completed AUTH_LIST and CONNECT_OPEN. */
async function openedRaw(path: string): Promise<RawClient> {
  const c = await RawClient.open(path);
  c.send(encodeCall('AUTH_LIST', 0, undefined));
  c.send(encodeCall('CONNECT_OPEN', 1, { name: 'qemu:///system', flags: 0 }));
  await c.reply(1);
  return c;
}

describe('fake libvirtd robustness', () => {
  let fake: FakeDaemon;
  let sock: string;

  beforeEach(async () => {
    fake = await startFake('milan-7003-es8');
    sock = fake.daemon.socketPath;
    fake.host.defineXML(guestXml(PLAIN_GUEST));
  });
  afterEach(async () => {
    await fake.close();
  });

  /** A normal client still works, and the defined domain is still there. */
  async function stillServing(): Promise<void> {
    const c = await connect(fake.uri);
    expect(await c.getType()).toBe('QEMU');
    expect((await c.listAllDomains()).map((d) => d.name)).toEqual([PLAIN_GUEST.name]);
    await c.close();
  }

  it('answers a call before CONNECT_OPEN with "hypervisor connection not open"', async () => {
    const c = await RawClient.open(sock);
    c.send(call(Proc.CONNECT_GET_TYPE, 7));
    const r = (await c.reply(7))!;
    expect(r.header.status).toBe(MessageStatus.ERROR);
    const err = decodeError(r.payload);
    expect(err).toMatchObject({ code: VirErrorNumber.INTERNAL_ERROR, domain: VirErrorDomain.RPC, message: 'internal error: hypervisor connection not open' });
    // Keepalive is negotiated before open, as virsh does.
    c.send(encodeCall('CONNECT_SUPPORTS_FEATURE', 8, { feature: 10 }));
    expect((await c.reply(8))!.header.status).toBe(MessageStatus.OK);
    c.destroy();
    await stillServing();
  });

  it('answers an unknown procedure, a wrong program and a wrong version with RPC errors on a live connection', async () => {
    const c = await openedRaw(sock);
    c.send(call(9999, 2));
    expect(decodeError((await c.reply(2))!.payload)).toMatchObject({ code: VirErrorNumber.RPC, domain: VirErrorDomain.RPC, message: 'unknown procedure: 9999' });
    c.send(call(3, 3, Buffer.alloc(0), { prog: 0x12345678 }));
    const wrongProg = (await c.reply(3))!;
    expect(wrongProg.header.prog).toBe(0x12345678);
    expect(decodeError(wrongProg.payload).message).toBe(`Cannot find program ${0x12345678} version 1`);
    c.send(call(3, 4, Buffer.alloc(0), { vers: 2 }));
    expect(decodeError((await c.reply(4))!.payload).message).toBe(`Cannot find program ${REMOTE_PROGRAM} version 2`);
    c.send(call(3, 5, Buffer.alloc(0), { status: MessageStatus.CONTINUE }));
    expect(decodeError((await c.reply(5))!.payload).message).toBe('Unexpected message status 2');
    c.send(call(3, 6));
    expect((await c.reply(6))!.header.status).toBe(MessageStatus.OK);
    c.destroy();
    await stillServing();
  });

  it('answers garbage XDR arguments with "Unable to decode message payload" and keeps the connection', async () => {
    const c = await openedRaw(sock);
    c.send(call(Proc.DOMAIN_LOOKUP_BY_NAME, 2, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2])));
    expect(decodeError((await c.reply(2))!.payload)).toMatchObject({ code: VirErrorNumber.RPC, message: 'Unable to decode message payload' });
    c.send(call(Proc.DOMAIN_LOOKUP_BY_NAME, 3, encodeArgs('DOMAIN_LOOKUP_BY_NAME', { name: PLAIN_GUEST.name })));
    expect((await c.reply(3))!.header.status).toBe(MessageStatus.OK);
    expect(c.closed).toBe(false);
    c.destroy();
  });

  it('answers keepalive PING with PONG', async () => {
    const c = await RawClient.open(sock);
    c.send(encodeMessage({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: 1, type: MessageType.MESSAGE, serial: 0, status: 0 }));
    c.send(call(Proc.AUTH_LIST, 1));
    await c.reply(1);
    expect(c.messages.some((m) => m.header.prog === KEEPALIVE_PROGRAM && m.header.proc === 2)).toBe(true);
    c.destroy();
  });

  it('reassembles packets split byte by byte and coalesced several per write', async () => {
    const c = await RawClient.open(sock);
    const bytes = Buffer.concat([encodeCall('AUTH_LIST', 0, undefined), encodeCall('CONNECT_OPEN', 1, { name: null, flags: 0 }), call(Proc.CONNECT_GET_HOSTNAME, 2)]);
    for (const b of bytes) c.send(Buffer.from([b]));
    expect((await c.reply(2))!.header.status).toBe(MessageStatus.OK);
    c.send(Buffer.concat([call(Proc.CONNECT_GET_TYPE, 3), call(Proc.CONNECT_GET_VERSION, 4)]));
    expect((await c.reply(4))!.header.status).toBe(MessageStatus.OK);
    c.destroy();
  });

  it('closes only the connection that sends a length word over 32 MiB or shorter than a header', async () => {
    const bystander = await connect(fake.uri);
    for (const len of [0x02000005, 12]) {
      const c = await RawClient.open(sock);
      const b = Buffer.alloc(28);
      b.writeUInt32BE(len, 0);
      c.send(b);
      await c.closedByServer();
    }
    expect(await bystander.getHostname()).toBe(fake.host.hostname());
    await bystander.close();
    await stillServing();
  });

  it('survives a truncated packet and a client vanishing mid-call', async () => {
    const t = await RawClient.open(sock);
    t.send(call(Proc.AUTH_LIST, 0).subarray(0, 20));
    t.destroy();
    const v = await openedRaw(sock);
    v.send(call(Proc.DOMAIN_DEFINE_XML, 5, encodeArgs('DOMAIN_DEFINE_XML', { xml: guestXml({ name: 'ghost', uuid: '11111111-2222-4333-8444-555555555555' }) })));
    v.destroy();
    await stillServingWith(['ghost', PLAIN_GUEST.name]);
  });

  async function stillServingWith(names: string[]): Promise<void> {
    const c = await connect(fake.uri);
    expect((await c.listAllDomains()).map((d) => d.name).sort()).toEqual(names.sort());
    await c.close();
  }

  it('fuzz: random and mutated frames never take the daemon down', async () => {
    const valid = [
      encodeCall('AUTH_LIST', 0, undefined),
      encodeCall('CONNECT_OPEN', 1, { name: 'qemu:///system', flags: 0 }),
      encodeCall('DOMAIN_LOOKUP_BY_NAME', 2, { name: PLAIN_GUEST.name }),
      encodeCall('CONNECT_LIST_ALL_DOMAINS', 3, { need_results: 1, flags: 0 }),
      encodeCall('DOMAIN_GET_XML_DESC', 4, { dom: { name: PLAIN_GUEST.name, uuid: Buffer.from(PLAIN_GUEST.uuid.replace(/-/g, ''), 'hex'), id: -1 }, flags: 0 }),
    ];
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }))
      .map(([frame, edits]) => {
        const b = Buffer.from(frame);
        for (const [at, byte] of edits) b[at % b.length] = byte;
        return b;
      });
    const random = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(mutated, random), { minLength: 1, maxLength: 6 }), async (frames) => {
        const c = await RawClient.open(sock);
        for (const f of frames) c.send(f);
        // A frame may announce more bytes than it carries, so the fuzzing connection can stay
        // waiting; the property is that a fresh connection is still answered.
        const probe = await RawClient.open(sock);
        probe.send(call(Proc.AUTH_LIST, 1));
        expect((await probe.reply(1))?.header.status).toBe(MessageStatus.OK);
        probe.destroy();
        c.destroy();
      }),
      { numRuns: 150 },
    );
    await stillServing();
  });
});
