/**
 * Declarative XDR types (RFC 4506 as produced by glibc rpcgen). A type is a value carrying its own
 * encoder and decoder, so wire structures are described as data and composed with struct/array/...
 */
import { isUtf8 } from 'node:buffer';
import { XdrError } from './errors.ts';
import { XdrReader } from './reader.ts';
import { XdrWriter } from './writer.ts';

export interface XdrType<T> {
  /** Human-readable type name, used in error messages. */
  readonly name: string;
  /** Smallest encoded size in bytes; lets decoders reject impossible array lengths up front. */
  readonly minSize: number;
  encode(w: XdrWriter, v: T): void;
  decode(r: XdrReader): T;
}

/** The TypeScript value type described by an XdrType. */
export type Infer<X> = X extends XdrType<infer T> ? T : never;

/** libvirt's REMOTE_STRING_MAX / VIR_NET_MESSAGE_STRING_MAX. */
export const STRING_MAX = 4194304;

function prim<T>(name: string, minSize: number, encode: (w: XdrWriter, v: T) => void, decode: (r: XdrReader) => T): XdrType<T> {
  return { name, minSize, encode, decode };
}

export const int = prim<number>('int', 4, (w, v) => w.int32(v), (r) => r.int32());
export const uint = prim<number>('unsigned int', 4, (w, v) => w.uint32(v), (r) => r.uint32());
export const hyper = prim<bigint>('hyper', 8, (w, v) => w.int64(v), (r) => r.int64());
export const uhyper = prim<bigint>('unsigned hyper', 8, (w, v) => w.uint64(v), (r) => r.uint64());
export const double = prim<number>('double', 8, (w, v) => w.double(v), (r) => r.double());

export const bool = prim<boolean>(
  'bool',
  4,
  (w, v) => w.int32(v ? 1 : 0),
  (r) => {
    const at = r.offset;
    const v = r.int32();
    if (v !== 0 && v !== 1) throw new XdrError(`bool must be 0 or 1, got ${v}`, at);
    return v === 1;
  },
);

/** rpcgen quirk: char, unsigned char, short and unsigned short each take a full 4-byte word. */
function narrow(name: string, lo: number, hi: number, signed: boolean): XdrType<number> {
  return prim<number>(
    name,
    4,
    (w, v) => {
      if (!Number.isInteger(v) || v < lo || v > hi) throw new XdrError(`${name} out of range: ${v}`);
      if (signed) w.int32(v);
      else w.uint32(v);
    },
    (r) => {
      const at = r.offset;
      const v = signed ? r.int32() : r.uint32();
      if (v < lo || v > hi) throw new XdrError(`${name} out of range: ${v}`, at);
      return v;
    },
  );
}
export const char = narrow('char', -128, 127, true);
export const uchar = narrow('unsigned char', 0, 255, false);
export const short = narrow('short', -32768, 32767, true);
export const ushort = narrow('unsigned short', 0, 65535, false);

export const xvoid: XdrType<void> = prim<void>('void', 0, () => undefined, () => undefined);

/**
 * Variable-length string with a maximum byte length. XDR strings are bytes; libvirt treats them as
 * C strings and does not check their encoding. Valid UTF-8 becomes an ordinary string; any byte of
 * an invalid sequence becomes the lone surrogate U+DC80–U+DCFF ("surrogateescape"), which encodes
 * back to the same byte, so a name or document with invalid UTF-8 round-trips byte for byte (in an
 * error message that repeats it, say) and a parser can tell where the invalid bytes were.
 */
export function string(max = STRING_MAX): XdrType<string> {
  return prim<string>(
    `string<${max}>`,
    4,
    (w, v) => {
      // Every UTF-16 unit is at least one byte: an over-long string is refused before it is copied.
      if (v.length > max) throw new XdrError(`string of at least ${v.length} bytes exceeds maximum ${max}`);
      if (!LONE_SURROGATE.test(v)) {
        w.utf8(v, max);
        return;
      }
      const b = encodeEscaped(v);
      if (b.length > max) throw new XdrError(`string of ${b.length} bytes exceeds maximum ${max}`);
      w.uint32(b.length);
      w.bytes(b);
    },
    (r) => {
      const n = r.length(max, 1, 'string');
      // A view, not a copy: the string is built from it and keeps nothing of the input.
      const b = r.view(n, 'string');
      return isUtf8(b) ? b.toString('utf8') : decodeEscaped(b);
    },
  );
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/;

/** Bytes → string, each byte of an invalid UTF-8 sequence as U+DC00 + byte. */
export function decodeEscaped(b: Uint8Array): string {
  let out = '';
  let start = 0;
  let i = 0;
  const flush = (end: number) => {
    if (end > start) out += Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
  };
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n > 0 && i + n <= b.length && isUtf8(b.subarray(i, i + n))) {
      i += n;
      continue;
    }
    flush(i);
    out += String.fromCharCode(0xdc00 + c);
    i++;
    start = i;
  }
  flush(i);
  return out;
}

