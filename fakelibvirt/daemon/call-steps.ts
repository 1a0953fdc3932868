/**
 * The steps of one CALL that read nothing but the call itself: decode the arguments as C strings,
 * libvirtd's access checks in its order, and encoding the reply inside the error handling. They
 * import no handler and no host, so a worker thread runs them for large calls (offload/).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { encodeErrorReply, encodeReply, XdrError } from '../../src/rpc/codec.ts';
import { RpcError } from '../../src/rpc/errors.ts';
import type { CallName, ProcedureRow } from '../../src/rpc/procedures.ts';
import { decode } from '../../src/xdr/index.ts';
import { BEFORE_OPEN, notOpenError, readOnlyDenial } from './access.ts';

export const rpcError = (message: string) => new LibvirtError({ code: VirErrorNumber.RPC, domain: VirErrorDomain.RPC, message });

/** virNetMessageEncodePayload's failure: the reply (a string over 4 MiB, a message over 32 MiB) does not fit the protocol. */
export const ENCODE_FAILED = 'Unable to encode message payload';
/** virNetMessageDecodePayload's failure: the call is answered, the connection survives. */
export const DECODE_FAILED = 'Unable to decode message payload';

/** What the access checks read of a connection (a snapshot of it travels with an offloaded call). */
export interface AccessView {
  readonly opened: boolean;
  readonly readOnly: boolean;
}

/** The outcome of the steps before a handler: its arguments, or the whole (error) reply. */
export type Admission = { readonly args: unknown; readonly reply?: undefined } | { readonly reply: Buffer | null };

/**
 * libvirtd's steps before the API call, in its order: decode the arguments (C strings), then the
 * connection the call needs, then the read-only check.
 */
export function admit(conn: AccessView, name: CallName, argsType: ProcedureRow['args'], proc: number, serial: number, payload: Buffer): Admission {
  let args: unknown;
  try {
    args = cStrings(decode(argsType, payload));
  } catch (e) {
    if (e instanceof XdrError || e instanceof RpcError || e instanceof RangeError) return { reply: errorReply(proc, serial, rpcError(DECODE_FAILED)) };
    return { reply: errorReply(proc, serial, asLibvirtError(e)) };
  }
  if (!conn.opened && !BEFORE_OPEN.has(name)) return { reply: errorReply(proc, serial, notOpenError(proc)) };
  if (conn.readOnly) {
    const denied = readOnlyDenial(proc, args);
    if (denied) return { reply: errorReply(proc, serial, denied) };
  }
  return { args };
}

/** Runs a handler's work and encodes what it returns or throws: the whole reply, or null (close). */
export function replyOf(name: CallName, proc: number, serial: number, run: () => unknown): Buffer | null {
  let ret: unknown;
  try {
    ret = run();
  } catch (e) {
    return errorReply(proc, serial, asLibvirtError(e));
  }
  try {
    return encodeReply(name, serial, ret as never);
  } catch {
    // virNetServerProgramDispatchCall: a reply that cannot be encoded is answered with this error.
    return errorReply(proc, serial, rpcError(ENCODE_FAILED));
  }
}

/** An ERROR reply, or null when even that cannot be encoded (a message over the 4 MiB string limit). */
export function errorReply(proc: number, serial: number, err: LibvirtError): Buffer | null {
  try {
    return encodeErrorReply(proc, serial, err);
  } catch {
    return null;
  }
}

/**
 * libvirtd hands every string argument to C code, which reads it up to its first NUL byte: a name
 * `test\0x` finds the domain `test`, and a document with a NUL inside ends there. The decoded value
 * is fresh, so it is cut in place: a call with no NUL (every ordinary call) allocates nothing here.
 */
function cStrings(v: unknown): unknown {
  if (typeof v === 'string') {
    const nul = v.indexOf('\0');
    return nul < 0 ? v : v.slice(0, nul);
  }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = cStrings(v[i]);
    return v;
  }
  const rec = v as Record<string, unknown>;
  for (const k in rec) rec[k] = cStrings(rec[k]);
  return v;
}

/** A handler's failure as libvirt would report it; a bug in the fake becomes an internal error, not a crash. */
export function asLibvirtError(e: unknown): LibvirtError {
  if (e instanceof LibvirtError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, detail);
}
