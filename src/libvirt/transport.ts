/** Dialing the daemon: a UNIX stream socket, with a connect timeout. */
import { connect as netConnect, type Socket } from 'node:net';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from './errors.ts';

export interface DialOptions {
  /** Give up if the socket has not connected after this many milliseconds. */
  readonly timeoutMs?: number;
}

/** Connects to a UNIX socket; failures become LibvirtError SYSTEM_ERROR like the C client's. */
export function dialUnix(path: string, opts: DialOptions = {}): Promise<Socket> {
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
