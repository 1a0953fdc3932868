/**
 * One client-side RPC connection: frames packets, allocates serials, matches replies to calls by
 * serial and procedure, answers keepalive PINGs and hands event messages to listeners. It knows
 * procedures only through the table; the libvirt API lives in libvirt/client.ts.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../libvirt/errors.ts';
import { decode, XdrError, type XdrType } from '../xdr/index.ts';
import { encodeCall, decodeError } from './codec.ts';
import { KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, KeepaliveProc, MessageStatus, MessageType, REMOTE_PROGRAM } from './constants.ts';
import { clientSideError, RpcError } from './errors.ts';
import { FrameDecoder } from './frame-decoder.ts';
import { encodeMessage, type Message } from './header.ts';
import { procedureByNumber, Procedures, type ProcDef, type ArgsOf, type CallName, type EventName, type ProcName, type RetOf } from './procedures.ts';

/** Raised for every call pending or attempted after the connection is gone. */
export class ConnectionClosedError extends LibvirtError {
  constructor(reason: string) {
    super({
      code: VirErrorNumber.INTERNAL_ERROR,
      domain: VirErrorDomain.RPC,
      message: `internal error: client socket is closed: ${reason}`,
    });
    this.name = 'ConnectionClosedError';
  }
}

export interface RpcConnectionOptions {
  /** Reject a call whose reply has not arrived after this many milliseconds (0 = never). */
  readonly callTimeoutMs?: number;
}

export interface CallOptions {
  readonly timeoutMs?: number;
}

/** An event message decoded with the procedure table. */
export interface RpcEvent<N extends EventName = EventName> {
  readonly name: N;
  readonly msg: ArgsOf<N>;
}

/** A call waiting for its reply: what it needs to decode it and when it gives up. */
interface Pending {
  readonly proc: number;
  readonly name: ProcName;
  readonly ret: XdrType<unknown>;
  readonly resolve: (ret: unknown) => void;
  readonly reject: (err: Error) => void;
  /** performance.now() past which the call times out (Infinity: never). */
  readonly deadline: number;
  readonly timeoutMs: number;
}

interface ConnectionEvents {
  event: [RpcEvent];
  close: [Error | null];
}

export class RpcConnection extends EventEmitter<ConnectionEvents> {
  private readonly stream: Duplex;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private readonly callTimeoutMs: number;
  private nextSerial = 0;
  private closedWith: Error | null = null;
  /**
   * One timer for every pending call, armed for the earliest deadline: a call costs no timer of its
   * own (with one timeout for all calls the deadlines only grow, so the armed timer stays). It is
   * unref'd: the transport keeps the process alive while a call waits, the timer only bounds it.
   */
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** Whether any well-framed packet has arrived: tells a broken daemon from a socket that is not one. */
  private framedAny = false;

  constructor(stream: Duplex, opts: RpcConnectionOptions = {}) {
    super();
    this.stream = stream;
    this.callTimeoutMs = opts.callTimeoutMs ?? 60_000;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (e: Error) => this.shutdown(e));
    stream.on('close', () => this.shutdown(new Error('connection closed by peer')));
    stream.on('end', () => this.shutdown(new Error('connection closed by peer')));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Number of calls awaiting a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a CALL and resolves with the decoded OK reply; server errors reject as LibvirtError. */
  call<N extends CallName>(name: N, args: ArgsOf<N>, opts: CallOptions = {}): Promise<RetOf<N>> {
    if (this.closedWith) return Promise.reject(new ConnectionClosedError(this.closedWith.message));
    const def: ProcDef = Procedures[name];
    const serial = this.nextSerial;
    this.nextSerial = (this.nextSerial + 1) >>> 0;
    let packet: Buffer;
    try {
      packet = encodeCall(name, serial, args);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const timeoutMs = opts.timeoutMs ?? this.callTimeoutMs;
    const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
    return new Promise<RetOf<N>>((resolve, reject) => {
      this.pending.set(serial, { proc: def.number, name, ret: def.ret, resolve: resolve as (ret: unknown) => void, reject, deadline, timeoutMs });
      if (deadline < this.timerAt) this.armTimer(deadline);
      this.stream.write(packet);
    });
  }

  private armTimer(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.expire, Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  /** The timer fired: every call past its deadline fails; the timer is armed again for the next one. */
  private readonly expire = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [serial, entry] of this.pending) {
      if (entry.deadline <= now) {
        this.pending.delete(serial);
        entry.reject(
          LibvirtError.of(VirErrorNumber.OPERATION_TIMEOUT, VirErrorDomain.RPC, `no reply to ${entry.name} (serial ${serial}) within ${entry.timeoutMs} ms`),
        );
      } else if (entry.deadline < next) {
        next = entry.deadline;
      }
    }
    if (next < Infinity) this.armTimer(next);
  };

