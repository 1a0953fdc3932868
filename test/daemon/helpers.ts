/** Shared fixtures for the daemon tests: a fake daemon on a temp socket, guest XML, real-client runners. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLibvirtd, type FakeLibvirtdOptions } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';

export interface FakeDaemon {
  readonly daemon: FakeLibvirtd<FakeHost>;
  readonly host: FakeHost;
  readonly uri: string;
  readonly dir: string;
  /** Writes a file in the daemon's temp directory and returns its path. */
  file(name: string, content: string): string;
  close(): Promise<void>;
}

export async function startFake(profile = 'milan-7003-es8', opts: Partial<FakeLibvirtdOptions> = {}): Promise<FakeDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-daemon-'));
  const host = new FakeHost(loadProfile(profile));
  const daemon = new FakeLibvirtd(host, { socketPath: join(dir, 'sock'), ...opts });
  await daemon.listen();
  return {
    daemon,
    host,
    uri: daemon.uri,
    dir,
    file(name, content) {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    async close() {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

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

export interface GuestOptions {
  readonly name: string;
  readonly uuid: string;
  readonly memoryKiB?: number;
  /** SEV guest (q35, OVMF pflash, locked memory, policy 0x0033). */
  readonly sev?: boolean;
  readonly hardLimitKiB?: number;
}

export function guestXml(o: GuestOptions): string {
  const mem = o.memoryKiB ?? 524288;
  const lines = [
    "<domain type='kvm'>",
    `  <name>${o.name}</name>`,
    `  <uuid>${o.uuid}</uuid>`,
    `  <memory unit='KiB'>${mem}</memory>`,
    '  <vcpu>1</vcpu>',
    ...(o.hardLimitKiB ? [`  <memtune><hard_limit unit='KiB'>${o.hardLimitKiB}</hard_limit></memtune>`] : []),
    ...(o.sev ? ['  <memoryBacking><locked/></memoryBacking>'] : []),
    '  <os>',
    "    <type arch='x86_64' machine='q35'>hvm</type>",
    ...(o.sev
      ? ["    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>", `    <nvram>/var/lib/libvirt/qemu/nvram/${o.name}_VARS.fd</nvram>`]
      : []),
    '  </os>',
    // libvirt's QEMU driver refuses UEFI (the pflash loader) on x86 without ACPI.
    ...(o.sev ? ['  <features><acpi/></features>'] : []),
    ...(o.sev ? ["  <launchSecurity type='sev'><policy>0x0033</policy></launchSecurity>"] : []),
    '</domain>',
  ];
  return `${lines.join('\n')}\n`;
}

export const SEV_GUEST = { name: 'sevguest', uuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809', sev: true } as const;
export const PLAIN_GUEST = { name: 'plainguest', uuid: '5b9f3c2e-1d4a-4e8b-9c7d-2a1b3c4d5e6f', sev: false } as const;
