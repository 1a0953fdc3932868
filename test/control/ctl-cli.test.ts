/**
 * `sevharness ctl` against a control socket: the verbs, their output for shell scripts, exit codes
 * (0 done, 1 refused by the host, 2 usage), and the socket's safe creation (a stale socket is
 * replaced, a live one or a non-socket file is never taken over).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer, startControlServer } from '../../fakelibvirt/control/server.ts';
import { syncSysroot } from '../../fakelibvirt/control/sysroot-sync.ts';
import { FakeLibvirtd, SocketPathError } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { main } from '../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'sevharness-ctl-cli-'));
const sock = join(dir, 'ctl.sock');
const sysroot = join(dir, 'sysroot');
let daemon: FakeLibvirtd<FakeHost>;
let control: Awaited<ReturnType<typeof startControlServer>>;

async function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['ctl', '--control', sock, ...args], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  const host = new FakeHost(loadProfile('naples-7001'));
  syncSysroot(host, sysroot);
  daemon = new FakeLibvirtd(host, { socketPath: join(dir, 'libvirt-sock') });
  await daemon.listen();
  control = await startControlServer([{ name: 'naples-7001', daemon, sysroot }], sock);
});

afterAll(async () => {
  await control.close();
  await daemon.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sevharness ctl', () => {
  it('use devSev missing removes /dev/sev from the sysroot until reset', async () => {
    expect(statSync(join(sysroot, 'dev/sev')).isFile()).toBe(true);
    expect(await ctl('use', 'devSev', 'missing')).toEqual({ code: 0, out: '1\tdevSev missing\t(until reset)\n', err: '' });
    expect(() => statSync(join(sysroot, 'dev/sev'))).toThrow(/ENOENT/);
    expect(await ctl('reset')).toEqual({ code: 0, out: '', err: '' });
    expect(statSync(join(sysroot, 'dev/sev')).mode & 0o777).toBe(0o600);
  });

  it('lists handlers with the uses left, as text or JSON', async () => {
    await ctl('use', 'firmware', 'LAUNCH_START', 'RESOURCE_LIMIT', 'times=2');
    await ctl('use', 'kernelParam', 'sev', '0');
    expect((await ctl('list')).out).toBe('3\tkernelParam sev 0\t(until reset)\n2\tfirmware LAUNCH_START RESOURCE_LIMIT times=2\t(2 left)\n');
    const json = JSON.parse((await ctl('list', '--json')).out) as Array<{ remaining: unknown }>;
    expect(json.map((h) => h.remaining)).toEqual([null, 2]);
    const inside = JSON.parse((await ctl('inspect', '--json')).out) as { kernel: { sysfs: { sev: string } }; cmdline: string };
    expect(inside.kernel.sysfs.sev).toBe('0\n');
    expect(inside.cmdline).toMatch(/kvm_amd\.sev=0$/);
    await ctl('reset');
    expect((await ctl('list')).out).toBe('');
  });

  it('usage errors exit 2 with the usage line; a bad fault is a usage error', async () => {
    const bad = await ctl('use', 'firmware', 'LAUNCH_START', 'NOPE');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^sevharness ctl: invalid fault: status: .*\nusage: sevharness ctl --control PATH/);
    expect((await ctl('frobnicate')).code).toBe(2);
    expect((await ctl()).err).toMatch(/a verb is required/);
    expect((await main(['ctl', 'list'], { out: () => undefined, err: () => undefined }))).toBe(2);
  });

  it('a host that refuses (no such host) exits 1 with the reason', async () => {
    const r = await main(['ctl', '--control', sock, '--host', 'rome-7002', 'list'], { out: () => undefined, err: (t) => void expect(t).toMatch(/^error: no host 'rome-7002'/) });
    expect(r).toBe(1);
  });

  it('reset-host drops the guests a client defined', async () => {
    daemon.host.defineXML("<domain type='kvm'><name>d</name><memory>65536</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>");
    expect(daemon.host.listAllDomains()).toHaveLength(1);
    expect((await ctl('reset-host')).code).toBe(0);
    expect(daemon.host.listAllDomains()).toEqual([]);
  });
});

describe('the control socket is created safely', () => {
  it('takes over a stale socket, refuses a live one and a plain file', async () => {
    const live = new ControlServer([], { socketPath: sock });
    await expect(live.listen()).rejects.toThrow(SocketPathError);
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'x');
    await expect(new ControlServer([], { socketPath: file }).listen()).rejects.toThrow(/is not a socket/);
    const stalePath = join(dir, 'stale.sock');
    // A process that bound the path and died leaves a socket file nobody answers on.
    expect(spawnSync('/usr/bin/python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stalePath)})`]).status).toBe(0);
    expect(statSync(stalePath).isSocket()).toBe(true);
    const second = new ControlServer([], { socketPath: stalePath, socketMode: 0o600 });
    await second.listen();
    expect(statSync(stalePath).mode & 0o777).toBe(0o600);
    await second.close();
  });
});
