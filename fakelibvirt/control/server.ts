/**
 * The control plane over the wire, as moto's /moto-api: HTTP/JSON on a UNIX socket of its own
 * (never a libvirt socket), so a test in any language injects faults and looks inside the hosts
 * `serve` runs. Every host's `host.control` is reachable; the host is chosen with `?host=NAME`
 * (optional when one host is served).
 *
 *   GET    /                 → { hosts: [name…], faultKinds: […] }
 *   GET    /faults           → the handlers, newest first (listHandlers)
 *   POST   /faults           → body: a fault or an array of faults (use); answers the handlers
 *   DELETE /faults           → resetHandlers: the host exactly as its profile made it
 *   GET    /inspect          → ASIDs, pinned memory, guests and their firmware states, events,
 *                              handlers, libvirt secrets (values left out)
 *   POST   /reset            → the whole host anew: handlers, guests, definitions, secrets, events
 *   POST   /snp-report       → body { domain, reportData: 128 hex digits, vmpl? }: the running SNP
 *                              guest's ATTESTATION_REPORT as its firmware signs it, base64 (as a
 *                              guest's SNP_GUEST_REQUEST would get it; 409 when the guest cannot ask)
 *
 * Errors are JSON `{ "error": text }`: 400 for a malformed fault, 404 for an unknown path or host,
 * 405 for a wrong method, 409 for a fault the host cannot take now (kvm_amd in use), 413 for a body
 * over 1 MiB.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { removeStaleSocket, withUmask } from '../daemon/server.ts';
import type { FakeHost } from '../host/fake-host.ts';
import type { SecretStore } from '../libvirt/secret-store.ts';
import { SnpGuestRequestError } from '../firmware/snp/guest-request.ts';
import { LibvirtError } from '../../src/libvirt/errors.ts';
import { FAULT_KINDS, FaultError } from './fault.ts';
import { followSysroot } from './sysroot-sync.ts';

export interface ControlledHost {
  readonly name: string;
  /** Its secrets are listed by inspect (values left out) and dropped by reset with everything else. */
  readonly host: FakeHost;
}

export interface ControlServerOptions {
  readonly socketPath: string;
  /** Default 0600: whoever may inject faults may break every guest. */
  readonly socketMode?: number;
}

const MAX_BODY = 1 << 20;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ControlServer {
  private server: Server | null = null;
  private readonly hosts: ReadonlyMap<string, ControlledHost>;

  constructor(
    hosts: readonly ControlledHost[],
    private readonly opts: ControlServerOptions,
  ) {
    this.hosts = new Map(hosts.map((h) => [h.name, h]));
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  async listen(): Promise<void> {
    await removeStaleSocket(this.opts.socketPath);
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
      // Born with its final mode, as the daemon's sockets are (no chmod by path afterwards).
      withUmask(0o777 & ~(this.opts.socketMode ?? 0o600), () => server.listen(this.opts.socketPath));
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    rmSync(this.opts.socketPath, { force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://control');
      const body = await readBody(req);
      const out = this.route(req.method ?? 'GET', url, body);
      send(res, 200, out);
    } catch (e) {
      if (e instanceof HttpError) send(res, e.status, { error: e.message });
      else if (e instanceof FaultError) send(res, e.conflict ? 409 : 400, { error: e.message });
      else if (e instanceof SnpGuestRequestError) send(res, 409, { error: e.message });
      else if (e instanceof LibvirtError) send(res, 404, { error: e.message });
      else send(res, 500, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  private route(method: string, url: URL, body: unknown): unknown {
    if (url.pathname === '/') {
      allow(method, ['GET']);
      return { hosts: [...this.hosts.keys()], faultKinds: FAULT_KINDS };
    }
    const target = this.pick(url.searchParams.get('host'));
    const control = target.host.control;
    switch (url.pathname) {
      case '/faults':
        allow(method, ['GET', 'POST', 'DELETE']);
        if (method === 'POST') {
          if (body === undefined) throw new HttpError(400, 'POST /faults needs a fault (or an array of faults) as its JSON body');
          control.use(...(Array.isArray(body) ? body : [body]));
        } else if (method === 'DELETE') {
          control.resetHandlers();
        }
        return { handlers: control.listHandlers() };
      case '/inspect':
        allow(method, ['GET']);
        return { host: target.name, ...control.inspect(), secrets: secretsOf(target.host.secrets) };
      case '/reset':
        allow(method, ['POST']);
        control.reset();
        return { host: target.name, reset: true };
      case '/snp-report': {
        allow(method, ['POST']);
        const { domain, reportData, vmpl } = snpReportRequestOf(body);
        const report = target.host.control.snpGuestReport(domain, reportData, vmpl === undefined ? {} : { vmpl });
        return { host: target.name, domain, report: report.toString('base64') };
      }
      default:
        throw new HttpError(404, `no such control resource: ${url.pathname}`);
    }
  }

  private pick(name: string | null): ControlledHost {
    if (name === null) {
      if (this.hosts.size === 1) return [...this.hosts.values()][0]!;
      throw new HttpError(400, `several hosts are served; name one with ?host= (${[...this.hosts.keys()].join(', ')})`);
    }
    const h = this.hosts.get(name);
    if (!h) throw new HttpError(404, `no host '${name}' here (served: ${[...this.hosts.keys()].join(', ')})`);
    return h;
  }
}

/** `{ domain, reportData: hex (64 bytes), vmpl? }`, checked before the guest is asked. */
function snpReportRequestOf(body: unknown): { domain: string; reportData: Buffer; vmpl?: number } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.domain !== 'string' || b.domain === '') throw new HttpError(400, 'POST /snp-report needs "domain": the guest\'s name');
  if (typeof b.reportData !== 'string' || !/^[0-9a-fA-F]{128}$/.test(b.reportData)) {
    throw new HttpError(400, 'POST /snp-report needs "reportData": 64 bytes as 128 hex digits');
  }
  if (b.vmpl !== undefined && (typeof b.vmpl !== 'number' || !Number.isInteger(b.vmpl))) throw new HttpError(400, '"vmpl" must be an integer');
  return { domain: b.domain, reportData: Buffer.from(b.reportData, 'hex'), ...(b.vmpl !== undefined && { vmpl: b.vmpl as number }) };
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) throw new HttpError(405, `method ${method} not allowed here (allowed: ${methods.join(', ')})`);
}

function secretsOf(store: SecretStore) {
  return store.all().map((s) => ({
    uuid: s.uuid,
    usageType: s.usageType,
    usageID: s.usageID,
    ephemeral: s.ephemeral,
    private: s.isPrivate,
    valueBytes: s.value?.length ?? null,
  }));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** What `serve` hands over per host: its daemon and its materialised sysroot. */
export interface ServedHost {
  readonly name: string;
  readonly daemon: { readonly host: FakeHost };
  readonly sysroot: string;
}

/**
 * `serve --control PATH`: one control socket for every served host; each host's sysroot follows
 * its faults from now on. `close()` stops both.
 */
export async function startControlServer(served: readonly ServedHost[], socketPath: string): Promise<{ readonly socketPath: string; close(): Promise<void> }> {
  const server = new ControlServer(
    served.map((s) => ({ name: s.name, host: s.daemon.host })),
    { socketPath },
  );
  const unfollow = served.map((s) => followSysroot(s.daemon.host, s.sysroot));
  try {
    await server.listen();
  } catch (e) {
    for (const u of unfollow) u();
    throw e;
  }
  return {
    socketPath,
    async close() {
      for (const u of unfollow) u();
      await server.close();
    },
  };
}
