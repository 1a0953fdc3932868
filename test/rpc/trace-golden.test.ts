/** Every packet of the captured trace decodes with the procedure table and re-encodes byte for byte. */
import { describe, expect, it } from 'vitest';
import { LibvirtError } from '../../src/libvirt/errors.ts';
import { decodeError, decodeArgs, decodeRet, encodeArgs, encodeErrorReply, encodeRet } from '../../src/rpc/codec.ts';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from '../../src/rpc/constants.ts';
import { RemoteError, remoteToLibvirtError } from '../../src/rpc/errors.ts';
import { decodePacket, encodeMessage } from '../../src/rpc/header.ts';
import { procedureByNumber, type ProcName } from '../../src/rpc/procedures.ts';
import { encode, XdrError } from '../../src/xdr/index.ts';
import { loadTrace } from './trace-fixtures.ts';

const records = loadTrace();

describe('trace-test.jsonl golden bytes', () => {
  it('holds the 58 expected records', () => {
    expect(records).toHaveLength(58);
    // Only the capabilities XML and the CPU model list were stored truncated.
    expect(records.filter((r) => r.payload.length / 2 < r.plen).map((r) => r.proc)).toEqual([7, 312]);
  });

  it('truncated records still declare consistent lengths', () => {
    const caps = records.find((r) => r.proc === 7 && r.type === 'REPLY')!;
    const declared = Buffer.from(caps.payload, 'hex').readUInt32BE(0);
    expect(4 + declared + ((4 - (declared % 4)) % 4)).toBe(caps.plen);
  });

  for (const rec of records) {
    const label = `${rec.dir} ${rec.type} ${rec.status} ${rec.proc} ${rec.name} serial=${rec.serial}`;
    it(label, () => {
      const row = procedureByNumber(rec.proc);
      expect(row, `procedure ${rec.proc} missing from the table`).toBeDefined();
      expect(row!.name).toBe(rec.name);
      const payload = Buffer.from(rec.payload, 'hex');
      if (payload.length < rec.plen) {
        // Two large replies were stored cut to 300 bytes: they must fail cleanly as truncated.
        expect(rec.type).toBe('REPLY');
        expect(() => decodeRet(row!.name as ProcName, payload)).toThrow(XdrError);
        expect(() => decodeRet(row!.name as ProcName, payload)).toThrow(/truncated|exceeds the/);
        return;
      }
      expect(payload.length).toBe(rec.plen);

      // The full packet round-trips through the framing layer.
      const header = {
        prog: REMOTE_PROGRAM,
        vers: rec.vers,
        proc: rec.proc,
        type: rec.type === 'CALL' ? MessageType.CALL : MessageType.REPLY,
        serial: rec.serial,
        status: rec.status === 'OK' ? MessageStatus.OK : MessageStatus.ERROR,
      };
      const packet = encodeMessage(header, payload);
      expect(packet.length).toBe(rec.len);
      expect(decodePacket(packet)).toEqual({ header, payload });

      const name = row!.name as ProcName;
      if (rec.type === 'CALL') {
        const args = decodeArgs(name, payload);
        expect(encodeArgs(name, args).toString('hex')).toBe(rec.payload);
      } else if (rec.status === 'OK') {
        const ret = decodeRet(name, payload);
        expect(encodeRet(name, ret).toString('hex')).toBe(rec.payload);
      } else {
        const err = decodeError(payload);
        expect(encode(RemoteError, err).toString('hex')).toBe(rec.payload);
        const full = encodeErrorReply(rec.proc, rec.serial, remoteToLibvirtError(err));
        expect(full.subarray(28).toString('hex')).toBe(rec.payload);
      }
    });
  }
});

