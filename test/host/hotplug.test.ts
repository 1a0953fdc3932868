/**
 * Device attach and detach on FakeHost (virDomainAttachDeviceFlags / DetachDeviceFlags). The
 * expected texts were read from libvirt 9.0 + QEMU 7.2 driving a real guest (see device-modify.ts).
 */
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { diskNameIndex, hotplugText } from '../../fakelibvirt/libvirt/device-modify.ts';
import { DeviceModifyFlags, DomainFlags } from '../../src/libvirt/flags.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { guestXml, sevLaunch } from './sev-guests.ts';
import { thrown } from '../support/thrown.ts';

const { AFFECT_CURRENT: CURRENT, AFFECT_LIVE: LIVE, AFFECT_CONFIG: CONFIG } = DeviceModifyFlags;
const naplesLaunch = sevLaunch('0x0033', '<cbitpos>47</cbitpos><reducedPhysBits>1</reducedPhysBits>');

// libvirt refuses the virtio driver options (iommu …) on a disk of another bus.
const disk = (dev: string, bus = 'virtio', iommu = bus === 'virtio') =>
  `<disk type='file' device='disk'><driver name='qemu' type='raw'${iommu ? " iommu='on'" : ''}/><source file='/img/${dev}.img'/><target dev='${dev}' bus='${bus}'/></disk>`;
const nic = (iommu: boolean, mac?: string) =>
  `<interface type='network'>${mac ? `<mac address='${mac}'/>` : ''}<source network='default'/><model type='virtio'/>${iommu ? "<driver iommu='on'/><rom enabled='no'/>" : ''}</interface>`;

function running(profile = 'milan-7003-es8', launchSecurity: string | null = null, start = true) {
  const h = new FakeHost(loadProfile(profile));
  const ref = h.defineXML(guestXml({ name: 'g', launchSecurity, devices: disk('vda') }));
  if (start) h.create(ref);
  return { h, ref };
}

const failure = (fn: () => unknown): LibvirtError => thrown(LibvirtError, fn);

const targets = (h: FakeHost, flags = 0) => [...h.getXMLDesc({ name: 'g', uuid: h.lookupByName('g').uuid }, flags).matchAll(/<target dev='(\w+)'/g)].map((m) => m[1]);

describe('which definition an attach changes', () => {
  it('LIVE: running guest only; CONFIG: persistent only; both: both; CURRENT: live when running', () => {
    const { h, ref } = running();
    h.attachDevice(ref, disk('vdb'), LIVE);
    h.attachDevice(ref, disk('vdc'), CONFIG);
    h.attachDevice(ref, disk('vdd'), LIVE | CONFIG);
    h.attachDevice(ref, disk('vde'), CURRENT);
    expect(targets(h)).toEqual(['vda', 'vdb', 'vdd', 'vde']);
    expect(targets(h, DomainFlags.XML_INACTIVE)).toEqual(['vda', 'vdc', 'vdd']);
    // The persistent additions take effect at the next start.
    h.destroy(ref);
    expect(targets(h)).toEqual(['vda', 'vdc', 'vdd']);
  });

  it('CURRENT on a stopped domain changes the definition; LIVE there is refused', () => {
    const { h, ref } = running('milan-7003-es8', null, false);
    h.attachDevice(ref, disk('vdb'), CURRENT);
    expect(targets(h)).toEqual(['vda', 'vdb']);
    for (const flags of [LIVE, LIVE | CONFIG]) {
      const e = failure(() => h.attachDevice(ref, disk('vdc'), flags));
      expect([e.code, e.domain, e.message]).toEqual([VirErrorNumber.OPERATION_INVALID, VirErrorDomain.DOMAIN, 'Requested operation is not valid: domain is not running']);
    }
  });

  it('a transient domain has no persistent config to change', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    const ref = h.createXML(guestXml({ name: 'g', launchSecurity: null, devices: disk('vda') }));
    expect(failure(() => h.attachDevice(ref, disk('vdb'), CONFIG)).message).toBe('Requested operation is not valid: transient domains do not have any persistent config');
    h.attachDevice(ref, disk('vdb'), CURRENT);
    expect(targets(h)).toEqual(['vda', 'vdb']);
  });

  it('unknown flags name the QEMU driver function, without the "invalid argument" prefix', () => {
    const { h, ref } = running();
    const e = failure(() => h.attachDevice(ref, disk('vdb'), 4 | LIVE));
    expect([e.code, e.domain, e.message]).toEqual([VirErrorNumber.INVALID_ARG, VirErrorDomain.QEMU, 'unsupported flags (0x4) in function qemuDomainAttachDeviceLiveAndConfig']);
  });

  it('LIVE|CONFIG changes nothing when the live half fails', () => {
    const { h, ref } = running();
    expect(() => h.attachDevice(ref, disk('sdb', 'sata'), LIVE | CONFIG)).toThrow(/does not support hotplugging/);
    expect(targets(h, DomainFlags.XML_INACTIVE)).toEqual(['vda']);
    expect(targets(h)).toEqual(['vda']);
  });

  it('a persistent change reaches onConfigChange (for the on-disk store), a live one does not', () => {
    const { h, ref } = running();
    const seen: string[] = [];
    h.onConfigChange((d) => seen.push(d.name));
    h.attachDevice(ref, disk('vdb'), LIVE);
    h.attachDevice(ref, disk('vdc'), CONFIG);
    expect(seen).toEqual(['g']);
  });
});

