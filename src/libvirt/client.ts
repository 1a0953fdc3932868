/**
 * A pure-TypeScript libvirt client over the remote protocol. It opens connections the way the C
 * remote driver does (same handshake, same serials) and exposes typed calls from the procedure
 * table. Works against a real libvirtd and against sevharness's fake daemon alike.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { AuthType, DrvFeature } from '../rpc/constants.ts';
import { RpcConnection, type CallOptions, type RpcEvent } from '../rpc/connection.ts';
import type { ArgsOf, CallName, RetOf } from '../rpc/procedures.ts';
import type { DomainRef } from '../rpc/remote-types.ts';
import { isLibvirtError, LibvirtError, VirErrorDomain, VirErrorNumber } from './errors.ts';
import { dialUnix } from './transport.ts';
import { VIR_TYPED_PARAM_STRING_OKAY, type TypedParam } from './typed-params.ts';
import { parseUri } from './uri.ts';
import type { NodeInfo, VirDomainInfo } from './structs.ts';

export type { DomainRef } from '../rpc/remote-types.ts';
export type { NodeInfo, VirDomainInfo } from './structs.ts';

export interface ConnectOptions {
  /** Open read-only (VIR_CONNECT_RO). */
  readonly readonly?: boolean;
  readonly connectTimeoutMs?: number;
  /** Per-call reply timeout; 0 disables it. */
  readonly callTimeoutMs?: number;
  /** Use this already-connected stream instead of dialing the URI's socket. */
  readonly stream?: Duplex;
}

/** VIR_DOMAIN_EVENT_ID_* values the client knows by name. */
export const DomainEventId = { LIFECYCLE: 0, REBOOT: 1, DEVICE_REMOVED: 15, JOB_COMPLETED: 21, DEVICE_REMOVAL_FAILED: 22 } as const;

export interface DomainLifecycleEvent {
  readonly callbackID: number;
  readonly dom: DomainRef;
  /** VIR_DOMAIN_EVENT_* (DEFINED=0 … CRASHED=8). */
  readonly event: number;
  readonly detail: number;
}

export interface DomainCapabilitiesQuery {
  readonly emulatorbin?: string;
  readonly arch?: string;
  readonly machine?: string;
  readonly virttype?: string;
  readonly flags?: number;
}

interface ClientEvents {
  lifecycle: [DomainLifecycleEvent];
  /** Every event message, decoded. */
  event: [RpcEvent];
  close: [Error | null];
}

/** The connection handshake of the C remote driver (remote_driver.c doRemoteOpen). */
async function handshake(rpc: RpcConnection, name: string, readonly: boolean): Promise<{ closeCallback: boolean }> {
  let auth: number[] = [];
  try {
    auth = (await rpc.call('AUTH_LIST', undefined)).types;
  } catch (e) {
    // An old server without AUTH_LIST needs no authentication.
    if (!isLibvirtError(e, VirErrorNumber.NO_SUPPORT)) throw e;
  }
  if (auth.length > 0 && !auth.includes(AuthType.NONE)) {
    if (!auth.includes(AuthType.POLKIT)) {
      throw LibvirtError.of(VirErrorNumber.AUTH_FAILED, VirErrorDomain.RPC, `unsupported authentication types ${auth.join(',')}`);
    }
    const { complete } = await rpc.call('AUTH_POLKIT', undefined);
    if (complete !== 1) throw LibvirtError.of(VirErrorNumber.AUTH_FAILED, VirErrorDomain.RPC, 'polkit authentication incomplete');
  }
  await rpc.call('CONNECT_SUPPORTS_FEATURE', { feature: DrvFeature.PROGRAM_KEEPALIVE });
  await rpc.call('CONNECT_OPEN', { name, flags: readonly ? 1 : 0 });
  await rpc.call('CONNECT_SUPPORTS_FEATURE', { feature: DrvFeature.REMOTE_EVENT_CALLBACK });
  const close = await rpc.call('CONNECT_SUPPORTS_FEATURE', { feature: DrvFeature.REMOTE_CLOSE_CALLBACK });
  if (close.supported === 1) await rpc.call('CONNECT_REGISTER_CLOSE_CALLBACK', undefined);
  return { closeCallback: close.supported === 1 };
}

/** Opens a connection, e.g. `connect('qemu+unix:///system?socket=/tmp/fake.sock')`. */
export async function connect(uri: string, opts: ConnectOptions = {}): Promise<LibvirtClient> {
  const parsed = parseUri(uri, { readonly: opts.readonly ?? false });
  const stream = opts.stream ?? (await dialUnix(parsed.socketPath, { timeoutMs: opts.connectTimeoutMs ?? 10_000 }));
  const rpc = new RpcConnection(stream, { callTimeoutMs: opts.callTimeoutMs ?? 60_000 });
  try {
    const { closeCallback } = await handshake(rpc, parsed.name, opts.readonly ?? false);
    return new LibvirtClient(rpc, parsed.name, closeCallback);
  } catch (e) {
    rpc.close();
    throw e;
  }
}

