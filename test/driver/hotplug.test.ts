/**
 * Volumes and NICs attached to running guests. The fake has no attach procedure (VIR_ERR_NO_SUPPORT),
 * so the driver puts the device into the persistent definition; a hard reboot then starts the guest
 * with it, which lets the fake judge the device inside an encrypted guest on QEMU < 6.0 (Naples).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { parseDomainXml } from '../../fakelibvirt/libvirt/domain-def.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { FakeHostSource, XML_INACTIVE } from '../../src/driver/host-source.ts';
import { interfaceDeviceXml, nextVirtioDiskTarget, ReferenceSevDriver, volumeDeviceXml, withDevice } from '../../src/driver/index.ts';
import { filesOf, plainFlavor, sevFlavor, uefiImage } from './helpers.ts';

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

  it.each(['naples-7001', 'milan-7003-es8'])('%s: attached volume + NIC validate with the schema and work in the SEV guest after a reboot', async (profile) => {
    const { host, driver } = await driverOn(profile);
    const uuid = 'c0ffee00-0000-4000-8000-0000000000b1';
    const inst = await driver.spawn({ uuid, name: 'hp', flavor: sevFlavor(), image: uefiImage() });
    expect(await driver.attach(uuid, 'volume')).toBe('config');
    expect(await driver.attach(uuid, 'interface')).toBe('config');
    expect(await driver.attach(uuid, 'volume')).toBe('config');
    const xml = await driver.libvirt.getXMLDesc(inst.dom, XML_INACTIVE);
    const file = join(dir, `${profile}.xml`);
    writeFileSync(file, xml);
    execFileSync('/usr/bin/virt-xml-validate', [file, 'domain'], { stdio: 'pipe' });
    const def = parseDomainXml(xml, { snpKnown: false });
    expect(def.devices.filter((d) => d.kind === 'disk' && d.bus === 'virtio').map((d) => [d.targetDev, d.iommu])).toEqual([['vda', true], ['vdb', true], ['vdc', true]]);
    expect(def.devices.filter((d) => d.kind === 'interface').map((d) => [d.iommu, d.romEnabled])).toEqual([[true, false], [true, false]]);
    await driver.hardReboot(uuid);
    const g = host.guest('hp')!;
    expect(g.faults).toEqual([]);
    expect(host.inspect().guests[0]).toMatchObject({ state: 'running', policy: '0x33' });
  });

  it('a plain guest gets plain devices', async () => {
    const { driver } = await driverOn('rome-7002');
    const uuid = 'c0ffee00-0000-4000-8000-0000000000b2';
    const inst = await driver.spawn({ uuid, name: 'plain', flavor: plainFlavor, image: uefiImage() });
    await driver.attach(uuid, 'interface');
    const xml = await driver.libvirt.getXMLDesc(inst.dom, XML_INACTIVE);
    expect(xml).not.toContain('iommu');
  });

  it('attach to an SEV guest of a host with QEMU < 6.0 without iommu would be a guest fault (the check can fail)', async () => {
    const { host, driver } = await driverOn('naples-7001');
    const uuid = 'c0ffee00-0000-4000-8000-0000000000b3';
    const inst = await driver.spawn({ uuid, name: 'bad', flavor: sevFlavor(), image: uefiImage() });
    const xml = await driver.libvirt.getXMLDesc(inst.dom, XML_INACTIVE);
    await driver.libvirt.defineXML(withDevice(xml, interfaceDeviceXml(false)));
    await driver.libvirt.destroy(inst.dom);
    await driver.libvirt.create(inst.dom);
    expect(host.guest('bad')!.faults.map((f) => f.code)).toContain('virtio-without-iommu');
  });
});
