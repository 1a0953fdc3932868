/** Unmodified virsh 9.0 against the fake daemon: every command the harness relies on, output asserted. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireRealStack } from '../../containers/real-stack.ts';
import { guestXml, PLAIN_GUEST, SEV_GUEST, startFake, virsh, type FakeDaemon } from './helpers.ts';

const stack = requireRealStack(['virsh']);

describe.skipIf(!stack.available)('virsh against the fake libvirtd', () => {
  let fake: FakeDaemon;
  const v = (...args: string[]) => virsh(fake.uri, ...args);
  const define = async (g: Parameters<typeof guestXml>[0]) => {
    const r = await v('define', fake.file(`${g.name}.xml`, guestXml(g)));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Domain '${g.name}' defined from`);
  };

  beforeEach(async () => {
    fake = await startFake('milan-7003-es8');
  });
  afterEach(async () => {
    await fake.close();
  });

  it('version, hostname, uri', async () => {
    const ver = await v('version', '--daemon');
    expect(ver.status).toBe(0);
    expect(ver.stdout).toContain('Running hypervisor: QEMU 7.2.0');
    expect(ver.stdout).toContain('Running against daemon: 9.0.0');
    expect((await v('hostname')).stdout.trim()).toBe(fake.host.hostname());
    expect((await v('uri')).stdout.trim()).toBe(fake.uri);
  });

  it('capabilities and domcapabilities show the host and its SEV block', async () => {
    const caps = await v('capabilities');
    expect(caps.status).toBe(0);
    expect(caps.stdout).toContain('<arch>x86_64</arch>');
    const dc = await v('domcapabilities', '--virttype', 'kvm', '--arch', 'x86_64', '--machine', 'q35');
    expect(dc.status).toBe(0);
    expect(dc.stdout).toContain("<sev supported='yes'>");
    expect(dc.stdout).toContain('<cbitpos>51</cbitpos>');
    expect(dc.stdout).toContain('<maxGuests>502</maxGuests>');
    expect(dc.stdout).toContain('<maxESGuests>7</maxESGuests>');
  });

  it('nodeinfo and nodesevinfo', async () => {
    const ni = await v('nodeinfo');
    expect(ni.stdout).toMatch(/CPU\(s\):\s+32/);
    const sev = await v('nodesevinfo');
    expect(sev.status).toBe(0);
    expect(sev.stdout).toMatch(/^pdh\s+: \S+/m);
    expect(sev.stdout).toMatch(/^cbitpos\s+: 51$/m);
    expect(sev.stdout).toMatch(/^max-guests\s+: 502$/m);
    expect(sev.stdout).toMatch(/^max-es-guests\s+: 7$/m);
  });

  it('nodesevinfo on a host without SEV prints the QEMU driver error', async () => {
    const plain = await startFake('intel-xeon');
    try {
      const r = await virsh(plain.uri, 'nodesevinfo');
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('error: Operation not supported: QEMU does not support SEV guest');
    } finally {
      await plain.close();
    }
  });

  it('define, list --all, dominfo, dumpxml and dumpxml --inactive', async () => {
    await define(SEV_GUEST);
    expect((await v('list', '--all')).stdout).toMatch(/-\s+sevguest\s+shut off/);
    const info = await v('dominfo', 'sevguest');
    expect(info.stdout).toMatch(/UUID:\s+c7a5fdbd-edaf-9455-926a-d65c16db1809/);
    expect(info.stdout).toMatch(/State:\s+shut off/);
    expect(info.stdout).toMatch(/Persistent:\s+yes/);
    expect((await v('start', 'sevguest')).stdout).toContain("Domain 'sevguest' started");
    const live = await v('dumpxml', 'sevguest');
    expect(live.stdout).toContain('<cbitpos>51</cbitpos>');
    const inactive = await v('dumpxml', '--inactive', 'sevguest');
    expect(inactive.stdout).toContain('<policy>0x0033</policy>');
    expect(inactive.stdout).not.toContain('<cbitpos>');
  });

  it('start, suspend, resume, shutdown, destroy, start --paused', async () => {
    await define(PLAIN_GUEST);
    expect((await v('start', 'plainguest')).status).toBe(0);
    expect((await v('list')).stdout).toMatch(/\d+\s+plainguest\s+running/);
    expect((await v('suspend', 'plainguest')).stdout).toContain("Domain 'plainguest' suspended");
    expect((await v('domstate', 'plainguest')).stdout.trim()).toBe('paused');
    expect((await v('resume', 'plainguest')).stdout).toContain("Domain 'plainguest' resumed");
    expect((await v('shutdown', 'plainguest')).stdout).toContain("Domain 'plainguest' is being shutdown");
    expect((await v('domstate', '--reason', 'plainguest')).stdout.trim()).toBe('shut off (shutdown)');
    expect((await v('start', '--paused', 'plainguest')).status).toBe(0);
    expect((await v('domstate', 'plainguest')).stdout.trim()).toBe('paused');
    expect((await v('destroy', 'plainguest')).stdout).toContain("Domain 'plainguest' destroyed");
    expect((await v('domstate', '--reason', 'plainguest')).stdout.trim()).toBe('shut off (destroyed)');
  });

  it('starting a running domain fails with the QEMU driver message', async () => {
    await define(PLAIN_GUEST);
    await v('start', 'plainguest');
    const r = await v('start', 'plainguest');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: Domain is already active');
  });

  it('undefine, and undefine --nvram for a pflash SEV guest', async () => {
    await define(PLAIN_GUEST);
    expect((await v('undefine', 'plainguest')).stdout).toContain("Domain 'plainguest' has been undefined");
    await define(SEV_GUEST);
    const refused = await v('undefine', 'sevguest');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('cannot undefine domain with nvram');
    expect((await v('undefine', '--nvram', 'sevguest')).stdout).toContain("Domain 'sevguest' has been undefined");
    expect((await v('list', '--all')).stdout.trim()).toBe('Id   Name   State\n--------------------');
  });

  it('managedsave: refused for an SEV guest, works for a plain guest', async () => {
    await define(SEV_GUEST);
    await v('start', 'sevguest');
    const sev = await v('managedsave', 'sevguest');
    expect(sev.status).toBe(1);
    expect(sev.stderr).toContain('error: Requested operation is not valid: cannot migrate domain: SEV: Migration is not implemented');
    await define(PLAIN_GUEST);
    await v('start', 'plainguest');
    expect((await v('managedsave', 'plainguest')).stdout).toContain("Domain 'plainguest' state saved by libvirt");
    expect((await v('list', '--all', '--managed-save')).stdout).toMatch(/-\s+plainguest\s+saved/);
    expect((await v('domstate', '--reason', 'plainguest')).stdout.trim()).toBe('shut off (saved)');
    expect((await v('start', 'plainguest')).status).toBe(0);
    expect((await v('domstate', '--reason', 'plainguest')).stdout.trim()).toBe('running (restored)');
  });

  it('save and restore a plain guest', async () => {
    await define(PLAIN_GUEST);
    await v('start', 'plainguest');
    const path = `${fake.dir}/plain.save`;
    expect((await v('save', 'plainguest', path)).stdout).toContain(`Domain 'plainguest' saved to ${path}`);
    expect((await v('domstate', 'plainguest')).stdout.trim()).toBe('shut off');
    expect((await v('restore', path)).stdout).toContain(`Domain restored from ${path}`);
    expect((await v('domstate', 'plainguest')).stdout.trim()).toBe('running');
  });

  it('domlaunchsecinfo of a running SEV guest shows the firmware and policy', async () => {
    await define(SEV_GUEST);
    await v('start', 'sevguest');
    const r = await v('domlaunchsecinfo', 'sevguest');
    expect(r.status).toBe(0);
    const fw = fake.host.profile.firmware!;
    expect(r.stdout).toMatch(/^sev-measurement: \S{40,}$/m);
    expect(r.stdout).toMatch(new RegExp(`^sev-api-major\\s*: ${fw.apiMajor}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^sev-api-minor\\s*: ${fw.apiMinor}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^sev-build-id\\s*: ${fw.build}$`, 'm'));
    expect(r.stdout).toMatch(/^sev-policy\s*: 51$/m);
  });

  it('an SEV guest under its memory hard limit crashes at start', async () => {
    await define({ name: 'tight', uuid: '0f1e2d3c-4b5a-4968-8776-655443322110', sev: true, hardLimitKiB: 524288 });
    expect((await v('start', 'tight')).status).toBe(0);
    expect((await v('domstate', '--reason', 'tight')).stdout.trim()).toBe('shut off (crashed)');
  });

  it('attach-device / detach-device: live and persistent, and the refusals with libvirt 9.0 + QEMU texts', async () => {
    await define(SEV_GUEST);
    await v('start', 'sevguest');
    const disk = (dev: string, bus: string) =>
      fake.file(`${dev}.xml`, `<disk type='file' device='disk'><driver name='qemu' type='raw' iommu='on'/><source file='/var/lib/images/${dev}.img'/><target dev='${dev}' bus='${bus}'/></disk>\n`);
    const ok = await v('attach-device', 'sevguest', disk('vdb', 'virtio'), '--live', '--config');
    expect([ok.status, ok.stdout.trim(), ok.stderr]).toEqual([0, 'Device attached successfully', '']);
    expect((await v('dumpxml', 'sevguest')).stdout).toContain("<target dev='vdb' bus='virtio'/>");
    expect((await v('dumpxml', '--inactive', 'sevguest')).stdout).toContain("<target dev='vdb' bus='virtio'/>");
    const dup = await v('attach-device', 'sevguest', disk('vdb', 'virtio'), '--config');
    expect(dup.stderr).toContain('error: Requested operation is not valid: target vdb already exists');
    const sata = await v('attach-device', 'sevguest', disk('sdb', 'sata'), '--live');
    expect(sata.stderr).toContain("error: internal error: unable to execute QEMU command 'device_add': Bus 'ide.1' does not support hotplugging");
    const bad = await v('attach-device', 'sevguest', fake.file('bad.xml', "<disk type='file'><target dev='vdc'"), '--live');
    expect(bad.stderr).toContain('error: (device_definition):1:');
    const video = await v('attach-device', 'sevguest', fake.file('video.xml', "<video><model type='virtio'/></video>"), '--live');
    expect(video.stderr).toContain("error: Operation not supported: live attach of device 'video' is not supported");
    const det = await v('detach-device', 'sevguest', disk('vdb', 'virtio'), '--live', '--config');
    expect([det.status, det.stdout.trim()]).toEqual([0, 'Device detached successfully']);
    expect((await v('dumpxml', 'sevguest')).stdout).not.toContain("dev='vdb'");
    await v('destroy', 'sevguest');
    const off = await v('attach-device', 'sevguest', disk('vdd', 'virtio'), '--live');
    expect(off.stderr).toContain('error: Requested operation is not valid: domain is not running');
  });

  describe('migration between two fake hosts', () => {
    let dest: FakeDaemon;
    beforeEach(async () => {
      // The same QEMU on both ends: libvirt refuses a machine type (pc-q35-7.2) the destination lacks.
      dest = await startFake('milan-7003-es8');
    });
    afterEach(async () => {
      await dest.close();
    });

    it('refuses an SEV guest with libvirt message', async () => {
      await define(SEV_GUEST);
      await v('start', 'sevguest');
      const r = await v('migrate', 'sevguest', dest.uri);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('error: Requested operation is not valid: cannot migrate domain: SEV: Migration is not implemented');
      expect((await v('domstate', 'sevguest')).stdout.trim()).toBe('running');
      expect((await virsh(dest.uri, 'list', '--all')).stdout).not.toContain('sevguest');
    });

    it('moves a plain guest (managed, non-p2p)', async () => {
      await define(PLAIN_GUEST);
      await v('start', 'plainguest');
      const r = await v('migrate', '--live', 'plainguest', dest.uri);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect((await v('domstate', '--reason', 'plainguest')).stdout.trim()).toBe('shut off (migrated)');
      expect((await virsh(dest.uri, 'domstate', '--reason', 'plainguest')).stdout.trim()).toBe('running (migrated)');
    });
  });
});
