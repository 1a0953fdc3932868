/**
 * Dialing the daemon: a UNIX stream socket, with a connect timeout; or, for a daemon in this same
 * process that offers it, an in-memory connection to it (same bytes, no kernel in between).
 */
import { connect as netConnect } from 'node:net';
import { resolve as absolutePath } from 'node:path';
import type { Duplex } from 'node:stream';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from './errors.ts';

/** Daemons of this process that serve clients without the socket, by the socket path they listen on. */
const inProcessDaemons = new Map<string, () => Duplex>();

/**
 * Lets clients of this process that dial `socketPath` reach its daemon through `open` (a new
 * in-memory connection each time) instead of the socket; returns the withdrawal.
 */
export function offerInProcess(socketPath: string, open: () => Duplex): () => void {
  const key = absolutePath(socketPath);
  inProcessDaemons.set(key, open);
  return () => {
    if (inProcessDaemons.get(key) === open) inProcessDaemons.delete(key);
  };
}

export interface DialOptions {
  /** Give up if the socket has not connected after this many milliseconds. */
  readonly timeoutMs?: number;
}

/** Connects to a UNIX socket; failures become LibvirtError SYSTEM_ERROR like the C client's. */
export function dialUnix(path: string, opts: DialOptions = {}): Promise<Duplex> {
  const local = inProcessDaemons.get(absolutePath(path));
  if (local) return Promise.resolve(local());
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const sock = netConnect({ path });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(LibvirtError.of(VirErrorNumber.SYSTEM_ERROR, VirErrorDomain.RPC, `timed out connecting to socket '${path}'`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new LibvirtError({
          code: VirErrorNumber.SYSTEM_ERROR,
          domain: VirErrorDomain.RPC,
          message: `Failed to connect socket to '${path}': ${e.message}`,
        }),
      );
    });
  });
}
