/** The client pointed at a UNIX socket whose server is not libvirtd. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/libvirt/client.ts';

let server: Server | null = null;
let dir = '';
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('a socket that is not a libvirt daemon', () => {
  it('a server answering with text fails the connect with a message saying it does not speak the protocol', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sevharness-not-libvirt-'));
    const path = join(dir, 'sock');
    server = createServer((s) => {
      sockets.push(s);
      s.end('HELLO I AM NOT LIBVIRT\r\n'.repeat(3));
    });
    await new Promise<void>((r) => server!.listen(path, r));
    await expect(connect(`qemu+unix:///system?socket=${path}`)).rejects.toThrow(
      "internal error: client socket is closed: the server does not speak libvirt's RPC protocol: packet length 1212501068 exceeds the 33554432-byte limit",
    );
  });
});