export class LibvirtClient extends EventEmitter<ClientEvents> {
  readonly rpc: RpcConnection;
  /** The name sent in CONNECT_OPEN, e.g. `test:///default`. */
  readonly uri: string;
  private readonly closeCallback: boolean;
  private typedParamStringOk: boolean | null = null;

  constructor(rpc: RpcConnection, uri: string, closeCallback: boolean) {
    super();
    this.rpc = rpc;
    this.uri = uri;
    this.closeCallback = closeCallback;
    rpc.on('event', (ev) => {
      if (ev.name === 'DOMAIN_EVENT_CALLBACK_LIFECYCLE') this.emit('lifecycle', ev.msg as DomainLifecycleEvent);
      this.emit('event', ev);
    });
    rpc.on('close', (err) => this.emit('close', err));
  }

  /** Any procedure of the table, typed by name. */
  call<N extends CallName>(name: N, args: ArgsOf<N>, opts?: CallOptions): Promise<RetOf<N>> {
    return this.rpc.call(name, args, opts);
  }

  /** Unregisters the close callback and closes the connection as virsh does (361, then 2). */
  async close(): Promise<void> {
    if (this.rpc.closed) return;
    try {
      if (this.closeCallback) await this.call('CONNECT_UNREGISTER_CLOSE_CALLBACK', undefined);
      await this.call('CONNECT_CLOSE', undefined);
    } finally {
      this.rpc.close();
    }
  }

  // --- connection and host ---

  async supportsFeature(feature: number): Promise<boolean> {
    return (await this.call('CONNECT_SUPPORTS_FEATURE', { feature })).supported === 1;
  }

  async getType(): Promise<string> {
    return (await this.call('CONNECT_GET_TYPE', undefined)).type;
  }

  async getVersion(): Promise<number> {
    return Number((await this.call('CONNECT_GET_VERSION', undefined)).hv_ver);
  }

  async getLibVersion(): Promise<number> {
    return Number((await this.call('CONNECT_GET_LIB_VERSION', undefined)).lib_ver);
  }

  async getHostname(): Promise<string> {
    return (await this.call('CONNECT_GET_HOSTNAME', undefined)).hostname;
  }

  async getURI(): Promise<string> {
    return (await this.call('CONNECT_GET_URI', undefined)).uri;
  }

  async getCapabilities(): Promise<string> {
    return (await this.call('CONNECT_GET_CAPABILITIES', undefined)).capabilities;
  }

  async getDomainCapabilities(q: DomainCapabilitiesQuery = {}): Promise<string> {
    const ret = await this.call('CONNECT_GET_DOMAIN_CAPABILITIES', {
      emulatorbin: q.emulatorbin ?? null,
      arch: q.arch ?? null,
      machine: q.machine ?? null,
      virttype: q.virttype ?? null,
      flags: q.flags ?? 0,
    });
    return ret.capabilities;
  }

  async nodeGetInfo(): Promise<NodeInfo> {
    const r = await this.call('NODE_GET_INFO', undefined);
    return { ...r, memory: Number(r.memory) };
  }

  /** The C client adds VIR_TYPED_PARAM_STRING_OKAY when the server supports feature 9. */
  private async stringOkFlag(): Promise<number> {
    if (this.typedParamStringOk === null) this.typedParamStringOk = await this.supportsFeature(DrvFeature.TYPED_PARAM_STRING);
    return this.typedParamStringOk ? VIR_TYPED_PARAM_STRING_OKAY : 0;
  }

  async nodeGetSevInfo(flags = 0): Promise<TypedParam[]> {
    const f = flags | (await this.stringOkFlag());
    return (await this.call('NODE_GET_SEV_INFO', { nparams: 0, flags: f })).params;
  }

  // --- domains: lookup, listing, definition ---

  async lookupByName(name: string): Promise<DomainRef> {
    return (await this.call('DOMAIN_LOOKUP_BY_NAME', { name })).dom;
  }

  /** Accepts the 16 raw bytes or the textual UUID. */
  async lookupByUUID(uuid: Buffer | string): Promise<DomainRef> {
    const raw = typeof uuid === 'string' ? Buffer.from(uuid.replace(/-/g, ''), 'hex') : uuid;
    return (await this.call('DOMAIN_LOOKUP_BY_UUID', { uuid: raw })).dom;
  }

  async lookupByID(id: number): Promise<DomainRef> {
    return (await this.call('DOMAIN_LOOKUP_BY_ID', { id })).dom;
  }

  /** VIR_CONNECT_LIST_DOMAINS_* flags; 0 lists all. */
  async listAllDomains(flags = 0): Promise<DomainRef[]> {
    return (await this.call('CONNECT_LIST_ALL_DOMAINS', { need_results: 1, flags })).domains;
  }

  async defineXML(xml: string, flags?: number): Promise<DomainRef> {
    if (flags === undefined) return (await this.call('DOMAIN_DEFINE_XML', { xml })).dom;
    return (await this.call('DOMAIN_DEFINE_XML_FLAGS', { xml, flags })).dom;
  }

