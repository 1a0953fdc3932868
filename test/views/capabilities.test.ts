import { describe, expect, it } from 'vitest';
import { capabilitiesXml, formatCpuSet, numaLayout } from '../../fakelibvirt/views/capabilities.ts';
import { allProfiles } from '../../fakelibvirt/profile/load.ts';
import { parseXml, views } from './helpers.ts';

const caps = (name: string) => {
  const v = views(name);
  return capabilitiesXml(v.profile, v.kernel);
};

describe('capabilities', () => {
  it('has libvirt layout: blank lines between host and guests', () => {
    const x = caps('milan-7003-es8');
    expect(x.startsWith('<capabilities>\n\n  <host>\n    <uuid>4c4c4544-0042-4d10-8031-b4c04f4d3233</uuid>\n    <cpu>\n      <arch>x86_64</arch>\n      <model>EPYC-Milan</model>\n      <vendor>AMD</vendor>\n')).toBe(true);
    expect(x.endsWith('  </guest>\n\n</capabilities>\n')).toBe(true);
    expect(x).toContain("<topology sockets='1' dies='1' cores='16' threads='2'/>");
    expect(x).toContain("<signature family='25' model='1' stepping='1'/>");
  });

  it('lists canonical machines and alias entries', () => {
    const x = caps('milan-7003-es8');
    expect(x).toContain("      <machine maxCpus='288'>pc-q35-7.2</machine>\n      <machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>\n");
  });

  it('offers kvm only when the CPU has svm/vmx', () => {
    expect(caps('intel-xeon')).toContain("<domain type='kvm'/>");
    expect(caps('rome-7002')).toContain("<domain type='kvm'/>");
  });

  it('i686 guest uses qemu-system-i386, RHEL qemu-kvm serves both', () => {
    expect(caps('rome-7002')).toContain('<emulator>/usr/bin/qemu-system-i386</emulator>');
    expect(caps('intel-xeon').match(/<emulator>\/usr\/libexec\/qemu-kvm<\/emulator>/g)).toHaveLength(2);
  });

  it('NUMA cells split the CPUs with SMT siblings', () => {
    const p = views('naples-7001').profile;
    const layout = numaLayout(p);
    expect(layout.map((n) => n.length)).toEqual([16, 16, 16, 16]);
    expect(layout[0]?.slice(0, 2)).toEqual([0, 1]);
    expect(caps('naples-7001')).toContain("<cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0,32'/>");
    expect(formatCpuSet([3, 1, 2, 7])).toBe('1-3,7');
  });

  it('is well-formed for every profile', () => {
    for (const name of allProfiles().keys()) {
      expect(parseXml(caps(name))).toHaveProperty('capabilities.host.uuid');
    }
  });
});
