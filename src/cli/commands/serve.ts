/**
 * `sevharness serve`: one fake libvirtd per hardware profile, each on its own UNIX socket with its
 * host's sysroot written next to it, until SIGINT/SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startControlServer } from '../../../fakelibvirt/control/server.ts';
import { FakeLibvirtd } from '../../../fakelibvirt/daemon/server.ts';
import { DomainStore } from '../../../fakelibvirt/daemon/persistence.ts';
import { FakeHost } from '../../../fakelibvirt/host/fake-host.ts';
import { allProfiles, loadProfile } from '../../../fakelibvirt/profile/load.ts';
import { materializeSysroot } from '../../../fakelibvirt/views/sysroot.ts';
import type { KdsServer } from '../../../fakelibvirt/kds/http-server.ts';
import { makeDirs } from '../../fs/make-dirs.ts';
import { ensureOwnDir } from '../../fs/own-files.ts';
import { optionalString, UsageError, type CliIo, type Command, type ParsedValues } from '../command.ts';
import { serveFleet } from './serve-fleet.ts';

interface Served {
  readonly profile: string;
  readonly daemon: FakeLibvirtd<FakeHost>;
  readonly sysroot: string;
  readonly untrack: (() => void) | null;
  readonly store: DomainStore | null;
}

function strings(values: ParsedValues, key: string): string[] {
  const v = values[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

function parseMode(text: string | undefined): number {
  if (text === undefined) return 0o600;
  if (!/^0?[0-7]{3}$/.test(text)) throw new UsageError(`--socket-mode must be octal like 0600, not '${text}'`);
  return parseInt(text, 8);
}

function parseKdsPort(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--kds-port must be a TCP port (0-65535; 0 picks a free one), not '${text}'`);
  return Number(text);
}

/** Resolves when the process is asked to stop. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

async function start(values: ParsedValues, io: CliIo): Promise<Served[]> {
  const profiles = strings(values, 'profile');
  if (profiles.length === 0) throw new UsageError('at least one --profile is required');
  // Each profile owns <base>/<name> (sysroot, socket, stored domains): two hosts there would overwrite each other.
  const twice = profiles.find((p, i) => profiles.indexOf(p) !== i);
  if (twice !== undefined) throw new UsageError(`--profile ${twice} is given twice; each profile is served once`);
  for (const p of profiles) {
    if (!p.endsWith('.json') && !allProfiles().has(p)) throw new UsageError(`unknown profile '${p}'; known: ${[...allProfiles().keys()].join(', ')}`);
  }
  const sockets = strings(values, 'socket');
  const roSockets = strings(values, 'read-only-socket');
  const stateDir = optionalString(values, 'state-dir');
  const base = stateDir ? resolve(stateDir) : mkdtempSync(join(tmpdir(), 'sevharness-serve-'));
  const mode = parseMode(optionalString(values, 'socket-mode'));
  const served: Served[] = [];
  try {
    for (const [i, name] of profiles.entries()) {
      const profile = loadProfile(name);
      const dir = join(base, profile.name);
      makeDirs(base);
      // Below the base everything is the daemon's own: a symlink planted there is refused, not followed.
      ensureOwnDir(base, dir);
      const host = new FakeHost(profile);
      const sysroot = join(dir, 'sysroot');
      materializeSysroot(profile, host.kernel, sysroot);
      let untrack: (() => void) | null = null;
      let store: DomainStore | null = null;
      if (stateDir) {
        ensureOwnDir(base, join(dir, 'domains'));
        const s = new DomainStore(join(dir, 'domains'));
        // Like libvirtd, a stored definition the host rejects is skipped, but said out loud and its file kept.
        for (const f of s.load(host).failed) io.err(`sevharness serve: ${profile.name}: stored domain ${join(s.dir, f.file)} was not loaded: ${f.error}\n`);
        s.onError = (e) => io.err(`sevharness serve: ${profile.name}: could not store a domain: ${e instanceof Error ? e.message : String(e)}\n`);
        untrack = s.track(host);
        store = s;
      }
      const roSocket = roSockets[i];
      const daemon = new FakeLibvirtd(host, {
        socketPath: resolve(sockets[i] ?? join(dir, 'libvirt-sock')),
        socketMode: mode,
        ...(roSocket !== undefined && { readOnlySocketPath: resolve(roSocket) }),
        ...(store !== null && { durable: () => store.flushed() }),
      });
      served.push({ profile: profile.name, daemon, sysroot, untrack, store });
      await daemon.listen();
    }
  } catch (e) {
    await stop(served);
    if (!stateDir) rmSync(base, { recursive: true, force: true });
    throw e;
  }
  return served;
}

/** Without --state-dir everything lives in a temporary directory of this process: gone when it stops. */
function removeTemporaryBase(values: ParsedValues, served: readonly Served[]): void {
  if (optionalString(values, 'state-dir') !== undefined || served.length === 0) return;
  rmSync(dirname(dirname(served[0]!.sysroot)), { recursive: true, force: true });
}