describe('decoded trace values', () => {
  const reply = (proc: number, serial: number) => {
    const r = records.find((x) => x.proc === proc && x.serial === serial && x.type === 'REPLY');
    if (!r) throw new Error(`no reply ${proc}/${serial}`);
    return Buffer.from(r.payload, 'hex');
  };
  const callOf = (proc: number, serial: number) => {
    const r = records.find((x) => x.proc === proc && x.serial === serial && x.type === 'CALL');
    if (!r) throw new Error(`no call ${proc}/${serial}`);
    return Buffer.from(r.payload, 'hex');
  };

  it('CONNECT_OPEN names test:///default', () => {
    expect(decodeArgs('CONNECT_OPEN', callOf(1, 2))).toEqual({ name: 'test:///default', flags: 0 });
  });

  it('identity of the test driver', () => {
    expect(decodeRet('AUTH_LIST', reply(66, 0))).toEqual({ types: [0] });
    expect(decodeRet('CONNECT_GET_LIB_VERSION', reply(157, 9))).toEqual({ lib_ver: 9000000n });
    expect(decodeRet('CONNECT_GET_VERSION', reply(4, 10))).toEqual({ hv_ver: 2n });
    expect(decodeRet('CONNECT_GET_TYPE', reply(3, 11))).toEqual({ type: 'TEST' });
    expect(decodeRet('CONNECT_GET_HOSTNAME', reply(59, 13))).toEqual({ hostname: 'vm' });
  });

  it('NODE_GET_INFO: model is 32 chars of 4 bytes each (160-byte reply)', () => {
    const payload = reply(6, 14);
    expect(payload.length).toBe(160);
    expect(decodeRet('NODE_GET_INFO', payload)).toEqual({
      model: 'i686',
      memory: 3145728n,
      cpus: 16,
      mhz: 1400,
      nodes: 2,
      sockets: 2,
      cores: 2,
      threads: 2,
    });
  });

  it('DOMAIN_GET_INFO: state and nrVirtCpu take 4 bytes each', () => {
    const info = decodeRet('DOMAIN_GET_INFO', reply(16, 19));
    expect(info).toMatchObject({ state: 1, maxMem: 8388608n, memory: 2097152n, nrVirtCpu: 2 });
  });

  it('event registrations and domain listing', () => {
    expect(decodeArgs('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY', callOf(316, 6))).toEqual({ eventID: 15, dom: null });
    expect(decodeRet('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY', reply(316, 7))).toEqual({ callbackID: 2 });
    const list = decodeRet('CONNECT_LIST_ALL_DOMAINS', reply(273, 17));
    expect(list.ret).toBe(1);
    expect(list.domains[0]!.name).toBe('test');
    expect(list.domains[0]!.uuid.toString('hex')).toBe('6695eb01f6a4830479aa97f2502e193f');
    expect(list.domains[0]!.id).toBe(1);
  });

  it('domain capabilities args and NO_SUPPORT error', () => {
    expect(decodeArgs('CONNECT_GET_DOMAIN_CAPABILITIES', callOf(342, 16))).toEqual({
      emulatorbin: null,
      arch: 'x86_64',
      machine: 'q35',
      virttype: 'kvm',
      flags: 0,
    });
    const err = remoteToLibvirtError(decodeError(reply(342, 16)));
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err.code).toBe(3);
    expect(err.domain).toBe(20);
    expect(err.message).toBe('this function is not supported by the connection driver: virConnectGetDomainCapabilities');
    expect(err.str1).toBe('this function is not supported by the connection driver: %s');
    expect(err.str2).toBe('virConnectGetDomainCapabilities');
    expect([err.int1, err.int2, err.level]).toEqual([-1, -1, 2]);
  });

  it('NODE_GET_SEV_INFO garbage nparams and STRING_OKAY flag', () => {
    expect(decodeArgs('NODE_GET_SEV_INFO', callOf(395, 25))).toEqual({ nparams: 0x57b69410, flags: 4 });
  });

  it('node CPU stats and CPU map', () => {
    expect(decodeRet('NODE_GET_CPU_STATS', reply(227, 26))).toEqual({ params: [], nparams: 4 });
    const stats = decodeRet('NODE_GET_CPU_STATS', reply(227, 27));
    expect(stats.nparams).toBe(0);
    expect(stats.params.map((p) => p.field)).toEqual(['user', 'kernel', 'idle', 'iowait']);
    expect(decodeRet('NODE_GET_CPU_MAP', reply(293, 15))).toEqual({ cpumap: Buffer.from([0x15]), online: 3, ret: 8 });
  });
});
