/**
 * The floor under the daemon's per-call figures (bench/daemon-percall.bench.ts): a server that
 * answers each call of a define → create → destroy → undefine cycle with a reply encoded once in
 * advance, and so does no work at all — what is left of a round trip is the client's own cost and
 * the kernel's (a read, a write and a wakeup on each side). And the fake daemon over a backend
 * that does nothing, which leaves the daemon's own path: framing, dispatch, access checks,
 * argument and reply coding, flow control.
 */
import { createServer, type Server } from 'node:net';
import { encodeErrorReply, encodeReply } from '../src/rpc/codec.ts';
import { unknownProcedureError } from '../src/rpc/errors.ts';
import { procedureByNumber, type CallName } from '../src/rpc/procedures.ts';
import type { LibvirtBackend } from '../fakelibvirt/host/libvirt-backend.ts';

const UUID = 'beeeeeee-1111-4222-8333-444444444444';
const wireDom = (id: number) => ({ name: 'bench', uuid: Buffer.from(UUID.replace(/-/g, ''), 'hex'), id });

/** The replies a C or TypeScript client needs for the handshake, getLibVersion and the cycle. */
const CANNED: { readonly [N in CallName]?: unknown } = {
  AUTH_LIST: { types: [0] },
  CONNECT_SUPPORTS_FEATURE: { supported: 1 },
  CONNECT_OPEN: undefined,
  CONNECT_REGISTER_CLOSE_CALLBACK: undefined,
  CONNECT_UNREGISTER_CLOSE_CALLBACK: undefined,
  CONNECT_CLOSE: undefined,
  CONNECT_GET_LIB_VERSION: { lib_ver: 9000000n },
  DOMAIN_DEFINE_XML: { dom: wireDom(-1) },
  DOMAIN_DEFINE_XML_FLAGS: { dom: wireDom(-1) },
  DOMAIN_CREATE: undefined,
  DOMAIN_LOOKUP_BY_UUID: { dom: wireDom(1) },
  DOMAIN_DESTROY: undefined,
  DOMAIN_UNDEFINE: undefined,
};

/** A reply packet with the call's serial written into a copy of the one encoded in advance. */
function cannedReply(proc: number, serial: number, cache: Map<number, Buffer>): Buffer {
  let packet = cache.get(proc);
  if (packet === undefined) {
    const row = procedureByNumber(proc);
    const name = row?.name as CallName | undefined;
    packet =
      name !== undefined && name in CANNED
        ? encodeReply(name, 0, CANNED[name] as never)
        : encodeErrorReply(proc, 0, unknownProcedureError(proc));
    cache.set(proc, packet);
  }
  const out = Buffer.from(packet);
  out.writeUInt32BE(serial >>> 0, 20);
  return out;
}

/** Listens on `path`; every complete packet read gets its canned reply in one write. */
export async function startNullServer(path: string): Promise<{ readonly uri: string; close(): Promise<void> }> {
  const cache = new Map<number, Buffer>();
  const server: Server = createServer((sock) => {
    let pending: Buffer = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4 && pending.length >= pending.readUInt32BE(0)) {
        const len = pending.readUInt32BE(0);
        sock.write(cannedReply(pending.readInt32BE(12), pending.readUInt32BE(20), cache));
        pending = pending.subarray(len);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    uri: `qemu+unix:///system?socket=${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A backend that answers the handshake, getLibVersion and the cycle with constants: the daemon's own path alone. */
export function idleBackend(): LibvirtBackend {
  const defined = { name: 'bench', uuid: UUID, id: -1 };
  const running = { ...defined, id: 1 };
  const backend = {
    hypervisorType: 'QEMU',
    libVersion: () => 9000000,
    supportsFeature: () => true,
    onLifecycle: () => () => undefined,
    defineXML: () => defined,
    create: () => running,
    lookupByUUID: () => running,
    destroy: () => undefined,
    undefine: () => undefined,
  };
  // Only what the cycle calls exists; any other call would fail as an internal error.
  return backend as unknown as LibvirtBackend;
}