describe('device XML validation and refusals', () => {
  const { h, ref } = running();
  const cases: Array<[string, string, number, number, string]> = [
    ['empty document', '', LIVE, VirErrorNumber.XML_DETAIL, '(device_definition):1: Document is empty\n(null)\n^'],
    ['whitespace only', '   ', LIVE, VirErrorNumber.XML_DETAIL, "(device_definition):1: Start tag expected, '<' not found\n   \n---^"],
    ['two elements', disk('vdx') + disk('vdy'), LIVE, VirErrorNumber.XML_DETAIL, '(device_definition):1: Extra content at the end of the document'],
    ['unknown element', '<foo/>', LIVE, VirErrorNumber.CONFIG_UNSUPPORTED, "unsupported configuration: unknown device type 'foo'"],
    ['disk without target', "<disk type='file' device='disk'><source file='/tmp/y'/></disk>", LIVE, 20, 'missing target information for device /tmp/y'],
    ['unknown bus', disk('vdx', 'bogus'), LIVE, VirErrorNumber.XML_ERROR, "XML error: Invalid value for attribute 'bus' in element 'target': 'bogus'."],
    ['live duplicate target', disk('vda'), LIVE, VirErrorNumber.XML_ERROR, "XML error: target 'vda' duplicated for disk sources '/img/vda.img' and '/img/vda.img'"],
    ['config duplicate target', disk('vda'), CONFIG, VirErrorNumber.OPERATION_INVALID, 'Requested operation is not valid: target vda already exists'],
    ['sata hot-plug (AHCI port 1)', disk('sdb', 'sata'), LIVE, VirErrorNumber.INTERNAL_ERROR, "internal error: unable to execute QEMU command 'device_add': Bus 'ide.1' does not support hotplugging"],
    ['sata beyond controller 0', disk('sdz', 'sata'), LIVE, VirErrorNumber.INTERNAL_ERROR, 'internal error: Could not find sata controller with index 4 required for device'],
    ['ide on q35', disk('hda', 'ide'), LIVE, VirErrorNumber.INTERNAL_ERROR, 'internal error: Could not find ide controller with index 0 required for device'],
    ['video live', "<video><model type='virtio'/></video>", LIVE, VirErrorNumber.OPERATION_UNSUPPORTED, "Operation not supported: live attach of device 'video' is not supported"],
    ['memballoon config', "<memballoon model='virtio'/>", CONFIG, VirErrorNumber.OPERATION_UNSUPPORTED, "Operation not supported: persistent attach of device 'memballoon' is not supported"],
    ['virtio channel without a virtio-serial controller', "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>", LIVE, VirErrorNumber.INTERNAL_ERROR, 'internal error: no virtio-serial controllers are available'],
  ];
  it.each(cases)('%s', (_name, xml, flags, code, message) => {
    const e = failure(() => h.attachDevice(ref, xml, flags));
    expect(e.code).toBe(code);
    if (code === VirErrorNumber.XML_DETAIL && message.endsWith('document')) expect(e.message.startsWith(message)).toBe(true);
    else expect(e.message).toBe(message);
    expect(targets(h)).toEqual(['vda']);
  });

  it('a sata disk can go into the persistent definition (only its hot-plug is refused)', () => {
    const r = running();
    r.h.attachDevice(r.ref, disk('sdc', 'sata'), CONFIG);
    expect(targets(r.h, DomainFlags.XML_INACTIVE)).toEqual(['vda', 'sdc']);
  });

  it('disk names map to indexes as libvirt numbers them', () => {
    expect(['sda', 'sdb', 'sdz', 'sdaa', 'vdc', 'hdb', 'sd1'].map(diskNameIndex)).toEqual([0, 1, 25, 26, 2, 1, -1]);
  });
});

