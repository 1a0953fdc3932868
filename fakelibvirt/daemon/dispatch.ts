/**
 * The procedure table of the fake daemon: procedure name → handler, and the one path every CALL
 * takes through it (look-up, decode, access checks, handler, encode; call-steps.ts). A procedure
 * the fake does not implement gets libvirtd's access answers first (access.ts) and then "unknown
 * procedure", which the C client turns into VIR_ERR_NO_SUPPORT so its fallbacks run. Every reply
 * is encoded inside the error handling: one that cannot be encoded never escapes as an exception.
 */
import type { LibvirtError } from '../../src/libvirt/errors.ts';
import { unknownProcedureError } from '../../src/rpc/errors.ts';
import { procedureByName, type CallName, type ProcDef, type ProcedureRow } from '../../src/rpc/procedures.ts';
import { libvirtdKnows, notOpenError, readOnlyDenial } from './access.ts';
import { admit, errorReply, replyOf, type AccessView } from './call-steps.ts';
import type { CallContext, Handler, HandlerTable } from './context.ts';
import { connectHandlers } from './handlers/connect.ts';
import { domainHandlers } from './handlers/domain.ts';
import { eventHandlers } from './handlers/events.ts';
import { lifecycleHandlers } from './handlers/lifecycle.ts';
import { migrationHandlers } from './handlers/migration.ts';
import { secretHandlers } from './handlers/secrets.ts';

export { DECODE_FAILED, ENCODE_FAILED, rpcError } from './call-steps.ts';

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

/** An implemented procedure: its name, argument type and handler. */
export interface Implemented {
  readonly name: CallName;
  readonly args: ProcedureRow['args'];
  readonly handler: Handler<CallName>;
}

/** Implemented procedures by number: the one look-up every call makes. */
const byNumber = new Map<number, Implemented>();
for (const [name, handler] of Object.entries(HANDLERS)) {
  const row = procedureByName(name as CallName) as ProcDef;
  byNumber.set(row.number, { name: name as CallName, args: row.args, handler: handler as Handler<CallName> });
}

/** The procedure behind a number when the fake implements it, else undefined. */
export function implemented(proc: number): Implemented | undefined {
  return byNumber.get(proc);
}

/**
 * Runs one CALL and returns the whole REPLY packet (OK or ERROR), or null when not even the error
 * reply can be encoded (an error message over the 4 MiB string limit): libvirtd 9.0 then closes
 * that client's connection, and so must the caller. Never throws.
 */
export function dispatchCall(ctx: CallContext, proc: number, serial: number, payload: Buffer): Buffer | null {
  const imp = byNumber.get(proc);
  if (!imp) return unimplementedReply(ctx.conn, proc, serial);
  const a = admit(ctx.conn, imp.name, imp.args, proc, serial, payload);
  if (a.reply !== undefined) return a.reply;
  return replyOf(imp.name, proc, serial, () => imp.handler(ctx, a.args as never));
}

/** The answer to a procedure the fake has no handler for, in libvirtd's order (access.ts). */
export function unimplementedReply(conn: AccessView, proc: number, serial: number): Buffer | null {
  return errorReply(proc, serial, unimplementedAnswer(conn, proc));
}

function unimplementedAnswer(conn: AccessView, proc: number): LibvirtError {
  if (!libvirtdKnows(proc)) return unknownProcedureError(proc);
  if (!conn.opened) return notOpenError(proc);
  if (conn.readOnly) return readOnlyDenial(proc) ?? unknownProcedureError(proc);
  return unknownProcedureError(proc);
}
