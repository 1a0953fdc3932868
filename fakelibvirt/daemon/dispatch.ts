/**
 * The procedure table of the fake daemon: procedure name → handler, and the one path every CALL
 * takes through it (decode, access checks, handler, encode). Anything not in the table answers
 * libvirt's "unknown procedure", which the C client turns into VIR_ERR_NO_SUPPORT so its
 * fallbacks run.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { decodeCallPayload, encodeErrorReply, encodeReply, XdrError } from '../../src/rpc/codec.ts';
import { RpcError, unknownProcedureError } from '../../src/rpc/errors.ts';
import type { CallName } from '../../src/rpc/procedures.ts';
import { BEFORE_OPEN, notOpenError, readOnlyDenial } from './access.ts';
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

/** Runs one CALL and returns the whole REPLY packet (OK or ERROR); never throws. */
export function dispatchCall(ctx: CallContext, proc: number, serial: number, payload: Buffer): Buffer {
  let decoded;
  try {
    decoded = decodeCallPayload(proc, payload);
  } catch (e) {
    // virNetMessageDecodePayload's failure: the call is answered, the connection survives.
    if (e instanceof XdrError || e instanceof RpcError) return encodeErrorReply(proc, serial, rpcError('Unable to decode message payload'));
    throw e;
  }
  const handler = decoded ? (HANDLERS[decoded.name as CallName] as Handler<CallName> | undefined) : undefined;
  if (!decoded || !handler) return encodeErrorReply(proc, serial, unknownProcedureError(proc));
  const name = decoded.name as CallName;
  try {
    if (!ctx.conn.opened && !BEFORE_OPEN.has(name)) throw notOpenError();
    if (ctx.conn.readOnly) {
      const denied = readOnlyDenial(name);
      if (denied) throw denied;
    }
    const ret = handler(ctx, decoded.args as never);
    return encodeReply(name, serial, ret as never);
  } catch (e) {
    return encodeErrorReply(proc, serial, asLibvirtError(e));
  }
}

/** A handler's failure as libvirt would report it; a bug in the fake becomes an internal error, not a crash. */
function asLibvirtError(e: unknown): LibvirtError {
  if (e instanceof LibvirtError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, detail);
}

export { rpcError };