  async undefine(dom: DomainRef): Promise<void> {
    await this.call('DOMAIN_UNDEFINE', { dom });
  }

  async undefineFlags(dom: DomainRef, flags: number): Promise<void> {
    await this.call('DOMAIN_UNDEFINE_FLAGS', { dom, flags });
  }

  // --- domains: lifecycle ---

  /** Starts a domain and returns it with its new ID (re-looked up by UUID, as the C client does). */
  async domainCreate(dom: DomainRef): Promise<DomainRef> {
    await this.call('DOMAIN_CREATE', { dom });
    return this.lookupByUUID(dom.uuid);
  }

  async domainCreateWithFlags(dom: DomainRef, flags: number): Promise<DomainRef> {
    return (await this.call('DOMAIN_CREATE_WITH_FLAGS', { dom, flags })).dom;
  }

  async destroy(dom: DomainRef, flags?: number): Promise<void> {
    if (flags === undefined) await this.call('DOMAIN_DESTROY', { dom });
    else await this.call('DOMAIN_DESTROY_FLAGS', { dom, flags });
  }

  async shutdown(dom: DomainRef, flags?: number): Promise<void> {
    if (flags === undefined) await this.call('DOMAIN_SHUTDOWN', { dom });
    else await this.call('DOMAIN_SHUTDOWN_FLAGS', { dom, flags });
  }

  async reboot(dom: DomainRef, flags = 0): Promise<void> {
    await this.call('DOMAIN_REBOOT', { dom, flags });
  }

  async suspend(dom: DomainRef): Promise<void> {
    await this.call('DOMAIN_SUSPEND', { dom });
  }

  async resume(dom: DomainRef): Promise<void> {
    await this.call('DOMAIN_RESUME', { dom });
  }

  async managedSave(dom: DomainRef, flags = 0): Promise<void> {
    await this.call('DOMAIN_MANAGED_SAVE', { dom, flags });
  }

  async hasManagedSaveImage(dom: DomainRef, flags = 0): Promise<boolean> {
    return (await this.call('DOMAIN_HAS_MANAGED_SAVE_IMAGE', { dom, flags })).result === 1;
  }

  async managedSaveRemove(dom: DomainRef, flags = 0): Promise<void> {
    await this.call('DOMAIN_MANAGED_SAVE_REMOVE', { dom, flags });
  }

  // --- domains: devices ---

  /** virDomainAttachDeviceFlags; `flags` are virDomainDeviceModifyFlags (1 LIVE, 2 CONFIG, 0 CURRENT). */
  async attachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await this.call('DOMAIN_ATTACH_DEVICE_FLAGS', { dom, xml, flags });
  }

  async detachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await this.call('DOMAIN_DETACH_DEVICE_FLAGS', { dom, xml, flags });
  }

  // --- domains: information ---

  async getXMLDesc(dom: DomainRef, flags = 0): Promise<string> {
    return (await this.call('DOMAIN_GET_XML_DESC', { dom, flags })).xml;
  }

  async getState(dom: DomainRef, flags = 0): Promise<{ state: number; reason: number }> {
    return this.call('DOMAIN_GET_STATE', { dom, flags });
  }

  async getInfo(dom: DomainRef): Promise<VirDomainInfo> {
    const r = await this.call('DOMAIN_GET_INFO', { dom });
    return { state: r.state, maxMem: Number(r.maxMem), memory: Number(r.memory), nrVirtCpu: r.nrVirtCpu, cpuTime: r.cpuTime };
  }

  async isActive(dom: DomainRef): Promise<boolean> {
    return (await this.call('DOMAIN_IS_ACTIVE', { dom })).active === 1;
  }

  async isPersistent(dom: DomainRef): Promise<boolean> {
    return (await this.call('DOMAIN_IS_PERSISTENT', { dom })).persistent === 1;
  }

  async getLaunchSecurityInfo(dom: DomainRef, flags = 0): Promise<TypedParam[]> {
    const f = flags | (await this.stringOkFlag());
    return (await this.call('DOMAIN_GET_LAUNCH_SECURITY_INFO', { dom, flags: f })).params;
  }

  async setLaunchSecurityState(dom: DomainRef, params: TypedParam[], flags = 0): Promise<void> {
    await this.call('DOMAIN_SET_LAUNCH_SECURITY_STATE', { dom, params, flags });
  }

  // --- events ---

  /** Registers for one event ID (all domains unless `dom` is given); returns the callback ID. */
  async domainEventRegister(eventID: number = DomainEventId.LIFECYCLE, dom: DomainRef | null = null): Promise<number> {
    return (await this.call('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY', { eventID, dom })).callbackID;
  }

  async domainEventDeregister(callbackID: number): Promise<void> {
    await this.call('CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY', { callbackID });
  }
}

/** Formats a 16-byte UUID as libvirt prints it. */
export function uuidString(uuid: Buffer): string {
  const h = uuid.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
