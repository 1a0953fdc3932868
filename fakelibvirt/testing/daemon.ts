/**
 * A fake libvirtd on a temporary socket, for tests and benches that drive it with a real client
 * (virsh, libvirt-python, our own): one profile's FakeHost, no sysroot on disk.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLibvirtd, type FakeLibvirtdOptions } from '../daemon/server.ts';
import { FakeHost } from '../host/fake-host.ts';
import { loadProfile } from '../profile/load.ts';

/** The daemon as constructed over a FakeHost (its type follows the server's, generic or not). */
function daemonOver(host: FakeHost, opts: FakeLibvirtdOptions) {
  return new FakeLibvirtd(host, opts);
}

export interface FakeDaemon {
  readonly daemon: ReturnType<typeof daemonOver>;
  readonly host: FakeHost;
  readonly uri: string;
  readonly dir: string;
  /** Writes a file in the daemon's temp directory and returns its path. */
  file(name: string, content: string): string;
  close(): Promise<void>;
}

/** A writer of small files (XML documents, keys) into a test's temporary directory; returns the path. */
export function fileWriter(dir: string): (name: string, content: string) => string {
  return (name, content) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
}

export async function startFake(profile = 'milan-7003-es8', opts: Partial<FakeLibvirtdOptions> = {}): Promise<FakeDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-daemon-'));
  const host = new FakeHost(loadProfile(profile));
  const daemon = daemonOver(host, { socketPath: join(dir, 'sock'), ...opts });
  await daemon.listen();
  return {
    daemon,
    host,
    uri: daemon.uri,
    dir,
    file: fileWriter(dir),
    async close() {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
