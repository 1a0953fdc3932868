/**
 * One client connection: splits the byte stream into packets, answers keepalive, routes CALLs
 * through the dispatch table, and relays the host's lifecycle events to the callbacks this client
 * registered. A protocol violation, a reply too large to encode or any other failure closes only
 * this connection; nothing here throws to the server.
 *
 * Flow control is libvirtd's: at most `maxClientRequests` replies may be waiting to leave for the
 * socket; at that limit the daemon stops reading this client (the kernel's socket buffer then
 * pushes back on it) and resumes as its replies drain. So a client that pipelines calls and never
 * reads the replies holds a bounded amount of the daemon's memory.
 */
import type { Duplex } from 'node:stream';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { encodeEvent } from '../../src/rpc/codec.ts';
import { KEEPALIVE_PROGRAM, KeepaliveProc, MessageStatus, MessageType, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION } from '../../src/rpc/constants.ts';
import { libvirtErrorToRemote, RemoteError } from '../../src/rpc/errors.ts';
import { FrameDecoder } from '../../src/rpc/frame-decoder.ts';
import { encodeMessage, encodeMessageOf, type Message, type MessageHeader } from '../../src/rpc/header.ts';
import type { LifecycleEventRecord } from '../host/libvirt-backend.ts';
import type { CallContext, ConnectionState, DaemonState } from './context.ts';
import { replyOf, rpcError } from './call-steps.ts';
import { dispatchCall, implemented, unimplementedReply, type Implemented } from './dispatch.ts';
import { offloadPool } from './offload/pool.ts';
import type { OffloadOutcome } from './offload/protocol.ts';
import { STAGES } from './offload/stages.ts';
import type { DaemonLimits } from './limits.ts';
import { toWire } from './wire.ts';

/** VIR_DOMAIN_EVENT_ID_LIFECYCLE: the only event ID the host model produces. */
const EVENT_ID_LIFECYCLE = 0;
/** VIR_DOMAIN_EVENT_ID_LAST in libvirt 9–11: registration beyond it is refused. */
const EVENT_ID_LAST = 28;

const PONG = encodeMessage({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: KeepaliveProc.PONG, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK });

const NO_EVENTS: readonly Buffer[] = Object.freeze([]);

interface Callback {
  readonly eventID: number;
  readonly domUuid: string | null;
}

let nextConnectionId = 1;

export interface ConnectionStats {
  readonly unflushedReplies: number;
  readonly queuedPackets: number;
  readonly unsentBytes: number;
  readonly readPaused: boolean;
}

export class Connection implements ConnectionState {
  readonly id = nextConnectionId++;
  private readonly limits: DaemonLimits;
  opened = false;
  uri = 'qemu:///system';
  readOnly: boolean;
  closeCallbackRegistered = false;
  incomingMigration: string | null = null;

  private readonly decoder: FrameDecoder;
  private readonly ctx: CallContext;
  /** A large call is on a worker thread: this client's next calls wait for it (its replies stay in order). */
  private inFlight = false;
  /** Packets received and not yet handled (they arrived in the chunk that reached the limit). */
  private queue: Message[] = [];
  private queueHead = 0;
  /** Replies written but not yet flushed to the socket. */
  private unflushed = 0;
  private readPaused = false;
  private pumping = false;
  private pumpScheduled = false;
  /** The last reply still waiting for the durability barrier, if any. */
  private outbox: Promise<void> | null = null;
  private readonly callbacks = new Map<number, Callback>();
  private readonly legacy = new Set<number>();
  private unsubscribe: (() => void) | null = null;
  /** Events raised while a call runs go out after its reply, as the real daemon's queue orders them. */
  private held: Buffer[] | null = null;
  private spare: Buffer[] = [];

