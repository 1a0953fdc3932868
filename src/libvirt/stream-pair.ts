/**
 * Two connected in-memory stream ends: what one writes, the other reads, as over a UNIX socket
 * but without the kernel (a read, a write and a wakeup per message, which on a virtualised 2-core
 * host cost more than the rest of a round trip). Bytes arrive once the writer's code has run (a
 * microtask), never inside its call; a turn of the event loop (a poll, itself a syscall) is taken
 * at least every millisecond of such deliveries, so a client looping over calls still lets timers
 * and I/O run.
 *
 * Flow control is a socket's: a write completes once the bytes are handed over, unless the reader
 * has stopped reading and its buffer is full; then the writer waits until it reads again.
 * Ending one side is an EOF for the other; destroying one side ends the other too.
 */
import { Duplex } from 'node:stream';

/** An EOF marker in a delivery queue (after the bytes written before it). */
const EOF = null;

/** How long deliveries may go on as microtasks before one waits for the next turn of the event loop. */
const MICROTASK_SPAN_MS = 1;
/** When a delivery last ran on a turn of the event loop (shared: every pair runs on the one loop). */
let lastTurn = -Infinity;

export class StreamEnd extends Duplex {
  private peer: StreamEnd | null = null;
  /** Chunks handed to this end, read out once the writer's code has run (see deliver). */
  private inbox: (Buffer | typeof EOF)[] = [];
  private inboxBytes = 0;
  private scheduled = false;
  private ended = false;
  /** The peer's write that waits until this end's reader takes bytes again. */
  private blockedWrite: (() => void) | null = null;

  constructor() {
    // A socket's default: the end of what one side reads closes it.
    super({ allowHalfOpen: false });
  }

  /** Connects two ends (streamPair does it). */
  static link(a: StreamEnd, b: StreamEnd): void {
    a.peer = b;
    b.peer = a;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer === null || peer.destroyed) {
      done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      return;
    }
    peer.deliver(chunk);
    if (peer.full()) peer.blockedWrite = () => done();
    else done();
  }

  /** Bytes handed to this end and not yet read reach its reader's high-water mark (a full socket buffer). */
  private full(): boolean {
    return this.inboxBytes + this.readableLength >= this.readableHighWaterMark;
  }

  /** A write waiting for room goes on. */
  private release(): void {
    const resume = this.blockedWrite;
    this.blockedWrite = null;
    resume?.();
  }

  override _final(done: (error?: Error | null) => void): void {
    this.peer?.deliver(EOF);
    done();
  }

  /** The reader wants more (what it holds is below its high-water mark): room for the waiting write. */
  override _read(): void {
    this.release();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = null;
    this.inbox = [];
    this.inboxBytes = 0;
    // The other side sees the connection close: an EOF after what it has not read yet.
    if (peer !== null && !peer.destroyed) peer.deliver(EOF);
    this.release();
    done(error);
  }

  private deliver(chunk: Buffer | typeof EOF): void {
    this.inbox.push(chunk);
    if (chunk !== EOF) this.inboxBytes += chunk.length;
    if (this.scheduled) return;
    this.scheduled = true;
    if (performance.now() - lastTurn < MICROTASK_SPAN_MS) queueMicrotask(this.flush);
    else setImmediate(this.flushOnTurn);
  }

  private readonly flushOnTurn = (): void => {
    lastTurn = performance.now();
    this.flush();
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    const chunks = this.inbox;
    this.inbox = [];
    this.inboxBytes = 0;
    for (let i = 0; i < chunks.length; i++) {
      if (this.destroyed || this.ended) return;
      const chunk = chunks[i]!;
      if (chunk === EOF) this.ended = true;
      this.push(chunk);
    }
    if (!this.full()) this.release();
  };
}

/** Two linked ends: [client's, server's]. */
export function streamPair(): [StreamEnd, StreamEnd] {
  const a = new StreamEnd();
  const b = new StreamEnd();
  StreamEnd.link(a, b);
  return [a, b];
}
