/**
 * The procedure table of the fake daemon: procedure name → handler, and the one path every CALL
 * takes through it (look-up, decode, access checks, handler, encode). A procedure the fake does not
 * implement gets libvirtd's access answers first (access.ts) and then "unknown procedure", which
 * the C client turns into VIR_ERR_NO_SUPPORT so its fallbacks run. Every reply is encoded here,
 * inside the error handling: one that cannot be encoded never escapes as an exception.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { encodeErrorReply, encodeReply, XdrError } from '../../src/rpc/codec.ts';
import { RpcError, unknownProcedureError } from '../../src/rpc/errors.ts';
import { procedureByNumber, type CallName } from '../../src/rpc/procedures.ts';
import { decode } from '../../src/xdr/index.ts';
import { BEFORE_OPEN, libvirtdKnows, notOpenError, readOnlyDenial } from './access.ts';
import type { CallContext, Handler, HandlerTable } from './context.ts';
import { connectHandlers } from './handlers/connect.ts';
import { domainHandlers } from './handlers/domain.ts';
import { eventHandlers } from './handlers/events.ts';
import { lifecycleHandlers } from './handlers/lifecycle.ts';
import { migrationHandlers } from './handlers/migration.ts';
import { secretHandlers } from './handlers/secrets.ts';

export const HANDLERS: HandlerTable = {
  ...connectHandlers,
  ...domainHandlers,
  ...lifecycleHandlers,
  ...migrationHandlers,
  ...eventHandlers,
  ...secretHandlers,
};

/** Procedure numbers the fake implements, for tests and documentation. */
export function implementedProcedures(): CallName[] {
  return Object.keys(HANDLERS) as CallName[];
}

const rpcError = (message: string) => new LibvirtError({ code: VirErrorNumber.RPC, domain: VirErrorDomain.RPC, message });

/** virNetMessageEncodePayload's failure: the reply (a string over 4 MiB, a message over 32 MiB) does not fit the protocol. */
export const ENCODE_FAILED = 'Unable to encode message payload';
/** virNetMessageDecodePayload's failure: the call is answered, the connection survives. */
export const DECODE_FAILED = 'Unable to decode message payload';

/**
 * Runs one CALL and returns the whole REPLY packet (OK or ERROR), or null when not even the error
 * reply can be encoded (an error message over the 4 MiB string limit): libvirtd 9.0 then closes
 * that client's connection, and so must the caller. Never throws.
 */
export function dispatchCall(ctx: CallContext, proc: number, serial: number, payload: Buffer): Buffer | null {
  const row = procedureByNumber(proc);
  const handler = row?.kind === 'call' ? (HANDLERS[row.name as CallName] as Handler<CallName> | undefined) : undefined;
  if (!row || !handler) return errorReply(proc, serial, unimplementedAnswer(ctx, proc));
  const name = row.name as CallName;
  let args: unknown;
  try {
    args = cStrings(decode(row.args, payload));
  } catch (e) {
    if (e instanceof XdrError || e instanceof RpcError || e instanceof RangeError) return errorReply(proc, serial, rpcError(DECODE_FAILED));
    return errorReply(proc, serial, asLibvirtError(e));
  }
  let ret: unknown;
  try {
    if (!ctx.conn.opened && !BEFORE_OPEN.has(name)) throw notOpenError(proc);
    if (ctx.conn.readOnly) {
      const denied = readOnlyDenial(proc);
      if (denied) throw denied;
    }
    ret = handler(ctx, args as never);
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

function errorReply(proc: number, serial: number, err: LibvirtError): Buffer | null {
  try {
    return encodeErrorReply(proc, serial, err);
  } catch {
    return null;
  }
}

/** libvirtd's answer to a procedure the fake has no handler for, in libvirtd's order (access.ts). */
function unimplementedAnswer(ctx: CallContext, proc: number): LibvirtError {
  if (!libvirtdKnows(proc)) return unknownProcedureError(proc);
  if (!ctx.conn.opened) return notOpenError(proc);
  if (ctx.conn.readOnly) return readOnlyDenial(proc) ?? unknownProcedureError(proc);
  return unknownProcedureError(proc);
}

/**
 * libvirtd hands every string argument to C code, which reads it up to its first NUL byte: a name
 * `test\0x` finds the domain `test`, and a document with a NUL inside ends there.
 */
function cStrings(v: unknown): unknown {
  if (typeof v === 'string') {
    const nul = v.indexOf('\0');
    return nul < 0 ? v : v.slice(0, nul);
  }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(cStrings);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = cStrings(x);
  return out;
}

/** A handler's failure as libvirt would report it; a bug in the fake becomes an internal error, not a crash. */
function asLibvirtError(e: unknown): LibvirtError {
  if (e instanceof LibvirtError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, detail);
}

export { rpcError };
