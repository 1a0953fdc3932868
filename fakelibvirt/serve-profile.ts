/**
 * One profile served as `sevharness serve --profile P` serves it, from a program: a FakeHost, its
 * sysroot written to disk, a fake libvirtd on a UNIX socket and, when asked, the control socket.
 * What a test that drives a real libvirt client (virsh, libvirt-python, our own client) needs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureOwnDir } from '../src/fs/own-files.ts';
import { makeDirs } from '../src/fs/make-dirs.ts';
import { startControlServer } from './control/server.ts';
import { FakeLibvirtd } from './daemon/server.ts';
import { FakeHost } from './host/fake-host.ts';
import { loadProfile } from './profile/load.ts';
import type { HardwareProfile } from './profile/schema.ts';
import { materializeSysroot } from './views/sysroot.ts';

export interface ServeProfileOptions {
  /** Directory for the socket and the sysroot; default a new temporary one, removed by close(). */
  readonly dir?: string;
  /** The read-write socket; default `<dir>/libvirt-sock`. */
  readonly socketPath?: string;
  /** Also serve the control socket (faults and inspection over HTTP/JSON) at `<dir>/control-sock`. */
  readonly control?: boolean;
}

export interface ServedProfile {
  readonly host: FakeHost;
  /** `qemu+unix:///system?socket=…`: what any libvirt client connects to. */
  readonly uri: string;
  readonly socketPath: string;
  /** The host's files (/proc/cpuinfo, /sys/module/kvm_amd/parameters/sev, /dev/sev, …) under this root. */
  readonly sysroot: string;
  /** The control socket, when `control` was asked for (ControlClient speaks to it). */
  readonly controlSocket: string | null;
  /** Stops the daemon (and control socket); removes the directory when it was a temporary one. */
  close(): Promise<void>;
}

/** Serves one hardware profile (a bundled name, a .json path, or a profile object) until close(). */
export async function serveProfile(profile: string | HardwareProfile, opts: ServeProfileOptions = {}): Promise<ServedProfile> {
  const p = typeof profile === 'string' ? loadProfile(profile) : profile;
  const temporary = opts.dir === undefined;
  const base = temporary ? mkdtempSync(join(tmpdir(), 'sevharness-serve-')) : resolve(opts.dir!);
  const removeBase = () => {
    if (temporary) rmSync(base, { recursive: true, force: true });
  };
  try {
    makeDirs(base);
    const sysroot = join(base, 'sysroot');
    // Below the base everything is ours: a symlink planted there is refused, not followed.
    ensureOwnDir(base, sysroot);
    const host = new FakeHost(p);
    materializeSysroot(p, host.kernel, sysroot);
    const daemon = new FakeLibvirtd(host, { socketPath: resolve(opts.socketPath ?? join(base, 'libvirt-sock')) });
    await daemon.listen();
    let control: Awaited<ReturnType<typeof startControlServer>> | null = null;
    try {
      if (opts.control) control = await startControlServer([{ name: p.name, daemon, sysroot }], join(base, 'control-sock'));
    } catch (e) {
      await daemon.close();
      throw e;
    }
    const ctl = control;
    return {
      host,
      uri: daemon.uri,
      socketPath: daemon.socketPath,
      sysroot,
      controlSocket: ctl?.socketPath ?? null,
      async close() {
        await ctl?.close();
        await daemon.close();
        removeBase();
      },
    };
  } catch (e) {
    removeBase();
    throw e;
  }
}
