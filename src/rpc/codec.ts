/**
 * Message-level codec on top of the procedure table, usable from both ends of a connection:
 * a client encodes calls and decodes replies/events, a server decodes calls and encodes
 * replies, error replies and events.
 */
import type { LibvirtError } from '../libvirt/errors.ts';
import { decode, encode, XdrError } from '../xdr/index.ts';
import { MessageStatus, MessageType, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION } from './constants.ts';
import { libvirtErrorToRemote, RemoteError, RpcError } from './errors.ts';
import { encodeMessageOf, type MessageHeader } from './header.ts';
import { Procedures, procedureByNumber, type ProcDef, type ArgsOf, type CallName, type EventName, type ProcName, type RetOf } from './procedures.ts';

/** A row with its payload types erased, for the generic encode/decode paths. */
function def(name: ProcName): ProcDef {
  return Procedures[name] as ProcDef;
}

function header(proc: number, type: number, serial: number, status: number): MessageHeader {
  return { prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc, type, serial, status };
}

export function encodeArgs<N extends ProcName>(name: N, args: ArgsOf<N>): Buffer {
  return encode(def(name).args, args);
}

export function encodeRet<N extends ProcName>(name: N, ret: RetOf<N>): Buffer {
  return encode(def(name).ret, ret);
}

export function decodeArgs<N extends ProcName>(name: N, payload: Buffer): ArgsOf<N> {
  return decode(def(name).args, payload) as ArgsOf<N>;
}

export function decodeRet<N extends ProcName>(name: N, payload: Buffer): RetOf<N> {
  return decode(def(name).ret, payload) as RetOf<N>;
}

/** A whole CALL packet. */
export function encodeCall<N extends CallName>(name: N, serial: number, args: ArgsOf<N>): Buffer {
  return encodeMessageOf(header(def(name).number, MessageType.CALL, serial, MessageStatus.OK), def(name).args, args);
}

/** A whole OK REPLY packet for the call with this serial. */
export function encodeReply<N extends CallName>(name: N, serial: number, ret: RetOf<N>): Buffer {
  return encodeMessageOf(header(def(name).number, MessageType.REPLY, serial, MessageStatus.OK), def(name).ret, ret);
}

/** A whole ERROR REPLY packet; `proc` is a number so unknown procedures can be answered too. */
export function encodeErrorReply(proc: number, serial: number, err: LibvirtError): Buffer {
  return encodeMessageOf(header(proc, MessageType.REPLY, serial, MessageStatus.ERROR), RemoteError, libvirtErrorToRemote(err));
}

/** A whole event MESSAGE packet (serial 0). */
export function encodeEvent<N extends EventName>(name: N, msg: ArgsOf<N>): Buffer {
  return encodeMessageOf(header(def(name).number, MessageType.MESSAGE, 0, MessageStatus.OK), def(name).args, msg);
}

export function decodeError(payload: Buffer): RemoteError {
  return decode(RemoteError, payload);
}

/** A decoded CALL as a server sees it; `args` is unknown until narrowed by `name`. */
export interface DecodedCall {
  readonly name: ProcName;
  readonly number: number;
  readonly args: unknown;
}

/**
 * Decodes a CALL payload by procedure number. Returns null when the table has no such procedure
 * (the server should answer `unknownProcedureError`); throws XdrError on malformed arguments.
 */
export function decodeCallPayload(proc: number, payload: Buffer): DecodedCall | null {
  const row = procedureByNumber(proc);
  if (!row) return null;
  if (row.kind !== 'call') throw new RpcError(`procedure ${proc} (${row.name}) is an event, not a call`);
  return { name: row.name, number: proc, args: decode(row.args, payload) };
}

export { XdrError };
