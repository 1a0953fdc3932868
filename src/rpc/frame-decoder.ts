/**
 * Splits a byte stream into packets. Handles packets split across reads and several packets in one
 * read; rejects bad length words before buffering anything for them.
 */
import { HEADER_SIZE, LENGTH_SIZE } from './constants.ts';
import { RpcError } from './errors.ts';
import { checkLength, decodeHeader, type Message } from './header.ts';

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: RpcError | null = null;

  /** Bytes received but not yet part of a complete packet. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns every packet now complete. Throws RpcError on a protocol violation, then stays failed. */
  push(data: Buffer): Message[] {
    if (this.failed) throw this.failed;
    if (data.length > 0) {
      this.chunks.push(data);
      this.buffered += data.length;
    }
    const out: Message[] = [];
    try {
      for (;;) {
        if (this.buffered < LENGTH_SIZE) break;
        const len = this.peekLength();
        checkLength(len);
        if (this.buffered < len) break;
        const packet = this.take(len);
        out.push({ header: decodeHeader(packet), payload: packet.subarray(LENGTH_SIZE + HEADER_SIZE) });
      }
    } catch (e) {
      this.failed = e instanceof RpcError ? e : new RpcError(String(e));
      throw this.failed;
    }
    return out;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= LENGTH_SIZE) return first.readUInt32BE(0);
    return this.take(LENGTH_SIZE, true).readUInt32BE(0);
  }

  /** Removes n bytes from the front (or, with peek, copies them without removing). */
  private take(n: number, peek = false): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (peek) return first.subarray(0, n);
      const head = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return head;
    }
    const merged = Buffer.concat(this.chunks, this.buffered);
    if (peek) {
      this.chunks = [merged];
      return merged.subarray(0, n);
    }
    const head = merged.subarray(0, n);
    const rest = merged.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return head;
  }
}
