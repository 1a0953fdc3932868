/**
 * `sevharness real-libvirt --distro bookworm --json`: one JSON line naming a socket a client can
 * use, then on SIGTERM the container is stopped and removed and the command exits 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { requireRealStack } from '../../containers/real-stack.ts';
import { requireContainers } from '../../containers/gate.ts';

const skip = requireContainers(['bookworm']) !== null || !requireRealStack(['virsh']).available;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sevharness.js');

describe.skipIf(skip)('sevharness real-libvirt', () => {
  it('prints {uri, socket, distro, libvirt}, serves virsh, and removes the container on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'real-libvirt', '--distro', 'bookworm', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const line = JSON.parse(first) as { uri: string; socket: string; distro: string; libvirt: string };
    expect(Object.keys(line)).toEqual(['uri', 'socket', 'distro', 'libvirt']);
    expect(line).toMatchObject({ distro: 'bookworm', libvirt: '9.0.0', uri: `qemu+unix:///system?socket=${line.socket}` });
    const v = spawnSync('virsh', ['-c', line.uri, 'version', '--daemon'], { encoding: 'utf8' });
    expect(v.stdout).toContain('Running against daemon: 9.0.0');
    // The containers (running or not) that mount this socket's directory.
    const containers = () => {
      const ids = spawnSync('docker', ['ps', '-aq'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      if (ids.length === 0) return [];
      const mounts = spawnSync('docker', ['inspect', '--format', '{{.Id}} {{range .Mounts}}{{.Source}} {{end}}', ...ids], { encoding: 'utf8' }).stdout;
      return mounts.split('\n').filter((l) => l.includes(` ${dirname(line.socket)} `));
    };
    expect(containers()).toHaveLength(1);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(line.socket)).toBe(false);
    expect(containers()).toEqual([]);
  }, 900_000);

  it('refuses an unknown release with its usage', () => {
    const r = spawnSync(process.execPath, [BIN, 'real-libvirt', '--distro', 'buster'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown --distro 'buster'; one of bullseye, bookworm, trixie");
  });
});
