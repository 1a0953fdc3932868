/** Growable big-endian output buffer; every value is written 4-byte aligned, as XDR requires. */
import { XdrError } from './errors.ts';

export class XdrWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /** Bytes the writer holds, written or not. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Starts over at offset 0, keeping the buffer. */
  reset(): void {
    this.pos = 0;
  }

  private reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int32(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new XdrError(`int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  uint32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new XdrError(`unsigned int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(v: bigint): void {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new XdrError(`hyper out of range: ${v}`);
    this.reserve(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  uint64(v: bigint): void {
    if (v < 0n || v >= 1n << 64n) throw new XdrError(`unsigned hyper out of range: ${v}`);
    this.reserve(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
  }

  double(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  /** Raw bytes followed by zero padding up to the next multiple of 4. */
  bytes(b: Uint8Array): void {
    const pad = (4 - (b.length % 4)) % 4;
    this.reserve(b.length + pad);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
  }

  /**
   * An XDR string of UTF-8 text (no lone surrogates): length word, bytes, zero padding, written in
   * place with no intermediate buffer. Throws XdrError when the bytes exceed `max`.
   */
  utf8(v: string, max: number): void {
    const n = Buffer.byteLength(v, 'utf8');
    if (n > max) throw new XdrError(`string of ${n} bytes exceeds maximum ${max}`);
    this.reserve(4 + n + 3);
    this.buf.write(v, this.pos + 4, n, 'utf8');
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4 + n;
    const pad = (4 - (n % 4)) % 4;
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
  }

  /** Leaves n bytes to be filled later (a message header in front of its payload). */
  skip(n: number): void {
    this.reserve(n);
    this.pos += n;
  }

  /** A copy of what has been written. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A view of what has been written, valid until the next write. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