  /** Closes the socket; pending calls reject with ConnectionClosedError. */
  close(): void {
    this.shutdown(new Error('connection closed by client'));
    this.stream.end();
    this.stream.destroy();
  }

  private onData(chunk: Buffer): void {
    let messages: Message[];
    try {
      messages = this.decoder.push(chunk);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      // Garbage before any packet means the socket is not a libvirt daemon at all: say so.
      this.shutdown(new Error(this.framedAny ? why : `the server does not speak libvirt's RPC protocol: ${why}`));
      this.stream.destroy();
      return;
    }
    if (messages.length > 0) this.framedAny = true;
    for (const m of messages) this.dispatch(m);
  }

  private dispatch(m: Message): void {
    const h = m.header;
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.proc === KeepaliveProc.PING && h.type === MessageType.MESSAGE) this.sendPong();
      return;
    }
    if (h.prog !== REMOTE_PROGRAM) return; // Other programs (QEMU, LXC) are not spoken here.
    if (h.type === MessageType.REPLY) this.onReply(m);
    else if (h.type === MessageType.MESSAGE) this.onEvent(m);
    // STREAM packets are not supported by this client; they are dropped.
  }

  private onReply(m: Message): void {
    const h = m.header;
    const entry = this.pending.get(h.serial);
    if (!entry) return; // A late reply to a call that already timed out.
    this.pending.delete(h.serial);
    if (h.proc !== entry.proc) {
      entry.reject(new RpcError(`Unexpected message proc ${h.proc} != ${entry.proc}`));
      return;
    }
    if (h.status === MessageStatus.OK) {
      let ret: unknown;
      try {
        ret = decode(entry.ret, m.payload);
      } catch (e) {
        entry.reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      entry.resolve(ret);
      return;
    }
    try {
      entry.reject(clientSideError(decodeError(m.payload)));
    } catch (e) {
      entry.reject(e instanceof XdrError ? e : new RpcError(`undecodable error reply: ${String(e)}`));
    }
  }

  private onEvent(m: Message): void {
    const row = procedureByNumber(m.header.proc);
    if (!row || row.kind !== 'event') return;
    let msg: unknown;
    try {
      msg = decode(row.args, m.payload);
    } catch {
      return; // A malformed event is dropped, like the C client does.
    }
    this.emit('event', { name: row.name as EventName, msg } as RpcEvent);
  }

  private sendPong(): void {
    if (this.closedWith) return;
    this.stream.write(
      encodeMessage({
        prog: KEEPALIVE_PROGRAM,
        vers: KEEPALIVE_PROTOCOL_VERSION,
        proc: KeepaliveProc.PONG,
        type: MessageType.MESSAGE,
        serial: 0,
        status: MessageStatus.OK,
      }),
    );
  }

  private shutdown(reason: Error): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    const err = new ConnectionClosedError(reason.message);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
    for (const entry of this.pending.values()) entry.reject(err);
    this.pending.clear();
    this.emit('close', reason.message === 'connection closed by client' ? null : reason);
  }
}
