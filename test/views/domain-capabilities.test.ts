import { describe, expect, it } from 'vitest';
import { domainCapabilitiesXml } from '../../fakelibvirt/views/domain-capabilities.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { allProfiles } from '../../fakelibvirt/profile/load.ts';
import { block, parseXml, views } from './helpers.ts';

const domcaps = (name: string, q = {}) => {
  const v = views(name);
  return domainCapabilitiesXml(v.profile, v.sev, q);
};

describe('domainCapabilities <sev>', () => {
  it('milan-7003-es8 (libvirt 9.0, QEMU 7.2) prints limits and cpu0Id', () => {
    const sev = block(domcaps('milan-7003-es8'), "<sev supported='yes'>", '</sev>');
    expect(sev).toMatch(
      /^<sev supported='yes'>\n      <cbitpos>51<\/cbitpos>\n      <reducedPhysBits>1<\/reducedPhysBits>\n      <maxGuests>502<\/maxGuests>\n      <maxESGuests>7<\/maxESGuests>\n      <cpu0Id>[A-Za-z0-9+/]{86}==<\/cpu0Id>\n    <\/sev>$/,
    );
  });

  it('naples (libvirt 6.0) prints only cbitpos and reducedPhysBits', () => {
    expect(block(domcaps('naples-7001'), '<sev', '</sev>')).toBe(
      "<sev supported='yes'>\n      <cbitpos>47</cbitpos>\n      <reducedPhysBits>1</reducedPhysBits>\n    </sev>",
    );
  });

  it('milan-7003-253 (libvirt 8.0) prints limits but no cpu0Id', () => {
    const sev = block(domcaps('milan-7003-253'), '<sev', '</sev>');
    expect(sev).toContain('<maxGuests>253</maxGuests>');
    expect(sev).toContain('<maxESGuests>0</maxESGuests>');
    expect(sev).not.toContain('cpu0Id');
  });

  it('turin has an 8-byte cpu0Id', () => {
    expect(domcaps('turin-9005')).toMatch(/<cpu0Id>[A-Za-z0-9+/]{11}=<\/cpu0Id>/);
  });

  it('all-es reports zero plain SEV guests', () => {
    const x = domcaps('milan-7003-all-es');
    expect(x).toContain('<maxGuests>0</maxGuests>');
    expect(x).toContain('<maxESGuests>509</maxESGuests>');
  });

  for (const name of ['rome-7002-sev-off', 'rome-7002-stale-cache', 'rome-7002-libvirt51', 'intel-xeon', 'ryzen-desktop']) {
    it(`${name}: <sev supported='no'/>`, () => {
      expect(domcaps(name, name === 'intel-xeon' ? {} : { virttype: 'kvm' })).toContain("    <sev supported='no'/>\n");
    });
  }

  it('SEV is reported for every machine type', () => {
    for (const machine of ['pc', 'q35', 'pc-q35-7.2', 'pc-i440fx-7.2']) {
      expect(domcaps('milan-7003-es8', { machine })).toContain("<sev supported='yes'>");
    }
  });
});

describe('domainCapabilities <launchSecurity>', () => {
  it('genoa (libvirt 10.6, QEMU 9.1, SNP on) lists sev and sev-snp', () => {
    expect(block(domcaps('genoa-9004'), '<launchSecurity', '</launchSecurity>')).toBe(
      "<launchSecurity supported='yes'>\n      <enum name='sectype'>\n        <value>sev</value>\n        <value>sev-snp</value>\n      </enum>\n    </launchSecurity>",
    );
  });
  it('is absent before libvirt 10.5', () => {
    expect(domcaps('milan-7003-es8')).not.toContain('launchSecurity');
    expect(domcaps('turin-9005')).not.toContain('launchSecurity');
  });
});

describe('domainCapabilities query handling', () => {
  it('defaults: profile emulator, x86_64, default machine canonical name, kvm', () => {
    const x = domcaps('milan-7003-es8');
    expect(x.startsWith("<domainCapabilities>\n  <path>/usr/bin/qemu-system-x86_64</path>\n  <domain>kvm</domain>\n  <machine>pc-i440fx-7.2</machine>\n  <arch>x86_64</arch>\n  <vcpu max='255'/>\n")).toBe(true);
  });
  it('resolves aliases to canonical names', () => {
    expect(domcaps('milan-7003-es8', { machine: 'q35' })).toContain("<machine>pc-q35-7.2</machine>\n  <arch>x86_64</arch>\n  <vcpu max='288'/>");
  });
  it('q35 offers secure-boot loaders, i440fx does not', () => {
    const q35 = domcaps('rome-7002', { machine: 'q35' });
    const pc = domcaps('rome-7002', { machine: 'pc' });
    expect(q35).toContain('<value>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</value>');
    expect(pc).not.toContain('secboot');
    expect(block(q35, "<enum name='secure'>", '</enum>')).toContain('<value>yes</value>');
  });
  it('unknown machine raises the QEMU driver error', () => {
    let err: unknown;
    try {
      domcaps('milan-7003-es8', { machine: 'xyz' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LibvirtError);
    const e = err as LibvirtError;
    expect([e.code, e.domain, e.message]).toEqual([
      VirErrorNumber.INVALID_ARG,
      VirErrorDomain.QEMU,
      "invalid argument: the machine 'xyz' is not supported by emulator '/usr/bin/qemu-system-x86_64'",
    ]);
  });
  it('other measured errors', () => {
    expect(() => domcaps('milan-7003-es8', { virttype: 'bogus' })).toThrow('invalid argument: unknown virttype: bogus');
    expect(() => domcaps('milan-7003-es8', { virttype: 'xen' })).toThrow(
      "invalid argument: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'xen'",
    );
    expect(() => domcaps('milan-7003-es8', { arch: 'bogus' })).toThrow('invalid argument: unknown architecture: bogus');
    expect(() => domcaps('milan-7003-es8', { arch: 'aarch64' })).toThrow(
      "unsupported configuration: unable to find any emulator to serve 'aarch64' architecture",
    );
    expect(() => domcaps('milan-7003-es8', { emulatorbin: '/usr/bin/nope' })).toThrow(
      'Cannot check QEMU binary /usr/bin/nope: No such file or directory',
    );
  });
  it('i686 uses qemu-system-i386', () => {
    expect(domcaps('milan-7003-es8', { arch: 'i686' })).toContain('<path>/usr/bin/qemu-system-i386</path>');
  });
  it('TCG has no host-passthrough', () => {
    const x = domcaps('milan-7003-es8', { virttype: 'qemu' });
    expect(x).toContain('<domain>qemu</domain>');
    expect(x).toContain("<mode name='host-passthrough' supported='no'/>");
  });
  it('every profile and machine gives well-formed XML', () => {
    for (const p of allProfiles().values()) {
      for (const m of p.qemu.machineTypes) {
        const v = views(p.name);
        const doc = parseXml(domainCapabilitiesXml(v.profile, v.sev, { machine: m.name }));
        expect(doc).toHaveProperty('domainCapabilities.machine', m.name);
      }
    }
  });
});
