/**
 * Connection URIs as the libvirt remote driver reads them (remote_driver.c doRemoteOpen,
 * remote_sockets.c): which socket to dial and which name to send in CONNECT_OPEN.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ParsedUri {
  /** Hypervisor driver, e.g. "qemu" or "test". */
  readonly driver: string;
  /** Transport part of the scheme ("unix" when none was given). */
  readonly transport: string;
  /** UNIX socket to dial. */
  readonly socketPath: string;
  /** Name sent in CONNECT_OPEN: the URI without transport and client-only parameters. */
  readonly name: string;
}

export interface UriOptions {
  readonly readonly?: boolean;
  /** File existence check; injectable so socket discovery can be tested. */
  readonly exists?: (path: string) => boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Query parameters the remote driver consumes itself and never forwards to the server. */
const CLIENT_PARAMS = new Set([
  'name',
  'command',
  'socket',
  'auth',
  'netcat',
  'keyfile',
  'sshauth',
  'no_verify',
  'no_tty',
  'pkipath',
  'known_hosts',
  'known_hosts_verify',
  'tls_priority',
  'mode',
  'proxy',
]);

export class UriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UriError';
  }
}

export function parseUri(uri: string, opts: UriOptions = {}): ParsedUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UriError(`cannot parse connection URI '${uri}'`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const [driver, transportPart] = scheme.split('+', 2) as [string, string | undefined];
  const transport = transportPart ?? 'unix';
  if (transport !== 'unix') throw new UriError(`transport '${transport}' is not supported (only unix)`);
  if (url.hostname !== '') throw new UriError(`remote host '${url.hostname}' needs a network transport; only unix is supported`);

  const forwarded = new URLSearchParams();
  for (const [k, v] of url.searchParams) if (!CLIENT_PARAMS.has(k)) forwarded.append(k, v);
  const query = forwarded.toString();
  const name = url.searchParams.get('name') ?? `${driver}://${url.pathname}${query ? `?${query}` : ''}`;

  const explicit = url.searchParams.get('socket');
  const socketPath = explicit ?? defaultSocket(driver, url.pathname, url.searchParams.get('mode'), opts);
  return { driver, transport, socketPath, name };
}

/** Socket discovery without `socket=`: modular daemon if its socket exists, else the monolithic one. */
function defaultSocket(driver: string, path: string, mode: string | null, opts: UriOptions): string {
  const exists = opts.exists ?? existsSync;
  const env = opts.env ?? process.env;
  const ro = opts.readonly ? '-ro' : '';
  const session = path === '/session';
  const base = session ? join(env.XDG_RUNTIME_DIR ?? join(env.HOME ?? '/', '.cache'), 'libvirt') : '/run/libvirt';
  const legacy = join(base, `libvirt-sock${session ? '' : ro}`);
  const direct = join(base, `virt${driver}d-sock${session ? '' : ro}`);
  if (mode === 'legacy') return legacy;
  if (mode === 'direct') return direct;
  return exists(direct) ? direct : legacy;
}