describe('hot-plug into encrypted guests', () => {
  it('QEMU < 6.0 (Naples): a virtio device without iommu is a guest fault at once; with iommu it is not', () => {
    const { h, ref } = running('naples-7001', naplesLaunch);
    h.attachDevice(ref, disk('vdb', 'virtio', true), LIVE);
    h.attachDevice(ref, nic(true), LIVE);
    expect(h.control.guest('g')!.faults).toEqual([]);
    h.attachDevice(ref, nic(false), LIVE);
    expect(h.control.guest('g')!.faults.map((f) => [f.code, f.message])).toEqual([
      ['virtio-without-iommu', "virtio interface (virtio) lacks iommu='on': its DMA cannot reach encrypted memory and guest I/O breaks"],
    ]);
    expect(h.control.events().some((e) => e.message.startsWith('guest fault: virtio interface'))).toBe(true);
  });

  it('QEMU ≥ 6.0 forces the platform IOMMU: no fault; a plain guest never faults', () => {
    const milan = running('milan-7003-es8', sevLaunch());
    milan.h.attachDevice(milan.ref, nic(false), LIVE);
    expect(milan.h.control.guest('g')!.faults).toEqual([]);
    const plain = running('naples-7001', null);
    plain.h.attachDevice(plain.ref, nic(false), LIVE);
    expect(plain.h.control.guest('g')!.faults).toEqual([]);
  });

  it('i440fx: a transitional virtio device hot-plugged into an encrypted guest is a fault', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    const ref = h.defineXML(guestXml({ name: 'g', machine: 'pc', devices: disk('vda') }));
    h.create(ref);
    const atBoot = h.control.guest('g')!.faults.map((f) => f.message);
    h.attachDevice(ref, nic(true), LIVE);
    expect(h.control.guest('g')!.faults.map((f) => f.message).slice(atBoot.length)).toEqual([
      'transitional virtio interface (virtio) on machine pc-i440fx-7.2: legacy virtio I/O does not work for an encrypted guest (use q35 or a *-non-transitional model)',
    ]);
  });
});

describe('detach', () => {
  it('removes a disk by target and a NIC by MAC, live and persistent', () => {
    const { h, ref } = running();
    h.attachDevice(ref, disk('vdb'), LIVE | CONFIG);
    h.attachDevice(ref, nic(true, '52:54:00:aa:bb:cc'), LIVE | CONFIG);
    h.detachDevice(ref, disk('vdb'), LIVE | CONFIG);
    h.detachDevice(ref, nic(true, '52:54:00:AA:BB:CC'), LIVE);
    expect(targets(h)).toEqual(['vda']);
    expect(h.getXMLDesc(ref)).not.toContain('<interface');
    expect(h.getXMLDesc(ref, DomainFlags.XML_INACTIVE)).toContain("<mac address='52:54:00:aa:bb:cc'/>");
  });

  it('refuses an unknown disk, and hot-unplug of a sata disk', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    const ref = h.defineXML(guestXml({ name: 'g', launchSecurity: null, devices: disk('vda') + disk('sda', 'sata') }));
    h.create(ref);
    const missing = failure(() => h.detachDevice(ref, disk('vdq'), LIVE));
    expect([missing.code, missing.message]).toEqual([99, 'device not found: disk vdq not found']);
    expect(failure(() => h.detachDevice(ref, disk('sda', 'sata'), LIVE)).message).toBe(`Operation not supported: ${hotplugText.diskNoHotUnplug}`);
    h.detachDevice(ref, disk('sda', 'sata'), CONFIG);
    expect(targets(h, DomainFlags.XML_INACTIVE)).toEqual(['vda']);
  });
});

describe('define shares the device checks', () => {
  it('two disks on one target are refused at define with the domain validator text', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    const e = failure(() => h.defineXML(guestXml({ name: 'g', launchSecurity: null, devices: disk('vda') + disk('vda') })));
    expect(e.message).toBe("XML error: target 'vda' duplicated for disk sources '/img/vda.img' and '/img/vda.img'");
  });
});
