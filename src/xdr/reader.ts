/** Bounds-checked big-endian reader over a Buffer; every failure is an XdrError, never a RangeError. */
import { XdrError } from './errors.ts';

export class XdrReader {
  readonly buf: Buffer;
  private pos: number;
  private readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.pos = offset;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new XdrError(`truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`, this.pos);
    }
  }

  int32(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'unsigned int');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8, 'hyper');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  uint64(): bigint {
    this.need(8, 'unsigned hyper');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  double(): number {
    this.need(8, 'double');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** n bytes plus padding; the padding must be zero, as glibc's xdr checks nothing but we stay strict on length. */
  bytes(n: number, what: string): Buffer {
    const padded = n + ((4 - (n % 4)) % 4);
    this.need(padded, what);
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, this.pos, this.pos + n);
    this.pos += padded;
    return out;
  }

  /** n bytes plus padding, as a view of the input (for values copied anyway, such as strings). */
  view(n: number, what: string): Buffer {
    const padded = n + ((4 - (n % 4)) % 4);
    this.need(padded, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += padded;
    return out;
  }

  /** Reads a length word and checks it against a maximum and against the bytes actually left. */
  length(max: number, minElementSize: number, what: string): number {
    const at = this.pos;
    const n = this.uint32();
    if (n > max) throw new XdrError(`${what} length ${n} exceeds maximum ${max}`, at);
    // A hostile length must not make us allocate: the elements have to fit in what is left.
    if (n * minElementSize > this.remaining) {
      throw new XdrError(`${what} length ${n} exceeds the ${this.remaining} bytes left`, at);
    }
    return n;
  }
}