async function stop(served: readonly Served[]): Promise<void> {
  for (const s of served) {
    s.untrack?.();
    await s.daemon.close();
    await s.store?.flushed();
  }
}

function announce(served: readonly Served[], json: boolean, io: CliIo): void {
  for (const s of served) {
    const { daemon } = s;
    if (json) {
      io.out(`${JSON.stringify({ uri: daemon.uri, socket: daemon.socketPath, sysroot: s.sysroot, profile: s.profile, ...(daemon.readOnlyUri && { readOnlyUri: daemon.readOnlyUri }) })}\n`);
    } else {
      io.out(`${s.profile}\n  uri:     ${daemon.uri}\n${daemon.readOnlyUri ? `  ro uri:  ${daemon.readOnlyUri}\n` : ''}  sysroot: ${s.sysroot}\n`);
    }
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run fake libvirtd daemons (one per profile) on UNIX sockets until SIGINT/SIGTERM',
  usage: '--profile P [--profile P2 …] [--socket PATH …] [--read-only-socket PATH …] [--state-dir DIR] [--socket-mode 0600] [--kds-port PORT] [--control PATH] [--json] | --fleet SPEC [--state-dir DIR] [--json]',
  options: {
    profile: { type: 'string', short: 'p', multiple: true },
    socket: { type: 'string', short: 's', multiple: true },
    'read-only-socket': { type: 'string', multiple: true },
    'state-dir': { type: 'string' },
    'socket-mode': { type: 'string' },
    'kds-port': { type: 'string' },
    /** The control socket (fakelibvirt/control/server.ts): faults and inspection over HTTP/JSON. */
    control: { type: 'string' },
    json: { type: 'boolean' },
    /** Many hosts from one process, a socket each (serve-fleet.ts): `milan-7003-es8:100,genoa-9004:50` or a JSON file. */
    fleet: { type: 'string' },
  },
  async run(values, _positionals, io) {
    if (values.fleet !== undefined) return serveFleet(values, io);
    const stopped = untilSignal();
    const kdsPort = parseKdsPort(optionalString(values, 'kds-port'));
    const served = await start(values, io);
    let kds: KdsServer | null = null;
    let control: Awaited<ReturnType<typeof startControlServer>> | null = null;
    try {
      // The fake AMD KDS for the served hosts' chips, on loopback only. Loaded only here: msw and
      // the X.509 library cost every other command a tenth of a second at start.
      if (kdsPort !== null) {
        const [{ kdsHandlers }, { startKdsServer }] = await Promise.all([import('../../../fakelibvirt/kds/handlers.ts'), import('../../../fakelibvirt/kds/http-server.ts')]);
        kds = await startKdsServer(kdsHandlers(strings(values, 'profile').map((p) => loadProfile(p))), kdsPort);
      }
      const controlPath = optionalString(values, 'control');
      if (controlPath !== undefined) control = await startControlServer(served.map((s) => ({ name: s.profile, daemon: s.daemon, sysroot: s.sysroot })), resolve(controlPath));
    } catch (e) {
      await kds?.close();
      await stop(served);
      removeTemporaryBase(values, served);
      throw e;
    }
    announce(served, values.json === true, io);
    if (kds) io.out(values.json === true ? `${JSON.stringify({ kds: kds.url })}\n` : `kds\n  url:     ${kds.url}\n`);
    if (control) io.out(values.json === true ? `${JSON.stringify({ control: control.socketPath })}\n` : `control\n  socket:  ${control.socketPath}\n`);
    await stopped;
    await control?.close();
    await kds?.close();
    await stop(served);
    removeTemporaryBase(values, served);
    return 0;
  },
};
