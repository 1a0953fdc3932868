/**
 * Splits a byte stream into packets. Handles packets split across reads and several packets in one
 * read; rejects bad length words before buffering anything for them.
 */
import { HEADER_SIZE, LENGTH_SIZE } from './constants.ts';
import { RpcError } from './errors.ts';
import { checkLength, decodeHeader, type Message } from './header.ts';

export interface FrameDecoderOptions {
  /**
   * Packets of at least this many bytes are returned with their payload as the received pieces
   * (`Message.parts`), never joined here: a server hands them to another thread whole.
   */
  readonly largeFrame?: number;
}

export class FrameDecoder {
  private readonly largeFrame: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: RpcError | null = null;

  constructor(opts: FrameDecoderOptions = {}) {
    this.largeFrame = opts.largeFrame ?? Infinity;
  }

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
        if (len >= this.largeFrame) {
          const header = decodeHeader(this.take(LENGTH_SIZE + HEADER_SIZE));
          out.push({ header, payload: EMPTY, parts: this.takeParts(len - LENGTH_SIZE - HEADER_SIZE) });
          continue;
        }
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

  /** Removes n bytes from the front (or, with peek, copies them without removing); joins only the chunks it needs. */
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
    let k = 0;
    let have = 0;
    while (have < n) have += this.chunks[k++]!.length;
    const merged = Buffer.concat(this.chunks.slice(0, k), have);
    if (peek) {
      this.chunks.splice(0, k, merged);
      return merged.subarray(0, n);
    }
    const rest = merged.subarray(n);
    if (rest.length > 0) this.chunks.splice(0, k, rest);
    else this.chunks.splice(0, k);
    this.buffered -= n;
    return merged.subarray(0, n);
  }

  /** Removes n bytes from the front as the received pieces, copying nothing. */
  private takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      if (first.length <= left) {
        parts.push(first);
        this.chunks.shift();
        left -= first.length;
      } else {
        parts.push(first.subarray(0, left));
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return parts;
  }
}

const EMPTY = Buffer.alloc(0);
