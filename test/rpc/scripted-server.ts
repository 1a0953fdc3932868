/**
 * A tiny scripted libvirt server for client tests, built only from the codec: it shows how a
 * daemon decodes CALLs and encodes replies, errors and events with the procedure table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibvirtError } from '../../src/libvirt/errors.ts';
import { decodeCallPayload, encodeErrorReply } from '../../src/rpc/codec.ts';
import { encodeMessage, type Message } from '../../src/rpc/header.ts';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from '../../src/rpc/constants.ts';
import { unknownProcedureError } from '../../src/rpc/errors.ts';
import { FrameDecoder } from '../../src/rpc/frame-decoder.ts';
import { Procedures, type ProcDef, type ProcName } from '../../src/rpc/procedures.ts';
import { encode } from '../../src/xdr/index.ts';

export interface ReceivedCall {
  readonly serial: number;
  readonly proc: number;
  readonly name: ProcName | null;
  readonly args: unknown;
}

/** Returns the ret value, throws a LibvirtError to answer with an error, or returns HOLD to not answer yet. */
export type Handler = (args: unknown, call: ReceivedCall) => unknown;
export const HOLD = Symbol('hold');

const DEFAULTS: Partial<Record<ProcName, Handler>> = {
  AUTH_LIST: () => ({ types: [0] }),
  CONNECT_SUPPORTS_FEATURE: () => ({ supported: 1 }),
  CONNECT_OPEN: () => undefined,
  CONNECT_CLOSE: () => undefined,
  CONNECT_REGISTER_CLOSE_CALLBACK: () => undefined,
  CONNECT_UNREGISTER_CLOSE_CALLBACK: () => undefined,
};

export class ScriptedServer {
  readonly calls: ReceivedCall[] = [];
  readonly raw: Message[] = [];
  readonly sockets: Socket[] = [];
  readonly socketPath: string;
  private readonly dir: string;
  private readonly server: Server;
  private readonly handlers: Partial<Record<ProcName, Handler>>;

  constructor(handlers: Partial<Record<ProcName, Handler>> = {}) {
    this.handlers = { ...DEFAULTS, ...handlers };
    this.dir = mkdtempSync(join(tmpdir(), 'sevharness-rpc-'));
    this.socketPath = join(this.dir, 'sock');
    this.server = createServer((s) => this.serve(s));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  get uri(): string {
    return `qemu+unix:///system?socket=${this.socketPath}`;
  }

  /** Sends a raw packet to every connected client. */
  broadcast(packet: Buffer): void {
    for (const s of this.sockets) s.write(packet);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private serve(sock: Socket): void {
    this.sockets.push(sock);
    const decoder = new FrameDecoder();
    sock.on('error', () => undefined);
    sock.on('data', (chunk: Buffer) => {
      for (const m of decoder.push(chunk)) {
        this.raw.push(m);
        if (m.header.prog === REMOTE_PROGRAM && m.header.type === MessageType.CALL) this.answer(sock, m);
      }
    });
  }

  private answer(sock: Socket, m: Message): void {
    const { proc, serial } = m.header;
    const decoded = decodeCallPayload(proc, m.payload);
    const call: ReceivedCall = { serial, proc, name: decoded?.name ?? null, args: decoded?.args };
    this.calls.push(call);
    const handler = decoded ? this.handlers[decoded.name] : undefined;
    if (!decoded || !handler) {
      sock.write(encodeErrorReply(proc, serial, unknownProcedureError(proc)));
      return;
    }
    let ret: unknown;
    try {
      ret = handler(decoded.args, call);
    } catch (e) {
      if (e instanceof LibvirtError) sock.write(encodeErrorReply(proc, serial, e));
      return;
    }
    if (ret === HOLD) return;
    this.reply(sock, call, ret);
  }

  /** Sends the OK reply for a call (used for held calls too). */
  reply(sock: Socket, call: ReceivedCall, ret: unknown): void {
    const def = Procedures[call.name!] as ProcDef;
    const header = { prog: REMOTE_PROGRAM, vers: 1, proc: call.proc, type: MessageType.REPLY, serial: call.serial, status: MessageStatus.OK };
    sock.write(encodeMessage(header, encode(def.ret, ret)));
  }
}
