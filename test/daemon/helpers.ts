/** Shared fixtures for the daemon tests: a fake daemon on a temp socket, guest XML, real-client runners. */
import { execFile } from 'node:child_process';

/** The fake daemon and guest XML live in fakelibvirt/testing/ (benches use them too). */
export { startFake, type FakeDaemon } from '../../fakelibvirt/testing/daemon.ts';
export { guestXml, SEV_GUEST, PLAIN_GUEST, type GuestOptions } from '../../fakelibvirt/testing/guest-xml.ts';

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without blocking the event loop (the daemon under test lives in this process). */
export function run(cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ status, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function virsh(uri: string, ...args: string[]): Promise<RunResult> {
  return run('/usr/bin/virsh', ['-c', uri, ...args]);
}

/** Runs a libvirt-python script; the script prints JSON on its last line. */
export async function python(script: string, ...args: string[]): Promise<RunResult> {
  return run('/usr/bin/python3', ['-c', script, ...args]);
}
