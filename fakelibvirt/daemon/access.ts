/**
 * Which procedures a connection may call, and in which order libvirtd 9.0 refuses the others.
 *
 * libvirtd looks a procedure up in its own table first (every call of remote_protocol.x, 1–443;
 * event numbers have no dispatcher), then decodes the arguments, then asks for the connection the
 * call needs (`hypervisor connection not open`, or `connection not open` for the secondary
 * drivers: network, storage, node device, secret, nwfilter, interface), and only then enters the
 * public API, whose read-only check (virCheckReadOnlyGoto) names the API function and carries its
 * file's error domain. So a write call the fake does not implement is refused on a read-only
 * connection exactly as libvirtd refuses it, before the fake's own "unknown procedure".
 *
 * Every fact here is a column of the procedure table (src/rpc/procs/): the call/event kind, the
 * group's connection, the row's access. They were measured (every number 1–460 sent to an
 * unprivileged libvirtd 9.0.0 on a VIR_CONNECT_RO connection and on one never opened) and are
 * checked against libvirt's remote_protocol.x and API sources by test/rpc/procedure-table.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import {
  LIBVIRT_PROCEDURES,
  libvirtProcedure,
  READ_ONLY_ERROR_DOMAIN,
  type LibvirtProcName,
} from '../../src/rpc/procedures.ts';

/** Procedures a client may call before CONNECT_OPEN (the rows marked `beforeOpen`). */
export const BEFORE_OPEN: ReadonlySet<LibvirtProcName> = new Set(
  LIBVIRT_PROCEDURES.filter((r) => r.beforeOpen).map((r) => r.name),
);

/** libvirtd 9.0 has a dispatcher for this procedure number (a call of its table, not an event). */
export function libvirtdKnows(proc: number): boolean {
  return libvirtProcedure(proc)?.kind === 'call';
}

/**
 * The read-only refusal for a procedure, or null when read-only connections may call it. With the
 * decoded arguments, a read procedure is refused too when its flags ask for what only a writer may
 * (its row's `refusedWithFlags`); without them, only write procedures are.
 */
export function readOnlyDenial(proc: number, args?: unknown): LibvirtError | null {
  const row = libvirtProcedure(proc);
  if (row === undefined || row.group === 'event') return null;
  const domain = READ_ONLY_ERROR_DOMAIN[row.group] as VirErrorDomain;
  const access = row.access;
  if (access.kind === 'write') {
    return LibvirtError.of(VirErrorNumber.OPERATION_DENIED, domain, `read only access prevents ${access.api}`);
  }
  const byFlags = access.refusedWithFlags;
  if (byFlags !== undefined && (flagsOf(args) & byFlags.mask) !== 0) {
    return LibvirtError.of(VirErrorNumber.OPERATION_DENIED, domain, byFlags.detail);
  }
  return null;
}

function flagsOf(args: unknown): number {
  if (typeof args !== 'object' || args === null || !('flags' in args)) return 0;
  const { flags } = args as { readonly flags: unknown };
  return typeof flags === 'number' ? flags : 0;
}

/** remoteGetHypervisorConn's (or a secondary driver's) answer to a call made before CONNECT_OPEN. */
export function notOpenError(proc = 0): LibvirtError {
  const secondary = libvirtProcedure(proc)?.connection === 'secondary';
  const text = secondary ? 'connection not open' : 'hypervisor connection not open';
  return LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, text);
}
