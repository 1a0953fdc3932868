/**
 * Volumes and NICs attached to running guests. The fake hot-plugs (virDomainAttachDeviceFlags with
 * AFFECT_LIVE | AFFECT_CONFIG), so the driver's live path is what runs: the device is in the running
 * guest at once (live XML, and the fake judges it inside an encrypted guest on QEMU < 6.0, Naples)
 * and in the persistent definition, so a hard reboot keeps it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { parseDomainXml } from '../../fakelibvirt/libvirt/domain-def.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { connect } from '../../src/libvirt/client.ts';
import { FakeHostSource } from '../../conformance/fake-host-source.ts';
import { WireSource } from '../../src/driver/host-source.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { interfaceDeviceXml, nextVirtioDiskTarget, ReferenceSevDriver, volumeDeviceXml, withDevice } from '../../src/driver/index.ts';
import { startFake } from '../daemon/helpers.ts';
import { filesOf, plainFlavor, sevFlavor, sysrootOf, uefiImage } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'sev-hotplug-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function driverOn(profile: string) {
  const host = new FakeHost(loadProfile(profile));
  const slots = host.sevView?.maxGuests ?? 0;
  const driver = new ReferenceSevDriver(new FakeHostSource(host), filesOf(host), { hw_machine_type: { x86_64: 'q35' }, num_memory_encrypted_guests: slots });
  await driver.init();
  return { host, driver };
}

describe('hot-plug device XML', () => {
  it('virtio disk names skip the ones in use', () => {
    expect(nextVirtioDiskTarget("<target dev='vda' bus='virtio'/><target dev='sda' bus='sata'/>")).toBe('vdb');
    expect(nextVirtioDiskTarget("<target dev='vda'/><target dev=\"vdb\"/><target dev='vdd'/>")).toBe('vdc');
  });
  it('iommu and the ROM switch only for encrypted guests', () => {
    expect(volumeDeviceXml('vm', 'vdb', true)).toContain("<driver name='qemu' type='raw' cache='none' iommu='on'/>");
    expect(volumeDeviceXml('vm', 'vdb', false)).not.toContain('iommu');
    expect(interfaceDeviceXml(true)).toContain("<driver iommu='on'/><rom enabled='no'/>");
    expect(interfaceDeviceXml(false)).toBe("<interface type='network'><source network='default'/><model type='virtio'/></interface>");
    expect(() => withDevice('<domain/>', '<x/>')).toThrow(/no <devices>/);
  });

  it.each(['naples-7001', 'milan-7003-es8'])('%s: volume + NIC hot-plugged live and persistent, schema-valid, no fault in the SEV guest, kept across a hard reboot', async (profile) => {
    const { host, driver } = await driverOn(profile);
    const uuid = 'c0ffee00-0000-4000-8000-0000000000b1';
    const inst = await driver.spawn({ uuid, name: 'hp', flavor: sevFlavor(), image: uefiImage() });
    const pid = host.control.guest('hp')!.pid;
    expect(await driver.attach(uuid, 'volume')).toBe('live');
    expect(await driver.attach(uuid, 'interface')).toBe('live');
    expect(await driver.attach(uuid, 'volume')).toBe('live');
    // The same QEMU process got the devices: no restart happened.
    expect(host.control.guest('hp')!.pid).toBe(pid);
    const devicesOf = (xml: string) => {
      const def = parseDomainXml(xml, { snpKnown: false });
      return {
        disks: def.devices.filter((d) => d.kind === 'disk' && d.bus === 'virtio').map((d) => [d.targetDev, d.iommu]),
        nics: def.devices.filter((d) => d.kind === 'interface').map((d) => [d.iommu, d.romEnabled]),
      };
    };
    const expected = { disks: [['vda', true], ['vdb', true], ['vdc', true]], nics: [[true, false], [true, false]] };
    const live = await driver.libvirt.getXMLDesc(inst.dom);
    const persistent = await driver.libvirt.getXMLDesc(inst.dom, DomainFlags.XML_INACTIVE);
    expect(devicesOf(live)).toEqual(expected);
    expect(devicesOf(persistent)).toEqual(expected);
    const file = join(dir, `${profile}.xml`);
    writeFileSync(file, persistent);
    execFileSync('/usr/bin/virt-xml-validate', [file, 'domain'], { stdio: 'pipe' });
    expect(host.control.guest('hp')!.faults).toEqual([]);
    await driver.hardReboot(uuid);
    expect(host.control.guest('hp')!.pid).not.toBe(pid);
    expect(devicesOf(await driver.libvirt.getXMLDesc(inst.dom))).toEqual(expected);
    expect(host.control.guest('hp')!.faults).toEqual([]);
    expect(host.control.inspect().guests[0]).toMatchObject({ state: 'running', policy: '0x33' });
  });

  it('through the socket (WireSource → fake libvirtd): the live path, and the device in the running guest', async () => {
    const fake = await startFake('naples-7001');
    const client = await connect(fake.uri);
    try {
      const driver = new ReferenceSevDriver(new WireSource(client), sysrootOf(fake.host, fake.dir), { hw_machine_type: { x86_64: 'q35' }, num_memory_encrypted_guests: fake.host.sevView!.maxGuests });
      await driver.init();
      const uuid = 'c0ffee00-0000-4000-8000-0000000000b4';
      const inst = await driver.spawn({ uuid, name: 'wire', flavor: sevFlavor(), image: uefiImage() });
      expect(await driver.attach(uuid, 'volume')).toBe('live');
      expect(await driver.attach(uuid, 'interface')).toBe('live');
      const live = parseDomainXml(await driver.libvirt.getXMLDesc(inst.dom), { snpKnown: false });
      expect(live.devices.filter((d) => d.kind === 'disk').map((d) => d.targetDev)).toContain('vdb');
      // The spawned guest has its boot NIC; the attached one is the second.
      expect(live.devices.filter((d) => d.kind === 'interface')).toHaveLength(2);
      expect(fake.host.control.guest('wire')!.faults).toEqual([]);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('a plain guest gets plain devices', async () => {
    const { driver } = await driverOn('rome-7002');
    const uuid = 'c0ffee00-0000-4000-8000-0000000000b2';
    const inst = await driver.spawn({ uuid, name: 'plain', flavor: plainFlavor, image: uefiImage() });
    expect(await driver.attach(uuid, 'interface')).toBe('live');
    expect(await driver.libvirt.getXMLDesc(inst.dom)).toContain('<interface');
    expect(await driver.libvirt.getXMLDesc(inst.dom, DomainFlags.XML_INACTIVE)).not.toContain('iommu');
  });

  it('a virtio device hot-plugged without iommu into an SEV guest on QEMU < 6.0 is a guest fault at once (the check can fail)', async () => {
    const { host, driver } = await driverOn('naples-7001');
    const uuid = 'c0ffee00-0000-4000-8000-0000000000b3';
    const inst = await driver.spawn({ uuid, name: 'bad', flavor: sevFlavor(), image: uefiImage() });
    const nics = (xml: string) => xml.split('<interface').length - 1;
    const before = nics(await driver.libvirt.getXMLDesc(inst.dom, DomainFlags.XML_INACTIVE));
    await driver.libvirt.attachDevice(inst.dom, interfaceDeviceXml(false), 1);
    expect(host.control.guest('bad')!.faults.map((f) => f.code)).toEqual(['virtio-without-iommu']);
    expect(nics(await driver.libvirt.getXMLDesc(inst.dom))).toBe(before + 1);
    // Live only: the persistent definition does not have it, so the next boot is clean again.
    expect(nics(await driver.libvirt.getXMLDesc(inst.dom, DomainFlags.XML_INACTIVE))).toBe(before);
    await driver.libvirt.destroy(inst.dom);
    await driver.libvirt.create(inst.dom);
    expect(host.control.guest('bad')!.faults).toEqual([]);
  });

  it('a libvirt without the procedure (VIR_ERR_NO_SUPPORT) still gets the device into the definition', async () => {
    const host = new FakeHost(loadProfile('milan-7003-es8'));
    class NoHotplug extends FakeHostSource {
      override async attachDevice(): Promise<void> {
        const { LibvirtError, VirErrorDomain, VirErrorNumber } = await import('../../src/libvirt/errors.ts');
        throw LibvirtError.of(VirErrorNumber.NO_SUPPORT, VirErrorDomain.REMOTE, 'unknown procedure: 160');
      }
    }
    const driver = new ReferenceSevDriver(new NoHotplug(host), filesOf(host), { hw_machine_type: { x86_64: 'q35' }, num_memory_encrypted_guests: host.sevView!.maxGuests });
    await driver.init();
    const uuid = 'c0ffee00-0000-4000-8000-0000000000b5';
    const inst = await driver.spawn({ uuid, name: 'old', flavor: sevFlavor(), image: uefiImage() });
    expect(await driver.attach(uuid, 'volume')).toBe('config');
    expect(await driver.libvirt.getXMLDesc(inst.dom, DomainFlags.XML_INACTIVE)).toContain("<target dev='vdb' bus='virtio'/>");
    expect(await driver.libvirt.getXMLDesc(inst.dom)).not.toContain("dev='vdb'");
  });
});
