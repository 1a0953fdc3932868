/**
 * Real libvirt of three Debian releases in containers, started through testcontainers with no
 * network: virsh, libvirt-python and our own client reach each daemon over the bind-mounted UNIX
 * socket and see that release's versions, and a TCG guest is defined, started and destroyed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISTROS, type Distro } from '../../containers/images.ts';
import { startRealLibvirt, type RealLibvirt } from '../../containers/real-libvirt.ts';
import { connect } from '../../src/libvirt/client.ts';
import { requireRealStack } from '../../containers/real-stack.ts';
import { requireContainers } from '../../containers/gate.ts';

const ALL = Object.keys(DISTROS) as Distro[];
const skip = requireContainers(ALL) !== null || !requireRealStack(['virsh']).available;

const virsh = (uri: string, ...args: string[]) => spawnSync('virsh', ['-c', uri, ...args], { encoding: 'utf8', timeout: 60_000 });
/** libvirt's number for a version: major * 1,000,000 + minor * 1,000 + micro. */
const versionNumber = (v: string) => v.split('.').map(Number).reduce((n, part, i) => n + part * [1_000_000, 1_000, 1][i]!, 0);

const TCG_GUEST = (name: string) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><video><model type='none'/></video></devices>
</domain>`;

describe.skipIf(skip).each(ALL)('a real libvirt of Debian %s in a container', (distro) => {
  let real: RealLibvirt;
  const expected = DISTROS[distro];

  beforeAll(async () => {
    real = await startRealLibvirt(distro);
  }, 900_000);
  afterAll(async () => {
    await real?.stop();
  });

  it('runs without a network and reports its release\'s versions in its READY line', () => {
    const inspect = spawnSync('docker', ['inspect', '--format', '{{.HostConfig.NetworkMode}}', real.containerId], { encoding: 'utf8' });
    expect(inspect.stdout.trim()).toBe('none');
    expect(real.libvirt).toBe(expected.libvirt);
    // Debian follows QEMU's stable branch: 7.2.22 on bookworm, say.
    expect(real.qemu.startsWith(`${expected.qemu}.`), real.qemu).toBe(true);
    expect(real.uri).toBe(`qemu+unix:///system?socket=${real.socket}`);
  });

  it('virsh on this machine reaches it', () => {
    const r = virsh(real.uri, 'version', '--daemon');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Running against daemon: ${expected.libvirt}`);
    expect(r.stdout).toContain(`Running hypervisor: QEMU ${real.qemu}`);
  });

  it('libvirt-python on this machine reaches it', () => {
    const script = 'import sys, libvirt; c = libvirt.open(sys.argv[1]); print(c.getLibVersion(), c.getVersion(), c.getType())';
    const r = spawnSync('/usr/bin/python3', ['-c', script, real.uri], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${versionNumber(expected.libvirt)} ${versionNumber(real.qemu)} QEMU`);
  });

  it('the TypeScript client reaches it', async () => {
    const client = await connect(real.uri);
    try {
      expect(await client.getLibVersion()).toBe(versionNumber(expected.libvirt));
    } finally {
      await client.close();
    }
  });

  it('a TCG guest is defined, started, destroyed and undefined', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevharness-guest-'));
    try {
      const file = join(dir, 'guest.xml');
      writeFileSync(file, TCG_GUEST('tcg-guest'));
      for (const step of [['define', file], ['start', 'tcg-guest']]) {
        const r = virsh(real.uri, ...step);
        expect(r.status, `${step[0]}: ${r.stderr}`).toBe(0);
      }
      expect(virsh(real.uri, 'domstate', 'tcg-guest').stdout.trim()).toBe('running');
      expect(virsh(real.uri, 'destroy', 'tcg-guest').status).toBe(0);
      expect(virsh(real.uri, 'domstate', 'tcg-guest').stdout.trim()).toBe('shut off');
      expect(virsh(real.uri, 'undefine', 'tcg-guest').status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.skipIf(skip)('the machine\'s Docker', () => {
  it('has no bridge network (traffic stays on UNIX sockets and loopback)', () => {
    const r = spawnSync('docker', ['network', 'ls', '--format', '{{.Driver}}'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).not.toContain('bridge');
  });
});