/** The inverse of decodeEscaped: U+DC80–U+DCFF back to their bytes, everything else as UTF-8. */
export function encodeEscaped(v: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  // A low surrogate after a high one is half of a pair, not an escaped byte.
  for (const m of v.matchAll(/(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g)) {
    parts.push(Buffer.from(v.slice(start, m.index), 'utf8'), Buffer.of(v.charCodeAt(m.index) - 0xdc00));
    start = m.index + 1;
  }
  parts.push(Buffer.from(v.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Variable-length opaque data. */
export function opaque(max: number): XdrType<Buffer> {
  return prim<Buffer>(
    `opaque<${max}>`,
    4,
    (w, v) => {
      if (v.length > max) throw new XdrError(`opaque of ${v.length} bytes exceeds maximum ${max}`);
      w.uint32(v.length);
      w.bytes(v);
    },
    (r) => r.bytes(r.length(max, 1, 'opaque'), 'opaque'),
  );
}

/** Fixed-length opaque data (e.g. a 16-byte UUID): exactly n bytes plus padding, no length word. */
export function opaqueFixed(n: number): XdrType<Buffer> {
  return prim<Buffer>(
    `opaque[${n}]`,
    n + ((4 - (n % 4)) % 4),
    (w, v) => {
      if (v.length !== n) throw new XdrError(`opaque[${n}] given ${v.length} bytes`);
      w.bytes(v);
    },
    (r) => r.bytes(n, `opaque[${n}]`),
  );
}

/** XDR optional-data (`T *`): a bool word then the value; absent values are null. */
export function optional<T>(t: XdrType<T>): XdrType<T | null> {
  return prim<T | null>(
    `${t.name}*`,
    4,
    (w, v) => {
      if (v === null || v === undefined) {
        w.uint32(0);
      } else {
        w.uint32(1);
        t.encode(w, v);
      }
    },
    (r) => {
      const at = r.offset;
      const present = r.uint32();
      if (present === 0) return null;
      if (present !== 1) throw new XdrError(`optional flag must be 0 or 1, got ${present}`, at);
      return t.decode(r);
    },
  );
}

/** Variable-length array with a maximum element count. */
export function array<T>(t: XdrType<T>, max: number): XdrType<T[]> {
  return prim<T[]>(
    `${t.name}<${max}>`,
    4,
    (w, v) => {
      if (v.length > max) throw new XdrError(`array of ${v.length} elements exceeds maximum ${max}`);
      w.uint32(v.length);
      for (const e of v) t.encode(w, e);
    },
    (r) => {
      const n = r.length(max, Math.max(t.minSize, 1), `${t.name} array`);
      const out: T[] = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = t.decode(r);
      return out;
    },
  );
}

/** Fixed-length array: exactly n elements, no length word. */
export function fixedArray<T>(t: XdrType<T>, n: number): XdrType<T[]> {
  return prim<T[]>(
    `${t.name}[${n}]`,
    t.minSize * n,
    (w, v) => {
      if (v.length !== n) throw new XdrError(`${t.name}[${n}] given ${v.length} elements`);
      for (const e of v) t.encode(w, e);
    },
    (r) => {
      const out: T[] = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = t.decode(r);
      return out;
    },
  );
}

type FieldList = readonly (readonly [string, XdrType<unknown>])[];
/** The object type of a struct described by a list of [name, type] pairs. */
export type StructOf<F extends FieldList> = { -readonly [E in F[number] as E[0]]: Infer<E[1]> };

/**
 * A struct: its fields encoded in the order given. Each struct gets an encoder and a decoder of its
 * own with the field names written in as constants (generated once, from the table's own names):
 * V8 then sees plain property reads and one object literal shape per struct, where a loop over the
 * names would make every access a keyed one that the protocol's 170 structs drive megamorphic.
 */
export function struct<const F extends FieldList>(fields: F, name = 'struct'): XdrType<StructOf<F>> {
  const minSize = fields.reduce((s, [, t]) => s + t.minSize, 0);
  const params = fields.map((_, i) => `t${i}`);
  const keys = fields.map(([k]) => {
    if (k === '__proto__') throw new XdrError(`${name}: a field may not be named __proto__`);
    return JSON.stringify(k);
  });
  const missing = (k: string): never => {
    throw new XdrError(`${name}: missing field '${k}'`);
  };
  const types = fields.map(([, t]) => t);
  const encode = new Function(
    'missing',
    ...params,
    `'use strict';\nreturn function encode(w, v) {\n${keys.map((k, i) => `  if (!(${k} in v)) missing(${k});\n  t${i}.encode(w, v[${k}]);\n`).join('')}};`,
  )(missing, ...types) as (w: XdrWriter, v: StructOf<F>) => void;
  const decode = new Function(
    ...params,
    `'use strict';\nreturn function decode(r) {\n  return { ${keys.map((k, i) => `${k}: t${i}.decode(r)`).join(', ')} };\n};`,
  )(...types) as (r: XdrReader) => StructOf<F>;
  return prim<StructOf<F>>(name, minSize, encode, decode);
}

type ArmMap = Readonly<Record<number, XdrType<unknown>>>;
/** A discriminated union value: the int discriminant and the value of the selected arm. */
export type UnionOf<A extends ArmMap> = { [K in keyof A & number]: { readonly type: K; readonly value: Infer<A[K]> } }[keyof A & number];

/** A union switched on an int discriminant; an unknown discriminant is a decode error. */
export function union<const A extends ArmMap>(arms: A, name = 'union'): XdrType<UnionOf<A>> {
  const sizes = Object.values(arms).map((t) => t.minSize);
  return prim<UnionOf<A>>(
    name,
    4 + Math.min(...sizes),
    (w, v) => {
      const arm = arms[v.type];
      if (!arm) throw new XdrError(`${name}: no arm for discriminant ${v.type}`);
      w.int32(v.type);
      arm.encode(w, v.value);
    },
    (r) => {
      const at = r.offset;
      const d = r.int32();
      const arm = arms[d];
      if (!arm) throw new XdrError(`${name}: unknown discriminant ${d}`, at);
      return { type: d, value: arm.decode(r) } as UnionOf<A>;
    },
  );
}

/** A type with a different in-memory shape: converts after decoding and before encoding. */
export function mapped<W, T>(t: XdrType<W>, name: string, fromWire: (w: W) => T, toWire: (v: T) => W): XdrType<T> {
  return prim<T>(
    name,
    t.minSize,
    (w, v) => t.encode(w, toWire(v)),
    (r) => fromWire(t.decode(r)),
  );
}

/**
 * rpcgen `char name[n]` holding a C string, e.g. NODE_GET_INFO's model: n chars of 4 bytes each.
 * Decodes to the text before the first NUL; encodes NUL-padded.
 */
export function fixedCharString(n: number): XdrType<string> {
  return mapped(
    fixedArray(char, n),
    `char[${n}]`,
    (codes) => {
      const bytes = Buffer.from(codes.map((c) => c & 0xff));
      const nul = bytes.indexOf(0);
      return bytes.subarray(0, nul < 0 ? n : nul).toString('utf8');
    },
    (s) => {
      const b = Buffer.from(s, 'utf8');
      if (b.length > n) throw new XdrError(`char[${n}] given ${b.length} bytes`);
      const out = new Array<number>(n).fill(0);
      for (let i = 0; i < b.length; i++) out[i] = (b[i]! << 24) >> 24;
      return out;
    },
  );
}

/**
 * rpcgen `char name<max>`: a counted char array, each char a 4-byte word. Kept verbatim (a trailing
 * NUL, which libvirt includes, stays part of the string) so re-encoding is byte-exact.
 */
export function charArray(max: number): XdrType<string> {
  return mapped(
    array(char, max),
    `char<${max}>`,
    (codes) => Buffer.from(codes.map((c) => c & 0xff)).toString('latin1'),
    (s) => Array.from(Buffer.from(s, 'latin1'), (b) => (b << 24) >> 24),
  );
}

/** Encodes one value to a fresh Buffer. */
export function encode<T>(t: XdrType<T>, v: T): Buffer {
  const w = new XdrWriter();
  t.encode(w, v);
  return w.toBuffer();
}

/** Decodes a whole buffer as one value; leftover bytes are an error. */
export function decode<T>(t: XdrType<T>, buf: Buffer, offset = 0, end = buf.length): T {
  const r = new XdrReader(buf, offset, end);
  const v = t.decode(r);
  if (r.remaining !== 0) throw new XdrError(`${r.remaining} trailing bytes after ${t.name}`, r.offset);
  return v;
}
