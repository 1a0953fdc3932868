/** The 24-byte message header and whole-packet encoding (length word + header + payload). */
import { XdrError, XdrWriter, type XdrType } from '../xdr/index.ts';
import { HEADER_SIZE, LENGTH_SIZE, MESSAGE_MAX, MessageStatus, MessageType } from './constants.ts';
import { RpcError } from './errors.ts';

export interface MessageHeader {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

/** One decoded packet; the payload is still XDR bytes (or raw bytes for STREAM data). */
export interface Message {
  readonly header: MessageHeader;
  readonly payload: Buffer;
  /** A large packet's payload as the pieces it arrived in (payload is then empty); see FrameDecoder's largeFrame. */
  readonly parts?: readonly Buffer[];
}

const KNOWN_TYPES = new Set<number>(Object.values(MessageType));
const KNOWN_STATUS = new Set<number>(Object.values(MessageStatus));

/** The writer every message of this thread is encoded in (encoding never nests), so a message allocates only its own bytes. */
const SCRATCH_SIZE = 64 << 10;
let scratch = new XdrWriter(SCRATCH_SIZE);

/** Builds a full packet: the payload encoded after room for the header, then copied out at its exact size. */
export function encodeMessageOf<T>(h: MessageHeader, type: XdrType<T>, value: T): Buffer {
  const w = scratch;
  w.reset();
  try {
    w.skip(LENGTH_SIZE + HEADER_SIZE);
    type.encode(w, value);
    const total = w.length;
    if (total - LENGTH_SIZE > MESSAGE_MAX) throw new RpcError(`message of ${total} bytes exceeds the ${MESSAGE_MAX}-byte limit`);
    const b = Buffer.allocUnsafe(total);
    w.view().copy(b);
    writeHeader(b, total, h);
    return b;
  } finally {
    // A multi-megabyte message does not leave its buffer behind.
    if (w.capacity > 16 * SCRATCH_SIZE) scratch = new XdrWriter(SCRATCH_SIZE);
  }
}

function writeHeader(b: Buffer, total: number, h: MessageHeader): void {
  b.writeUInt32BE(total, 0);
  b.writeUInt32BE(h.prog >>> 0, 4);
  b.writeUInt32BE(h.vers >>> 0, 8);
  b.writeInt32BE(h.proc | 0, 12);
  b.writeInt32BE(h.type | 0, 16);
  b.writeUInt32BE(h.serial >>> 0, 20);
  b.writeInt32BE(h.status | 0, 24);
}

/** Builds a full packet. */
export function encodeMessage(h: MessageHeader, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const total = LENGTH_SIZE + HEADER_SIZE + payload.length;
  if (total - LENGTH_SIZE > MESSAGE_MAX) throw new RpcError(`message of ${total} bytes exceeds the ${MESSAGE_MAX}-byte limit`);
  const b = Buffer.allocUnsafe(total);
  writeHeader(b, total, h);
  b.set(payload, 28);
  return b;
}

/** Reads the header of a packet whose length word starts at `offset` (the packet must be complete). */
export function decodeHeader(buf: Buffer, offset = 0): MessageHeader {
  if (buf.length - offset < LENGTH_SIZE + HEADER_SIZE) throw new RpcError('packet shorter than its header');
  const h: MessageHeader = {
    prog: buf.readUInt32BE(offset + 4),
    vers: buf.readUInt32BE(offset + 8),
    proc: buf.readInt32BE(offset + 12),
    type: buf.readInt32BE(offset + 16),
    serial: buf.readUInt32BE(offset + 20),
    status: buf.readInt32BE(offset + 24),
  };
  if (!KNOWN_TYPES.has(h.type)) throw new RpcError(`unknown message type ${h.type}`);
  if (!KNOWN_STATUS.has(h.status)) throw new RpcError(`unknown message status ${h.status}`);
  return h;
}

/** Checks a length word before any buffering: it must cover the header and stay within the limit. */
export function checkLength(len: number): void {
  if (len < LENGTH_SIZE + HEADER_SIZE) throw new RpcError(`packet length ${len} is shorter than the 28-byte header`);
  if (len - LENGTH_SIZE > MESSAGE_MAX) throw new RpcError(`packet length ${len} exceeds the ${MESSAGE_MAX}-byte limit`);
}

/** Decodes one complete packet held exactly in `buf`. */
export function decodePacket(buf: Buffer): Message {
  if (buf.length < LENGTH_SIZE) throw new RpcError('packet shorter than its length word');
  const len = buf.readUInt32BE(0);
  checkLength(len);
  if (len !== buf.length) throw new RpcError(`length word says ${len} bytes, packet has ${buf.length}`);
  return { header: decodeHeader(buf), payload: buf.subarray(LENGTH_SIZE + HEADER_SIZE) };
}

export { XdrError };
