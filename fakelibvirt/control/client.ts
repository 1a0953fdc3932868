/**
 * A client of the control socket (`serve --control PATH`) for TypeScript tests and `sevharness ctl`:
 * the same verbs as `host.control`, over HTTP/JSON on the UNIX socket.
 */
import { request } from 'node:http';
import type { Fault } from './fault.ts';
import type { HandlerInfo } from './host-control.ts';

/** The control server answered with an error: its HTTP status and message. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ControlClient {
  /** @param host which served host to control; may be left out when one is served */
  constructor(
    readonly socketPath: string,
    readonly host?: string,
  ) {}

  async use(...faults: readonly Fault[]): Promise<HandlerInfo[]> {
    return (await this.call<{ handlers: HandlerInfo[] }>('POST', '/faults', faults)).handlers;
  }

  async resetHandlers(): Promise<HandlerInfo[]> {
    return (await this.call<{ handlers: HandlerInfo[] }>('DELETE', '/faults')).handlers;
  }

  async listHandlers(): Promise<HandlerInfo[]> {
    return (await this.call<{ handlers: HandlerInfo[] }>('GET', '/faults')).handlers;
  }

  /** The host's inside view, as JSON (`ControlSnapshot` plus the daemon's secrets). */
  async inspect(): Promise<Record<string, unknown>> {
    return this.call('GET', '/inspect');
  }

  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }

  /** A running SNP guest's attestation report, as its firmware signs it for `reportData` (64 bytes). */
  async snpReport(domain: string, reportData: Uint8Array, vmpl?: number): Promise<Buffer> {
    const body = { domain, reportData: Buffer.from(reportData).toString('hex'), ...(vmpl !== undefined && { vmpl }) };
    return Buffer.from((await this.call<{ report: string }>('POST', '/snp-report', body)).report, 'base64');
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const query = this.host === undefined ? '' : `?host=${encodeURIComponent(this.host)}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path: `${path}${query}`,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let data: unknown;
            try {
              data = JSON.parse(text);
            } catch {
              reject(new ControlError(res.statusCode ?? 0, `the control socket answered something that is not JSON: ${text.slice(0, 200)}`));
              return;
            }
            if (res.statusCode === 200) resolve(data as T);
            else reject(new ControlError(res.statusCode ?? 0, (data as { error?: string }).error ?? `HTTP ${res.statusCode}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
