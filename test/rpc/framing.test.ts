/** Packet framing, the stream frame decoder and the remote_error mapping. */
import { describe, expect, it } from 'vitest';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { encodeCall, encodeErrorReply, encodeEvent, decodeCallPayload, decodeError } from '../../src/rpc/codec.ts';
import { KEEPALIVE_PROGRAM, MESSAGE_MAX, MessageType } from '../../src/rpc/constants.ts';
import { clientSideError, RpcError, unknownProcedureError } from '../../src/rpc/errors.ts';
import { FrameDecoder } from '../../src/rpc/frame-decoder.ts';
import { decodePacket, encodeMessage } from '../../src/rpc/header.ts';
import { Proc, PROCEDURE_ROWS } from '../../src/rpc/procedures.ts';

const ping = encodeMessage({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: 1, type: MessageType.MESSAGE, serial: 0, status: 0 });

describe('packets', () => {
  it('a keepalive PING is 28 bytes', () => {
    expect(ping.toString('hex')).toBe('0000001c' + '6b656570' + '00000001' + '00000001' + '00000002' + '00000000' + '00000000');
    expect(ping.length).toBe(28);
  });

  it('CONNECT_OPEN call matches the captured bytes', () => {
    const p = encodeCall('CONNECT_OPEN', 2, { name: 'qemu:///system', flags: 0 });
    expect(p.subarray(28).toString('hex')).toBe('000000010000000e71656d753a2f2f2f73797374656d000000000000');
    expect(decodePacket(p).header).toEqual({ prog: 0x20008086, vers: 1, proc: 1, type: 0, serial: 2, status: 0 });
  });

  it('rejects unknown types/statuses and bad lengths', () => {
    const bad = Buffer.from(ping);
    bad.writeInt32BE(9, 16);
    expect(() => decodePacket(bad)).toThrow(RpcError);
    expect(() => decodePacket(ping.subarray(0, 20))).toThrow(RpcError);
  });

  it('the table covers the required procedures with unique numbers', () => {
    const required = [
      1, 2, 3, 4, 6, 7, 9, 11, 12, 14, 15, 16, 19, 20, 21, 22, 23, 24, 25, 27, 28, 33, 34, 35, 37, 51, 54, 55, 59, 60, 65, 66,
      70, 107, 110, 111, 112, 113, 114, 121, 122, 141, 142, 143, 144, 145, 146, 147, 150, 151, 157, 158, 159, 160, 161, 162,
      163, 164, 166, 182, 183, 184, 185, 187, 196, 200, 207, 212, 227, 228, 231, 232, 233, 234, 243, 258, 264, 273, 285, 287,
      293, 298, 302, 303, 305, 306, 307, 312, 316, 317, 318, 333, 338, 342, 350, 360, 361, 362, 364, 367, 393, 394, 395, 396,
      426, 439,
    ];
    const have = new Set(PROCEDURE_ROWS.map((r) => r.number));
    expect(required.filter((n) => !have.has(n))).toEqual([]);
    expect(Proc.DOMAIN_SHUTDOWN).toBe(33);
    expect(Proc.DOMAIN_SHUTDOWN_FLAGS).toBe(258);
    expect(Proc.DOMAIN_SAVE).toBe(55);
    expect(Proc.DOMAIN_SNAPSHOT_CREATE_XML).toBe(185);
  });
});

describe('FrameDecoder', () => {
  const a = encodeCall('CONNECT_GET_TYPE', 6, undefined);
  const b = encodeCall('DOMAIN_LOOKUP_BY_NAME', 7, { name: 'sevguest' });

  it('handles coalesced packets', () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat([a, b, ping]));
    expect(out.map((m) => m.header.serial)).toEqual([6, 7, 0]);
    expect(d.pending).toBe(0);
  });

  it('handles packets split at every byte', () => {
    const d = new FrameDecoder();
    const all = Buffer.concat([a, b]);
    const got = [];
    for (let i = 0; i < all.length; i++) got.push(...d.push(all.subarray(i, i + 1)));
    expect(got.map((m) => m.header.proc)).toEqual([3, 23]);
    expect(got[1]!.payload.toString('hex')).toBe('000000087365766775657374');
  });

  it('rejects a too-large length word before buffering the body', () => {
    const d = new FrameDecoder();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MESSAGE_MAX + 4 + 1, 0);
    expect(() => d.push(head)).toThrow(/exceeds/);
    expect(() => d.push(a)).toThrow(RpcError); // stays failed
    const ok = new FrameDecoder();
    head.writeUInt32BE(MESSAGE_MAX + 4, 0);
    expect(ok.push(head)).toEqual([]); // exactly the limit is allowed
  });

  it('rejects lengths shorter than the header', () => {
    expect(() => new FrameDecoder().push(Buffer.from('0000001b', 'hex'))).toThrow(/shorter/);
  });
});

describe('errors', () => {
  it('"unknown procedure" from RPC/REMOTE becomes NO_SUPPORT on the client, message kept', () => {
    const wire = decodeError(encodeErrorReply(999, 5, unknownProcedureError(999)).subarray(28));
    expect(wire).toMatchObject({ code: 39, domain: 7, message: 'unknown procedure: 999', level: 2 });
    const e = clientSideError(wire);
    expect(e.code).toBe(VirErrorNumber.NO_SUPPORT);
    expect(e.domain).toBe(VirErrorDomain.RPC);
    expect(e.message).toBe('unknown procedure: 999');
    // From another domain the code is left alone.
    expect(clientSideError({ ...wire, domain: VirErrorDomain.QEMU }).code).toBe(VirErrorNumber.RPC);
    expect(clientSideError({ ...wire, domain: VirErrorDomain.REMOTE }).code).toBe(VirErrorNumber.NO_SUPPORT);
  });

  it('an error reply carries code, domain, message and the template strings', () => {
    const err = LibvirtError.of(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.QEMU, 'domain is already running');
    const pkt = encodeErrorReply(9, 13, err);
    expect(decodePacket(pkt).header).toMatchObject({ proc: 9, type: 1, serial: 13, status: 1 });
    const back = clientSideError(decodeError(pkt.subarray(28)));
    expect(back.message).toBe('Requested operation is not valid: domain is already running');
    expect([back.code, back.domain, back.str2]).toEqual([55, 10, 'domain is already running']);
  });
});

describe('server-side helpers', () => {
  it('decodes calls by number, returns null for unknown procedures', () => {
    const p = encodeCall('NODE_GET_SEV_INFO', 7, { nparams: -1, flags: 4 });
    const m = decodePacket(p);
    expect(decodeCallPayload(m.header.proc, m.payload)).toEqual({ name: 'NODE_GET_SEV_INFO', number: 395, args: { nparams: -1, flags: 4 } });
    expect(decodeCallPayload(4242, Buffer.alloc(0))).toBeNull();
    expect(() => decodeCallPayload(318, Buffer.alloc(0))).toThrow(RpcError);
  });

  it('encodes lifecycle events as MESSAGE with serial 0', () => {
    const dom = { name: 'g', uuid: Buffer.alloc(16, 1), id: 3 };
    const p = encodeEvent('DOMAIN_EVENT_CALLBACK_LIFECYCLE', { callbackID: 0, dom, event: 2, detail: 0 });
    expect(decodePacket(p).header).toMatchObject({ proc: 318, type: 2, serial: 0, status: 0 });
  });
});
