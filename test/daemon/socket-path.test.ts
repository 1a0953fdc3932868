/** Where a daemon may listen: it never deletes a live daemon's socket or a file that is not a socket. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeLibvirtd, SocketPathError } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { connect } from '../../src/libvirt/client.ts';
import { startFake, type FakeDaemon } from './helpers.ts';

const started: FakeDaemon[] = [];
afterEach(async () => {
  for (const d of started.splice(0)) await d.close();
});

function daemonAt(socketPath: string): FakeLibvirtd<FakeHost> {
  return new FakeLibvirtd(new FakeHost(loadProfile('rome-7002')), { socketPath });
}

describe('FakeLibvirtd socket paths', () => {
  it('a second daemon on a live socket fails, and closing it leaves the first one reachable', async () => {
    const first = await startFake('rome-7002');
    started.push(first);
    const second = daemonAt(first.daemon.socketPath);
    await expect(second.listen()).rejects.toThrow(new SocketPathError(`${first.daemon.socketPath} is in use by another daemon`));
    await second.close();
    expect(existsSync(first.daemon.socketPath)).toBe(true);
    const client = await connect(first.uri);
    expect(await client.getHostname()).toBeTypeOf('string');
    await client.close();
  });

  it('a regular file at the socket path is refused and kept', async () => {
    const fake = await startFake('rome-7002');
    started.push(fake);
    const file = join(fake.dir, 'notes.txt');
    writeFileSync(file, 'keep me\n');
    const daemon = daemonAt(file);
    await expect(daemon.listen()).rejects.toThrow(`${file} exists and is not a socket; not replacing it`);
    await daemon.close();
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
  });
});
