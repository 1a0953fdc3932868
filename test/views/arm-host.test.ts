import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { capabilitiesXml } from '../../fakelibvirt/views/capabilities.ts';
import { formatCpuinfo } from '../../fakelibvirt/views/cpuinfo.ts';
import { domainCapabilitiesXml } from '../../fakelibvirt/views/domain-capabilities.ts';
import { nodeInfo } from '../../fakelibvirt/views/node-info.ts';
import { sysrootFiles } from '../../fakelibvirt/views/sysroot.ts';
import { parseCapabilities, parseDomainCapabilities } from '../../src/driver/host-xml.ts';
import { views } from './helpers.ts';

const altra = () => views('ampere-altra');

describe('an aarch64 host (ampere-altra)', () => {
  it('capabilities: host arch aarch64, ARM vendor, armv7l (TCG only) and aarch64 (KVM) guests on virt', () => {
    const v = altra();
    const xml = capabilitiesXml(v.profile, v.kernel);
    const caps = parseCapabilities(xml);
    expect(caps.hostArch).toBe('aarch64');
    expect(caps.guests.map((g) => [g.arch, g.emulator])).toEqual([
      ['armv7l', '/usr/bin/qemu-system-arm'],
      ['aarch64', '/usr/bin/qemu-system-aarch64'],
    ]);
    expect(caps.guests[1]?.machines).toContainEqual(expect.objectContaining({ name: 'virt', canonical: 'virt-7.2' }));
    expect(xml).toContain('<vendor>ARM</vendor>');
    expect(xml).toContain('<model>Neoverse-N1</model>');
    expect(xml).not.toMatch(/microcode|signature|<apic|<pae/);
    const armv7l = xml.slice(xml.indexOf("<arch name='armv7l'>"), xml.indexOf("<arch name='aarch64'>"));
    expect(armv7l).not.toContain("<domain type='kvm'/>");
  });

  it('domcaps for aarch64/virt: AAVMF, GIC v3, <sev supported=\'no\'>, no Hyper-V', () => {
    const v = altra();
    const xml = domainCapabilitiesXml(v.profile, v.sev, { arch: 'aarch64', virttype: 'kvm' });
    const dc = parseDomainCapabilities(xml);
    expect([dc.arch, dc.sev?.supported]).toEqual(['aarch64', false]);
    expect(xml).toContain('<machine>virt-7.2</machine>');
    expect(dc.loaders).toEqual(['/usr/share/AAVMF/AAVMF_CODE.fd']);
    expect(xml).toContain("<sev supported='no'/>");
    expect(xml).toMatch(/<gic supported='yes'>\s*<enum name='version'>\s*<value>3<\/value>/);
    expect(xml).not.toMatch(/hyperv|<value>ide<\/value>|<value>qxl<\/value>|host-model' supported='yes'/);
  });

  it('domcaps refuses x86_64 (no emulator serves it) and kvm for armv7l', () => {
    const v = altra();
    expect(() => domainCapabilitiesXml(v.profile, v.sev, { arch: 'x86_64' })).toThrow(/unable to find any emulator to serve 'x86_64' architecture/);
    expect(() => domainCapabilitiesXml(v.profile, v.sev, { arch: 'armv7l', virttype: 'kvm' })).toThrow(/does not support virt type 'kvm'/);
    expect(domainCapabilitiesXml(v.profile, v.sev, { arch: 'armv7l', virttype: 'qemu' })).toContain('<arch>armv7l</arch>');
  });

  it('/proc/cpuinfo in the arm64 format with the MIDR fields', () => {
    const text = formatCpuinfo(loadProfile('ampere-altra'));
    const first = text.split('\n\n')[0];
    expect(first).toBe(
      'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\n' +
        'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1',
    );
    expect(text.match(/^processor/gm)).toHaveLength(80);
    expect(text).not.toMatch(/vendor_id|flags|sev/);
  });

  it('sysroot without kvm_amd, /dev/sev or misc capacity; node info says aarch64', () => {
    const v = altra();
    const paths = [...sysrootFiles(v.profile, v.kernel).keys()];
    expect(paths).toEqual(expect.arrayContaining(['proc/cmdline', 'proc/cpuinfo', 'proc/sys/kernel/osrelease', 'proc/meminfo', 'dev/kvm']));
    expect(paths.filter((p) => /kvm_amd|kvm_intel|dev\/sev|misc\.capacity|dev\/cpu\//.test(p))).toEqual([]);
    expect(nodeInfo(v.profile)).toMatchObject({ model: 'aarch64', cpus: 80 });
  });

  it('nodesevinfo fails with the qemu driver error, as on any host without SEV', () => {
    const host = new FakeHost(loadProfile('ampere-altra'));
    expect(() => host.nodeSevInfo()).toThrow(/QEMU does not support SEV guest/);
    expect(host.sevView).toBeNull();
  });
});
