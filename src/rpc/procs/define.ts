/**
 * Row constructors for the procedure table. A row holds what libvirt says about one procedure of
 * REMOTE_PROGRAM: its number, whether it is a call or a server-to-client event, the group of API
 * it belongs to (which decides the driver connection that serves it and the error domain of its
 * refusals), whether a read-only connection may call it, and, where this project speaks it, the
 * XDR types of its payloads.
 */
import { xvoid, type XdrType } from '../../xdr/index.ts';

/**
 * libvirt's API groups, one per public API file (libvirt-domain.c, libvirt-network.c, …); `connect`
 * is the connection and host calls (libvirt.c, libvirt-host.c), `event` the event messages.
 */
export type ProcGroup =
  | 'connect'
  | 'domain'
  | 'snapshot'
  | 'checkpoint'
  | 'network'
  | 'storage'
  | 'nodedev'
  | 'interface'
  | 'secret'
  | 'nwfilter'
  | 'event';

/**
 * Which connection serves a call: the hypervisor driver's, or one of the secondary drivers
 * (network, storage, node device, interface, secret, nwfilter) libvirtd opens beside it.
 */
export type DriverConnection = 'hypervisor' | 'secondary';

/**
 * What a read-only connection may do with a procedure. `write` names the public API function whose
 * virCheckReadOnlyGoto refuses it (`read only access prevents <api>`). A `read` procedure may still
 * refuse read-only connections for some flags (virDomainGetXMLDesc with VIR_DOMAIN_XML_SECURE):
 * `refusedWithFlags` holds those flags and the text of that refusal.
 */
export type Access =
  | { readonly kind: 'read'; readonly refusedWithFlags?: FlagRefusal }
  | { readonly kind: 'write'; readonly api: string };

export interface FlagRefusal {
  /** Any of these bits in the call's `flags` argument triggers the refusal. */
  readonly mask: number;
  /** The VIR_ERR_OPERATION_DENIED detail. */
  readonly detail: string;
}

export const READ: Access = { kind: 'read' };

export function write(api: string): Access {
  return { kind: 'write', api };
}

/** Read access, refused on read-only connections when the call's flags have any bit of `mask`. */
export function readUnlessFlags(mask: number, detail: string): Access {
  return { kind: 'read', refusedWithFlags: { mask, detail } };
}

/** A call (CALL → REPLY) or a server-to-client event (MESSAGE). */
export type ProcKind = 'call' | 'event';

/** Facts every row has once it sits in its group. */
export interface RowFacts<N extends number = number, K extends ProcKind = ProcKind> {
  readonly number: N;
  readonly kind: K;
  readonly group: ProcGroup;
  readonly connection: DriverConnection;
  readonly access: Access;
  /** Callable before CONNECT_OPEN (remote_daemon_dispatch.c needs no hypervisor connection for it). */
  readonly beforeOpen: boolean;
}

/**
 * A procedure this project speaks. For calls, `args` is the CALL payload and `ret` the OK REPLY
 * payload. For events (`kind: 'event'`), `args` is the MESSAGE payload and `ret` is void.
 */
export interface ProcDef<N extends number = number, A = unknown, R = unknown, K extends ProcKind = ProcKind>
  extends RowFacts<N, K> {
  readonly args: XdrType<A>;
  readonly ret: XdrType<R>;
}

/** A procedure libvirt 9.0 has and this project has no payload types for (yet). */
export interface UntypedDef<N extends number = number, K extends ProcKind = ProcKind> extends RowFacts<N, K> {
  readonly args?: undefined;
  readonly ret?: undefined;
}

/** Any row of the table. */
export type AnyDef = ProcDef | UntypedDef;

/** Row options beside access. */
export interface RowOptions {
  readonly beforeOpen?: boolean;
  /** Overrides the group's connection (the PCI detach/reattach calls of nodedev go to the hypervisor). */
  readonly connection?: DriverConnection;
}

export const BEFORE_OPEN: RowOptions = { beforeOpen: true };
export const HYPERVISOR_DRIVER: RowOptions = { connection: 'hypervisor' };

/** A row before its group stamps `group` and (unless overridden) `connection`. */
type Ungrouped<R> = Omit<R, 'group' | 'connection'> & { readonly connection?: DriverConnection };

export function call<const N extends number, A, R>(
  number: N,
  args: XdrType<A>,
  ret: XdrType<R>,
  access: Access = READ,
  opts: RowOptions = {},
): Ungrouped<ProcDef<N, A, R, 'call'>> {
  return { number, kind: 'call', args, ret, access, beforeOpen: opts.beforeOpen ?? false, ...connectionOf(opts) };
}

export function event<const N extends number, M>(number: N, msg: XdrType<M>): Ungrouped<ProcDef<N, M, void, 'event'>> {
  return { number, kind: 'event', args: msg, ret: xvoid, access: READ, beforeOpen: false };
}

export function untyped<const N extends number>(
  number: N,
  access: Access = READ,
  opts: RowOptions = {},
): Ungrouped<UntypedDef<N, 'call'>> {
  return { number, kind: 'call', access, beforeOpen: opts.beforeOpen ?? false, ...connectionOf(opts) };
}

export function untypedEvent<const N extends number>(number: N): Ungrouped<UntypedDef<N, 'event'>> {
  return { number, kind: 'event', access: READ, beforeOpen: false };
}

function connectionOf(opts: RowOptions): { readonly connection?: DriverConnection } {
  return opts.connection === undefined ? {} : { connection: opts.connection };
}

/** The groups libvirtd serves through a secondary driver connection. */
const SECONDARY_GROUPS: ReadonlySet<ProcGroup> = new Set<ProcGroup>([
  'network',
  'storage',
  'nodedev',
  'interface',
  'secret',
  'nwfilter',
]);

type UngroupedRow = { readonly connection?: DriverConnection };

type Grouped<T, G extends ProcGroup> = {
  readonly [K in keyof T]: Omit<T[K], 'connection'> & { readonly group: G; readonly connection: DriverConnection };
};

/** Stamps a group onto its rows: the group decides the connection unless a row overrides it. */
export function inGroup<const G extends ProcGroup, T extends Record<string, UngroupedRow>>(group: G, rows: T): Grouped<T, G> {
  const byDefault: DriverConnection = SECONDARY_GROUPS.has(group) ? 'secondary' : 'hypervisor';
  return Object.fromEntries(
    Object.entries(rows).map(([name, row]) => [name, { ...row, group, connection: row.connection ?? byDefault }]),
  ) as Grouped<T, G>;
}

/**
 * The virErrorDomain of each group's API file (its VIR_FROM_THIS): the domain a read-only refusal
 * carries. libvirt-host.c reports as VIR_FROM_DOMAIN too.
 */
export const READ_ONLY_ERROR_DOMAIN: Readonly<Record<Exclude<ProcGroup, 'event'>, number>> = {
  connect: 20, // VIR_FROM_DOMAIN
  domain: 20,
  snapshot: 35, // VIR_FROM_DOMAIN_SNAPSHOT
  checkpoint: 69, // VIR_FROM_DOMAIN_CHECKPOINT
  network: 19, // VIR_FROM_NETWORK
  storage: 18, // VIR_FROM_STORAGE
  nodedev: 22, // VIR_FROM_NODEDEV
  interface: 26, // VIR_FROM_INTERFACE
  secret: 30, // VIR_FROM_SECRET
  nwfilter: 33, // VIR_FROM_NWFILTER
};

export const VOID = xvoid;
