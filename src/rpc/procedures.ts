/**
 * The REMOTE_PROGRAM procedure table: one row per procedure (number, name, args, ret), described
 * as data. Clients and the fake daemon both encode and decode through it; adding a procedure is
 * adding one row in procs/. Procedures not listed here answer "unknown procedure" on a server.
 */
import type { Infer } from '../xdr/index.ts';
import { ConnectProcs } from './procs/connect.ts';
import type { ProcDef } from './procs/define.ts';
import { DomainProcs } from './procs/domain.ts';
import { EventProcs } from './procs/events.ts';
import { MigrationProcs } from './procs/migration.ts';

export type { ProcDef } from './procs/define.ts';

export const Procedures = { ...ConnectProcs, ...DomainProcs, ...MigrationProcs, ...EventProcs } as const;

type Table = typeof Procedures;
export type ProcName = keyof Table;
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
  readonly [K in ProcName]: Table[K]['number'];
};

/** A table row with its name, for iteration and lookup by number. */
export interface ProcedureRow extends ProcDef {
  readonly name: ProcName;
}

export const PROCEDURE_ROWS: readonly ProcedureRow[] = Object.entries(Procedures)
  .map(([name, def]) => ({ ...(def as ProcDef), name: name as ProcName }))
  .sort((a, b) => a.number - b.number);

const byNumber = new Map<number, ProcedureRow>(PROCEDURE_ROWS.map((r) => [r.number, r]));
if (byNumber.size !== PROCEDURE_ROWS.length) throw new Error('procedure table has duplicate numbers');

/** The row for a procedure number, or undefined when the table does not describe it. */
export function procedureByNumber(n: number): ProcedureRow | undefined {
  return byNumber.get(n);
}

export function procedureByName<N extends ProcName>(name: N): Table[N] {
  return Procedures[name];
}
