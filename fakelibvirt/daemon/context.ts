/** What a procedure handler sees: the host it serves, its connection's state, and the daemon's shared state. */
import type { ArgsOf, CallName, RetOf } from '../../src/rpc/procedures.ts';
import type { LibvirtBackend } from '../host/libvirt-backend.ts';

/** Per-connection state the handlers read and change. */
export interface ConnectionState {
  readonly id: number;
  /** CONNECT_OPEN has succeeded. */
  opened: boolean;
  /** The URI name the client opened (`qemu:///system` when it sent none). */
  uri: string;
  /** Read-only socket, or VIR_CONNECT_RO in CONNECT_OPEN. */
  readOnly: boolean;
  closeCallbackRegistered: boolean;
  /** Destination XML stashed by PREPARE3 until FINISH3 on the same connection. */
  incomingMigration: string | null;
  /** Modern event callbacks (316/317); returns the new callbackID. */
  registerCallback(eventID: number, domUuid: string | null): number;
  deregisterCallback(callbackID: number): void;
  /** Legacy event registration by event ID (167/168). */
  registerLegacy(eventID: number): void;
  deregisterLegacy(eventID: number): void;
}

/** State shared by every connection of one daemon. */
export interface DaemonState {
  readonly host: LibvirtBackend;
  /** A fresh callbackID; unique across the daemon, as libvirt's event state hands them out. */
  allocateCallbackId(): number;
  /** Resolves when every state change so far is on disk; null when none is pending (or no state is kept). */
  durable(): Promise<void> | null;
}

export interface CallContext {
  /** The libvirt backend this daemon serves: every answer comes from it. */
  readonly host: LibvirtBackend;
  readonly conn: ConnectionState;
  readonly daemon: DaemonState;
}

/** One procedure's implementation: decoded args in, ret out; throws LibvirtError to answer with an error. */
export type Handler<N extends CallName> = (ctx: CallContext, args: ArgsOf<N>) => RetOf<N>;

export type HandlerTable = { readonly [N in CallName]?: Handler<N> };
