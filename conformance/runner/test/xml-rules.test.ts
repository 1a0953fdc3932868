/** The XML path and device rules on small hand-written domains, and libvirt's schema check. */
import { describe, expect, it } from 'vitest';
import { parseXmlDocument } from '../../../fakelibvirt/libvirt/xml-tree.ts';
import { profileTruth } from '../../truth.ts';
import { loadProfile } from '../../../fakelibvirt/profile/load.ts';
import { checkDeviceRule, checkPathRule } from '../xml-rules.ts';
import { schemaCheckAvailable, validateDomainXml } from '../xml-schema.ts';

const truth = profileTruth(loadProfile('milan-7003-es8'));
const dom = (body: string) => parseXmlDocument(`<domain type='kvm'>${body}</domain>`, 'test');

const SEV_DOMAIN = dom(`<name>g</name><os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/edk2/ovmf/OVMF_CODE.fd</loader></os>
<devices><disk type='file' device='disk'><target dev='vda' bus='virtio'/><driver name='qemu' iommu='on'/></disk>
<disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>
<interface type='network'><model type='virtio'/><driver iommu='on'/><rom enabled='no'/></interface>
<controller type='virtio-serial' index='0'><driver iommu='on'/></controller></devices>
<launchSecurity type='sev'><policy>0x33</policy></launchSecurity>`);

describe('path rules', () => {
  it('present with text compares numbers by value, attrs exactly, and last-child', () => {
    expect(checkPathRule(SEV_DOMAIN, { path: 'launchSecurity/policy', present: true, text: '0x0033' })).toEqual([]);
    expect(checkPathRule(SEV_DOMAIN, { path: 'launchSecurity/policy', present: true, text: '0x0037' })).toEqual(["launchSecurity/policy: text '0x33', expected '0x0037'"]);
    expect(checkPathRule(SEV_DOMAIN, { path: 'launchSecurity', present: true, attrs: { type: 'sev' }, last: true })).toEqual([]);
    expect(checkPathRule(SEV_DOMAIN, { path: 'os', present: true, last: true })).toEqual(['os: not the last child of <domain>']);
  });

  it('absent, optional, and filtered steps', () => {
    expect(checkPathRule(SEV_DOMAIN, { path: 'features/vmcoreinfo', present: false })).toEqual([]);
    expect(checkPathRule(SEV_DOMAIN, { path: 'launchSecurity', present: false })[0]).toMatch(/must be absent/);
    expect(checkPathRule(SEV_DOMAIN, { path: 'launchSecurity/cbitpos', present: 'may', text: '51' })).toEqual([]);
    expect(checkPathRule(SEV_DOMAIN, { path: 'launchSecurity/cbitpos', present: true, text: '51' })).toEqual(['launchSecurity/cbitpos is missing']);
    expect(checkPathRule(dom("<launchSecurity type='sev'><cbitpos>47</cbitpos></launchSecurity>"), { path: 'launchSecurity/cbitpos', present: 'may', text: '51' }))
      .toEqual(["launchSecurity/cbitpos: text '47', expected '51'"]);
    expect(checkPathRule(SEV_DOMAIN, { path: 'devices/controller[type=virtio-serial]/driver', present: true, attrs: { iommu: 'on' } })).toEqual([]);
    expect(checkPathRule(SEV_DOMAIN, { path: 'devices/controller[type=usb]', present: true })).toEqual(['devices/controller[type=usb] is missing']);
  });
});

describe('device rules', () => {
  it('iommu on every virtio device, and none on the sata disk (matched through its target)', () => {
    expect(checkDeviceRule(SEV_DOMAIN, { rule: 'iommu-on-every-virtio-device', strict: true }, truth)).toEqual([]);
    const bare = dom("<devices><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng></devices>");
    expect(checkDeviceRule(bare, { rule: 'iommu-on-every-virtio-device', strict: true }, truth)).toEqual(["virtio device(s) without <driver iommu='on'/>: rng virtio"]);
    expect(checkDeviceRule(SEV_DOMAIN, { rule: 'no-iommu-on', devices: ['disk[bus=sata]'] }, truth)).toEqual([]);
    const sataIommu = dom("<devices><disk type='file' device='cdrom'><target dev='sda' bus='sata'/><driver iommu='on'/></disk></devices>");
    expect(checkDeviceRule(sataIommu, { rule: 'no-iommu-on', devices: ['disk[bus=sata]'] }, truth)).toEqual(["iommu='on' on non-virtio device(s): disk sda"]);
  });

  it('virtio NIC ROM and the loader', () => {
    expect(checkDeviceRule(SEV_DOMAIN, { rule: 'virtio-nic-rom-disabled' }, truth)).toEqual([]);
    expect(checkDeviceRule(dom("<devices><interface type='network'><model type='virtio'/></interface></devices>"), { rule: 'virtio-nic-rom-disabled' }, truth)).toHaveLength(1);
    expect(checkDeviceRule(SEV_DOMAIN, { rule: 'loader-is-sev-capable-ovmf' }, truth)).toEqual([]);
    const other = dom("<os><loader type='pflash'>/usr/share/OVMF/OVMF_CODE.secboot.fd</loader></os>");
    expect(checkDeviceRule(other, { rule: 'loader-is-sev-capable-ovmf' }, truth)[0]).toMatch(/not an OVMF image installed on the host/);
  });
});

describe.skipIf(!schemaCheckAvailable())("libvirt's domain schema, one xmllint for a batch", () => {
  it('accepts a valid domain, rejects an invalid one, and answers per document', async () => {
    const ok = "<domain type='kvm'><name>a</name><memory unit='KiB'>1024</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>";
    const bad = "<domain type='kvm'><name>a</name><memory unit='KiB'>1024</memory><os><type>hvm</type></os><bogus/></domain>";
    const v = await validateDomainXml([ok, bad, ok]);
    expect(v[0]).toBeNull();
    expect(v[1]).toMatch(/bogus|Relax-NG|element/i);
    expect(v[2]).toBeNull();
  });
});
