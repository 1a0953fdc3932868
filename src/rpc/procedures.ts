/**
 * The REMOTE_PROGRAM procedure table of libvirt 9.0: one row per procedure (number, name, call or
 * event, group, read-only access, and the XDR types of its payloads where this project speaks
 * it), described as data in procs/, one file per libvirt API file. The client encodes and decodes
 * through it, the fake daemon dispatches and checks access through it; test/rpc/procedure-table
 * checks every row against libvirt's own remote_protocol.x and API sources.
 *
 * Adding a procedure is giving its row payload types (`untyped(n)` → `call(n, args, ret)`), plus
 * a handler on the daemon side.
 */
import type { Infer } from '../xdr/index.ts';
import { CheckpointProcs } from './procs/checkpoint.ts';
import { ConnectProcs } from './procs/connect.ts';
import type { AnyDef, ProcDef } from './procs/define.ts';
import { DomainProcs } from './procs/domain.ts';
import { EventProcs } from './procs/events.ts';
import { InterfaceProcs } from './procs/interface.ts';
import { MigrationProcs } from './procs/migration.ts';
import { NetworkProcs } from './procs/network.ts';
import { NodeDeviceProcs } from './procs/nodedev.ts';
import { NwfilterProcs } from './procs/nwfilter.ts';
import { SecretProcs } from './procs/secret.ts';
import { SnapshotProcs } from './procs/snapshot.ts';
import { StorageProcs } from './procs/storage.ts';

export type { Access, AnyDef, DriverConnection, ProcDef, ProcGroup } from './procs/define.ts';
export { READ_ONLY_ERROR_DOMAIN } from './procs/define.ts';

/** Every procedure of libvirt 9.0's remote program, by name. */
export const Procedures = {
  ...ConnectProcs,
  ...DomainProcs,
  ...MigrationProcs,
  ...EventProcs,
  ...SnapshotProcs,
  ...CheckpointProcs,
  ...NetworkProcs,
  ...StorageProcs,
  ...NodeDeviceProcs,
  ...InterfaceProcs,
  ...SecretProcs,
  ...NwfilterProcs,
} as const;

type Table = typeof Procedures;
/** Names of every procedure libvirt 9.0 has. */
export type LibvirtProcName = keyof Table;
/** Names of the procedures this project speaks (their rows carry payload types). */
export type ProcName = { [K in LibvirtProcName]: Table[K]['args'] extends undefined ? never : K }[LibvirtProcName];
/** Names of procedures a client calls (CALL → REPLY). */
export type CallName = { [K in ProcName]: Table[K]['kind'] extends 'call' ? K : never }[ProcName];
/** Names of server-to-client event messages. */
export type EventName = { [K in ProcName]: Table[K]['kind'] extends 'event' ? K : never }[ProcName];
/** CALL payload type of a procedure (for events: the MESSAGE payload). */
export type ArgsOf<N extends ProcName> = Infer<Table[N]['args']>;
/** OK REPLY payload type of a procedure. */
export type RetOf<N extends ProcName> = Infer<Table[N]['ret']>;

/** Name → procedure number, e.g. `Proc.DOMAIN_LOOKUP_BY_NAME === 23`. */
export const Proc = Object.fromEntries(Object.entries(Procedures).map(([k, v]) => [k, v.number])) as {
  readonly [K in LibvirtProcName]: Table[K]['number'];
};

/** A row of the table with its name. */
export type LibvirtProcedure = AnyDef & { readonly name: LibvirtProcName };

/** A row this project speaks, with its name. */
export interface ProcedureRow extends ProcDef {
  readonly name: ProcName;
}

/** Every row, in number order. */
export const LIBVIRT_PROCEDURES: readonly LibvirtProcedure[] = Object.entries(Procedures)
  .map(([name, def]): LibvirtProcedure => ({ ...(def as AnyDef), name: name as LibvirtProcName }))
  .sort((a, b) => a.number - b.number);

function isSpoken(row: LibvirtProcedure): row is LibvirtProcedure & ProcedureRow {
  return row.args !== undefined;
}

/** The rows this project speaks (with payload types), in number order. */
export const PROCEDURE_ROWS: readonly ProcedureRow[] = LIBVIRT_PROCEDURES.filter(isSpoken);

const byNumber = new Map<number, LibvirtProcedure>(LIBVIRT_PROCEDURES.map((r) => [r.number, r]));
if (byNumber.size !== LIBVIRT_PROCEDURES.length) throw new Error('procedure table has duplicate numbers');

/** The highest procedure number of the table (libvirt 9.0: REMOTE_PROC_DOMAIN_FD_ASSOCIATE). */
export const LAST_PROCEDURE: number = LIBVIRT_PROCEDURES[LIBVIRT_PROCEDURES.length - 1]?.number ?? 0;

/** Any row by number, spoken or not; undefined for numbers libvirt 9.0 does not have. */
export function libvirtProcedure(n: number): LibvirtProcedure | undefined {
  return byNumber.get(n);
}

/** The row for a procedure number when this project speaks it, else undefined. */
export function procedureByNumber(n: number): ProcedureRow | undefined {
  const row = byNumber.get(n);
  return row !== undefined && isSpoken(row) ? row : undefined;
}

export function procedureByName<N extends ProcName>(name: N): Table[N] {
  return Procedures[name];
}