  constructor(
    private readonly socket: Duplex,
    private readonly daemon: DaemonState,
    opts: { readonly readOnly: boolean; readonly limits: DaemonLimits },
  ) {
    this.readOnly = opts.readOnly;
    this.limits = opts.limits;
    this.decoder = new FrameDecoder({ largeFrame: opts.limits.offloadBytes });
    this.ctx = { host: daemon.host, conn: this, daemon };
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // A client that vanishes mid-call only ends its own connection.
    socket.on('error', () => undefined);
    socket.on('close', () => this.cleanup());
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  /** What this client holds of the daemon's memory: replies in flight, packets waiting, unsent bytes. */
  get stats(): ConnectionStats {
    return { unflushedReplies: this.unflushed, queuedPackets: this.queue.length - this.queueHead, unsentBytes: this.socket.writableLength, readPaused: this.readPaused };
  }

  /** Drops the connection (daemon shutdown or protocol violation). */
  close(): void {
    this.socket.destroy();
    this.cleanup();
  }

  private receive(chunk: Buffer): void {
    try {
      for (const m of this.decoder.push(chunk)) {
        // Keepalive is answered as it is read, as virNetServerClient does, even while a call runs.
        if (m.header.prog === KEEPALIVE_PROGRAM) this.keepalive(m.header);
        else this.queue.push(m);
      }
    } catch {
      // Bad length word or header: the stream can no longer be framed (virNetServerClient closes too).
      this.close();
      return;
    }
    this.pump();
  }

  /**
   * Handles the next queued packet while the client is under its request limit, and reads only while
   * it is. One packet per turn of the event loop: a client with a backlog of expensive calls takes
   * its turn with everyone else instead of running them back to back.
   */
  private pump(): void {
    this.pumpScheduled = false;
    if (this.pumping || this.socket.destroyed || this.inFlight) return;
    this.pumping = true;
    try {
      if (this.queueHead < this.queue.length && this.outstanding < this.limits.maxClientRequests) {
        const m = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined as never;
        this.handle(m);
      }
    } catch {
      // A failure the handlers did not turn into a reply: this connection ends, the daemon serves on.
      this.close();
    } finally {
      this.pumping = false;
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    if (this.socket.destroyed) return;
    const backlog = this.queueHead < this.queue.length;
    if (backlog && !this.inFlight && this.outstanding < this.limits.maxClientRequests) this.schedulePump();
    const full = backlog || this.outstanding >= this.limits.maxClientRequests;
    if (full && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    } else if (!full && this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  /** Calls taken in and not yet answered onto the socket: libvirtd's nrequests. */
  private get outstanding(): number {
    return this.unflushed + (this.inFlight ? 1 : 0);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private keepalive(h: MessageHeader): void {
    if (h.proc === KeepaliveProc.PING && h.type === MessageType.MESSAGE) this.send(PONG);
  }

  private handle(m: Message): void {
    const h = m.header;
    const isCall = h.type === MessageType.CALL || h.type === MessageType.CALL_WITH_FDS;
    if (h.prog !== REMOTE_PROGRAM || h.vers !== REMOTE_PROTOCOL_VERSION) {
      // virNetServerProgramUnknownError: only calls get an answer, echoing the unknown program.
      if (isCall) this.sendError(h, rpcError(`Cannot find program ${h.prog | 0} version ${h.vers | 0}`));
      return;
    }
    if (h.type === MessageType.STREAM || h.type === MessageType.STREAM_HOLE) return; // no streams are ever opened
    if (h.type !== MessageType.CALL) {
      this.sendError(h, rpcError(`Unexpected message type ${h.type}`));
      return;
    }
    if (h.status !== MessageStatus.OK) {
      this.sendError(h, rpcError(`Unexpected message status ${h.status}`));
      return;
    }
    if (m.parts) {
      this.offload(h, m.parts);
      return;
    }
    this.answer(() => dispatchCall(this.ctx, h.proc, h.serial, m.payload));
  }

  /** Runs a call on this thread and sends its reply; events it raises go out after the reply, as the real daemon's queue orders them. */
  private answer(run: () => Buffer | null): void {
    const raised = this.spare;
    this.held = raised;
    let reply: Buffer | null;
    try {
      reply = run();
    } finally {
      this.held = null;
    }
    // The array goes with the reply only when the call raised events; most calls raise none.
    const events = raised.length > 0 ? raised : NO_EVENTS;
    if (raised.length > 0) this.spare = [];
    // A reply that cannot be encoded even as an error (a message over 4 MiB): libvirtd 9.0 closes
    // that client's connection and serves everyone else.
    if (reply === null) {
      this.close();
      return;
    }
    this.sendReply(reply, events);
  }

  /**
   * A large call: decoded, admitted and (for a document) parsed on a worker thread; what changes
   * the host runs here when it comes back. This client's later calls wait for it; everyone else's
   * are served meanwhile.
   */
  private offload(h: MessageHeader, parts: readonly Buffer[]): void {
    const imp = implemented(h.proc);
    if (!imp) {
      this.answer(() => unimplementedReply(this, h.proc, h.serial));
      return;
    }
    const host = this.daemon.host;
    this.inFlight = true;
    const job = offloadPool(this.limits.maxWorkers).run({
      proc: h.proc,
      serial: h.serial,
      name: imp.name,
      parts,
      conn: { opened: this.opened, readOnly: this.readOnly },
      profile: host.profile,
      sectypes: host.sectypes(),
      longestName: host.listAllDomains().reduce((n, d) => Math.max(n, d.name.length), 0),
    });
    void job.then((o) => {
      this.inFlight = false;
      // Even for a client that has gone, the call completes (a define still takes effect), as in libvirtd.
      this.answer(() => this.complete(o, imp, h));
      this.schedulePump();
    });
  }

  private complete(o: OffloadOutcome | null, imp: Implemented, h: MessageHeader): Buffer | null {
    if (o === null) return null;
    switch (o.kind) {
      case 'reply':
        return o.packet && Buffer.from(o.packet.buffer, o.packet.byteOffset, o.packet.byteLength);
      case 'finish': {
        const finish = STAGES[imp.name]!.finish!;
        return replyOf(imp.name, h.proc, h.serial, () => finish(this.ctx, o.value as never));
      }
      case 'args':
        return replyOf(imp.name, h.proc, h.serial, () => imp.handler(this.ctx, o.args as never));
    }
  }

  private sendError(h: MessageHeader, err: LibvirtError): void {
    const header = { prog: h.prog, vers: h.vers, proc: h.proc, type: MessageType.REPLY, serial: h.serial, status: MessageStatus.ERROR };
    this.sendReply(encodeMessageOf(header, RemoteError, libvirtErrorToRemote(err)));
  }

  /** A reply has left for the socket: one fewer outstanding; reading resumes if it had stopped. */
  private readonly flushed = (): void => {
    this.unflushed--;
    if (this.readPaused || this.queueHead < this.queue.length) this.schedulePump();
  };

  /**
   * A reply counts against the client's request limit until it has left for the socket. It leaves
   * only once what the call changed is on disk (the daemon's durability barrier, when it keeps
   * state), and never before an earlier reply of this connection; the call's events follow it.
   * One write per reply.
   */
  private sendReply(packet: Buffer, events: readonly Buffer[] = NO_EVENTS): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.unflushed++;
    const barrier = this.daemon.durable();
    if (barrier === null && this.outbox === null) {
      this.write(packet, events);
      return;
    }
    const send = () => {
      if (this.socket.destroyed || !this.socket.writable) this.unflushed--;
      else this.write(packet, events);
    };
    const next = Promise.all([this.outbox, barrier]).then(send, send);
    this.outbox = next;
    void next.then(() => {
      if (this.outbox === next) this.outbox = null;
    });
  }

  private write(packet: Buffer, events: readonly Buffer[]): void {
    if (events.length === 0) {
      this.socket.write(packet, this.flushed);
      return;
    }
    // The reply and the events it raised leave in one write (writev) rather than one each.
    this.socket.cork();
    this.socket.write(packet, this.flushed);
    for (let i = 0; i < events.length; i++) this.emitEvent(events[i]!);
    this.socket.uncork();
  }

  private send(packet: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(packet);
  }

  // ---- events ------------------------------------------------------------------------------------

  registerCallback(eventID: number, domUuid: string | null): number {
    this.checkEventId(eventID);
    const id = this.daemon.allocateCallbackId();
    this.callbacks.set(id, { eventID, domUuid });
    this.subscribe();
    return id;
  }

  deregisterCallback(callbackID: number): void {
    if (!this.callbacks.delete(callbackID)) {
      throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.RPC, `callbackID ${callbackID} not registered`);
    }
  }

  registerLegacy(eventID: number): void {
    this.checkEventId(eventID);
    if (this.legacy.has(eventID)) throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, `domain event ${eventID} already registered`);
    this.legacy.add(eventID);
    this.subscribe();
  }

  deregisterLegacy(eventID: number): void {
    if (!this.legacy.delete(eventID)) throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, `domain event ${eventID} not registered`);
  }

  private checkEventId(eventID: number): void {
    if (eventID < 0 || eventID >= EVENT_ID_LAST) {
      throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, `unsupported event ID ${eventID}`);
    }
  }

  private subscribe(): void {
    this.unsubscribe ??= this.daemon.host.onLifecycle((e) => this.relay(e));
  }

  private relay(e: LifecycleEventRecord): void {
    const dom = toWire(e.domain);
    for (const [callbackID, cb] of this.callbacks) {
      if (cb.eventID !== EVENT_ID_LIFECYCLE || (cb.domUuid !== null && cb.domUuid !== e.domain.uuid)) continue;
      this.emitEvent(encodeEvent('DOMAIN_EVENT_CALLBACK_LIFECYCLE', { callbackID, dom, event: e.event, detail: e.detail }));
    }
    if (this.legacy.has(EVENT_ID_LIFECYCLE)) this.emitEvent(encodeEvent('DOMAIN_EVENT_LIFECYCLE', { dom, event: e.event, detail: e.detail }));
  }

  private emitEvent(packet: Buffer): void {
    if (this.held) {
      this.held.push(packet);
      return;
    }
    if (this.socket.writableLength > this.limits.maxPendingEventBytes) {
      // A client that registered for events and stopped reading: dropped rather than buffered without end.
      this.close();
      return;
    }
    this.send(packet);
  }

  private cleanup(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.callbacks.clear();
    this.legacy.clear();
  }
}
