/**
 * A guest owner's toolkit for the attestation tests: fake daemons with their sysroots (the firmware
 * images QEMU measured), sessions made from the PDH the host exports, guest XML carrying them, and
 * libvirt's own validator run as a separate process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLibvirtd } from '../../fakelibvirt/daemon/server.ts';
import { createSession, type OwnerSession } from '../../fakelibvirt/firmware/session.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { materializeSysroot } from '../../fakelibvirt/views/sysroot.ts';
import { requireRealStack } from '../../containers/real-stack.ts';
import { fileWriter } from '../../fakelibvirt/testing/daemon.ts';
import { exportedPdh, sevGuestXml, type GuestSpec } from '../../fakelibvirt/testing/guest-xml.ts';

/** Owner-side guest XML lives in fakelibvirt/testing/ (the attestation bench uses it too). */
export { exportedPdh, sevGuestXml, type GuestSpec } from '../../fakelibvirt/testing/guest-xml.ts';

export const VALIDATOR = '/usr/bin/virt-qemu-sev-validate';
/** Debian's python3 with lxml, cryptography and libvirt; the script's `env python3` may find another. */
export const PYTHON = '/usr/bin/python3';

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ status, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The validator and the Python modules it imports; CI=true fails when any is missing. */
export async function requireValidator(): Promise<boolean> {
  const stack = requireRealStack([VALIDATOR, PYTHON]);
  if (!stack.available) return false;
  const probe = await run(PYTHON, ['-c', 'import lxml, cryptography, libvirt']);
  if (probe.status === 0) return true;
  const msg = `python3-lxml, python3-cryptography or python3-libvirt missing: ${probe.stderr.trim()}`;
  if (process.env.CI === 'true') throw new Error(`${msg} (required because CI=true)`);
  process.stderr.write(`NOTICE: skipping validator tests, ${msg}\n`);
  return false;
}

export interface ServedHost {
  readonly host: FakeHost;
  readonly uri: string;
  readonly sysroot: string;
  readonly daemon: FakeLibvirtd<FakeHost>;
}

export interface Lab {
  readonly dir: string;
  readonly hosts: ReadonlyMap<string, ServedHost>;
  /** Writes a file in the lab directory and returns its path. */
  file(name: string, content: string | Uint8Array): string;
  close(): Promise<void>;
}

/** One fake daemon per profile on a socket in a temp directory, each with its sysroot written. */
export async function openLab(profiles: readonly string[]): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-attest-'));
  const hosts = new Map<string, ServedHost>();
  for (const name of profiles) {
    const host = new FakeHost(loadProfile(name));
    const daemon = new FakeLibvirtd(host, { socketPath: join(dir, `${name}.sock`) });
    await daemon.listen();
    const sysroot = join(dir, `${name}-sysroot`);
    materializeSysroot(host.profile, host.kernel, sysroot);
    hosts.set(name, { host, uri: daemon.uri, sysroot, daemon });
  }
  return {
    dir,
    hosts,
    file: fileWriter(dir),
    async close() {
      for (const h of hosts.values()) await h.daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Launched {
  readonly session: OwnerSession;
  readonly tik: string;
  readonly tek: string;
}

/** The owner makes a session for `sessionPolicy`; the host defines and starts the guest paused. */
export function launchPaused(lab: Lab, s: ServedHost, g: Omit<GuestSpec, 'session'>, sessionPolicy = g.policy): Launched {
  const session = createSession(exportedPdh(s.host), sessionPolicy);
  const ref = s.host.defineXML(sevGuestXml(s.host, { ...g, session }));
  s.host.create(ref, 1);
  return { session, tik: lab.file(`${g.name}_tik.bin`, session.tik), tek: lab.file(`${g.name}_tek.bin`, session.tek) };
}

export function validate(args: readonly string[]): Promise<RunResult> {
  return run(PYTHON, [VALIDATOR, ...args]);
}
