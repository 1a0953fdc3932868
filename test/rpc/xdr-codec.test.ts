/** The XDR codec: primitives, rpcgen quirks, composites and bounds enforcement. */
import { describe, expect, it } from 'vitest';
import {
  array,
  bool,
  char,
  charArray,
  decode,
  double,
  encode,
  fixedArray,
  fixedCharString,
  hyper,
  int,
  opaque,
  opaqueFixed,
  optional,
  short,
  string,
  STRING_MAX,
  struct,
  uchar,
  uhyper,
  uint,
  union,
  ushort,
  XdrError,
} from '../../src/xdr/index.ts';
import { NonnullDomain, TypedParamType } from '../../src/rpc/remote-types.ts';

const hex = (b: Buffer) => b.toString('hex');

describe('primitives', () => {
  it('encodes big-endian 4- and 8-byte words', () => {
    expect(hex(encode(int, -1))).toBe('ffffffff');
    expect(hex(encode(uint, 0xdeadbeef))).toBe('deadbeef');
    expect(hex(encode(hyper, -2n))).toBe('fffffffffffffffe');
    expect(hex(encode(uhyper, 9000000n))).toBe('0000000000895440');
    expect(hex(encode(double, 1.5))).toBe('3ff8000000000000');
    expect(hex(encode(bool, true))).toBe('00000001');
  });

  it('char, unsigned char, short and unsigned short take 4 bytes each (rpcgen quirk)', () => {
    expect(hex(encode(char, -1))).toBe('ffffffff');
    expect(hex(encode(uchar, 255))).toBe('000000ff');
    expect(hex(encode(short, -2))).toBe('fffffffe');
    expect(hex(encode(ushort, 65535))).toBe('0000ffff');
    for (const t of [char, uchar, short, ushort]) expect(encode(t, 1).length).toBe(4);
  });

  it('rejects out-of-range values on encode and decode', () => {
    expect(() => encode(int, 2 ** 31)).toThrow(XdrError);
    expect(() => encode(uint, -1)).toThrow(XdrError);
    expect(() => encode(uchar, 256)).toThrow(XdrError);
    expect(() => decode(uchar, Buffer.from('00000100', 'hex'))).toThrow(XdrError);
    expect(() => decode(bool, Buffer.from('00000002', 'hex'))).toThrow(XdrError);
  });

  it('pads strings and opaque data to 4 bytes', () => {
    expect(hex(encode(string(), 'vm'))).toBe('00000002766d0000');
    expect(hex(encode(opaque(16), Buffer.from([1, 2, 3, 4, 5])))).toBe('000000050102030405000000');
    expect(hex(encode(opaqueFixed(16), Buffer.alloc(16, 0xab)))).toBe('ab'.repeat(16));
  });
});

describe('composites', () => {
  it('domain reference: name, 16 raw UUID bytes, id', () => {
    const dom = { name: 'test', uuid: Buffer.from('6695eb01f6a4830479aa97f2502e193f', 'hex'), id: 1 };
    const b = encode(NonnullDomain, dom);
    expect(hex(b)).toBe('00000004746573746695eb01f6a4830479aa97f2502e193f00000001');
    expect(decode(NonnullDomain, b)).toEqual(dom);
  });

  it('optional values are a bool word then the value', () => {
    const t = optional(string());
    expect(hex(encode(t, null))).toBe('00000000');
    expect(hex(encode(t, 'q35'))).toBe('000000010000000371333500');
    expect(decode(t, Buffer.from('00000000', 'hex'))).toBeNull();
  });

  it('arrays, fixed arrays and structs', () => {
    const t = struct([['a', array(int, 4)], ['b', fixedArray(uint, 2)]]);
    const v = { a: [1, -1], b: [7, 8] };
    const b = encode(t, v);
    expect(hex(b)).toBe('0000000200000001ffffffff0000000700000008');
    expect(decode(t, b)).toEqual(v);
  });

  it('unions switch on an int discriminant', () => {
    const t = union({ 1: int, 7: string() });
    expect(hex(encode(t, { type: 7, value: 'x' }))).toBe('000000070000000178000000');
    expect(decode(t, Buffer.from('00000001ffffffff', 'hex'))).toEqual({ type: 1, value: -1 });
    expect(() => decode(t, Buffer.from('0000000900000000', 'hex'))).toThrow(/unknown discriminant 9/);
  });

  it('typed parameters of every type round-trip', () => {
    const params = [
      { field: 'i', type: 1, value: -5 },
      { field: 'u', type: 2, value: 51 },
      { field: 'l', type: 3, value: -7n },
      { field: 'ul', type: 4, value: 1n << 40n },
      { field: 'd', type: 5, value: 0.25 },
      { field: 'b', type: 6, value: true },
      { field: 's', type: 7, value: 'AAAA' },
    ] as const;
    const t = array(TypedParamType, 64);
    expect(decode(t, encode(t, [...params]))).toEqual(params);
    // field 'cbitpos' (7 bytes + 1 pad), discriminant UINT, value 51
    expect(hex(encode(TypedParamType, { field: 'cbitpos', type: 2, value: 51 }))).toBe('0000000763626974706f73000000000200000033');
  });

  it('NODE_GET_INFO model: char[32] is 128 bytes', () => {
    const t = fixedCharString(32);
    const b = encode(t, 'i686');
    expect(b.length).toBe(128);
    expect(hex(b.subarray(0, 16))).toBe('00000069000000360000003800000036');
    expect(decode(t, b)).toBe('i686');
  });

  it('counted char arrays keep their bytes verbatim', () => {
    const t = charArray(257);
    const b = encode(t, 'none\0');
    expect(hex(b)).toBe('00000005' + '0000006e0000006f0000006e0000006500000000');
    expect(decode(t, b)).toBe('none\0');
  });
});

describe('bounds', () => {
  it('string maximum is 4 MiB', () => {
    expect(STRING_MAX).toBe(4194304);
    const big = Buffer.alloc(8);
    big.writeUInt32BE(STRING_MAX + 1, 0);
    expect(() => decode(string(), big)).toThrow(/exceeds maximum 4194304/);
  });

  it('a hostile length larger than the input fails before allocating', () => {
    const b = Buffer.from('00400000', 'hex'); // claims 4 MiB, carries nothing
    expect(() => decode(string(), b)).toThrow(/exceeds the 0 bytes left/);
    const arr = Buffer.from('00003fff', 'hex');
    expect(() => decode(array(NonnullDomain, 16384), arr)).toThrow(XdrError);
  });

  it('array maximum is enforced on decode and encode', () => {
    expect(() => decode(array(int, 2), Buffer.from('00000003000000010000000200000003', 'hex'))).toThrow(/maximum 2/);
    expect(() => encode(array(int, 2), [1, 2, 3])).toThrow(XdrError);
    expect(() => encode(string(3), 'abcd')).toThrow(XdrError);
  });

  it('truncated input and trailing bytes are XdrErrors with offsets', () => {
    const e = (() => {
      try {
        decode(NonnullDomain, Buffer.from('0000000474657374', 'hex'));
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(XdrError);
    expect((e as XdrError).offset).toBe(8);
    expect(() => decode(int, Buffer.from('0000000100', 'hex'))).toThrow(/trailing/);
  });

  it('missing struct fields are reported on encode', () => {
    expect(() => encode(NonnullDomain, { name: 'x', uuid: Buffer.alloc(16) } as never)).toThrow(/missing field 'id'/);
    expect(() => encode(opaqueFixed(16), Buffer.alloc(15))).toThrow(XdrError);
  });
});
