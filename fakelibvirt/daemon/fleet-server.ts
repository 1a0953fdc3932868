/**
 * Serving a FakeFleet from one process: one fake libvirtd per host, each on its own UNIX socket
 * (`<base>/<host>/libvirt-sock`) with its host's sysroot beside it. A socket per host is what every
 * libvirt client can use as it is (`qemu+unix:///system?socket=PATH`); libvirt's URIs have no way
 * to name one of several hosts behind one socket. An idle served host costs a listening socket and
 * its FakeHost (whose immutable parts the fleet shares per profile); the worker threads for large
 * calls are shared by all (offload/pool.ts).
 */
import { join } from 'node:path';
import type { FakeFleet, FleetMember } from '../fleet/fake-fleet.ts';
import type { FakeHost } from '../host/fake-host.ts';
import { materializeSysroot } from '../views/sysroot.ts';
import { ensureOwnDir } from '../../src/fs/own-files.ts';
import { FakeLibvirtd } from './server.ts';

export interface FleetServeOptions {
  /** The directory under which each host gets `<name>/libvirt-sock` and `<name>/sysroot`; the caller's own. */
  readonly base: string;
  readonly socketMode?: number;
  /** Write each host's sysroot (default true). */
  readonly sysroot?: boolean;
}

export interface ServedHost {
  readonly name: string;
  readonly profile: string;
  readonly daemon: FakeLibvirtd<FakeHost>;
  readonly sysroot: string | null;
}

export class ServedFleet {
  private constructor(readonly hosts: readonly ServedHost[]) {}

  /** Starts a daemon for every member; on any failure the ones started are closed again. */
  static async start(fleet: FakeFleet, opts: FleetServeOptions): Promise<ServedFleet> {
    const hosts: ServedHost[] = [];
    try {
      for (const m of fleet) hosts.push(await serveMember(m, opts));
    } catch (e) {
      await new ServedFleet(hosts).close();
      throw e;
    }
    return new ServedFleet(hosts);
  }

  /** What `serve --fleet --json` prints: one line per host. */
  announcements(): { name: string; profile: string; uri: string; socket: string; sysroot: string | null }[] {
    return this.hosts.map((h) => ({ name: h.name, profile: h.profile, uri: h.daemon.uri, socket: h.daemon.socketPath, sysroot: h.sysroot }));
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.daemon.close()));
  }
}

async function serveMember(m: FleetMember, opts: FleetServeOptions): Promise<ServedHost> {
  const dir = join(opts.base, m.name);
  ensureOwnDir(opts.base, dir);
  let sysroot: string | null = null;
  if (opts.sysroot !== false) {
    sysroot = join(dir, 'sysroot');
    materializeSysroot(m.profile, m.host.kernel, sysroot);
  }
  const daemon = new FakeLibvirtd(m.host, { socketPath: join(dir, 'libvirt-sock'), socketMode: opts.socketMode ?? 0o600 });
  await daemon.listen();
  return { name: m.name, profile: m.profile.name, daemon, sysroot };
}
