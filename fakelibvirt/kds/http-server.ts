/**
 * The fake KDS over plain HTTP on loopback, for clients in other languages: each request is turned
 * into a fetch `Request` on the KDS origin and answered by msw's `getResponse` over the same handler
 * list the in-process mode uses, so routing and answers exist once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getResponse, type RequestHandler } from 'msw';
import { KDS_ORIGIN } from './handlers.ts';

export interface KdsServer {
  /** http://127.0.0.1:PORT — use it in place of https://kdsintf.amd.com. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

async function answer(handlers: readonly RequestHandler[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
  // Only GET routes exist; bodies are not read.
  const request = new Request(new URL(req.url ?? '/', KDS_ORIGIN), { method: req.method ?? 'GET', headers });
  const response = await getResponse([...handlers], request);
  if (!response) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...Object.fromEntries(response.headers), 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Listens on 127.0.0.1 only (port 0: any free port). */
export function startKdsServer(handlers: readonly RequestHandler[], port: number): Promise<KdsServer> {
  const server: Server = createServer((req, res) => {
    answer(handlers, req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${e instanceof Error ? e.message : String(e)}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const actual = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${actual}`,
        port: actual,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
