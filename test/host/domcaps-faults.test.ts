import { describe, expect, it } from 'vitest';
import { fault } from '../../fakelibvirt/control/fault.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { DomcapsFaults } from '../../fakelibvirt/host/domcaps-faults.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { LibvirtError, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { thrown } from '../support/thrown.ts';

const failure = (fn: () => unknown): LibvirtError => thrown(LibvirtError, fn);

describe('fault.domcaps: a guest arch whose domain capabilities fail', () => {
  it('fails every i686 query with the missing-binary error while x86_64 still answers with SEV', () => {
    const host = new FakeHost(loadProfile('milan-7003-es8'));
    host.control.use(fault.domcaps('i686'));
    for (const machine of ['pc', 'q35', undefined]) {
      const e = failure(() => host.domainCapabilities({ arch: 'i686', machine: machine ?? null }));
      expect(e.code).toBe(VirErrorNumber.SYSTEM_ERROR);
      expect(e.message).toContain('Cannot check QEMU binary /usr/bin/qemu-system-i386: No such file or directory');
    }
    expect(host.domainCapabilities({ arch: 'x86_64', machine: 'q35' })).toContain("<sev supported='yes'>");
    expect(host.capabilities()).toContain("<arch name='i686'>");
  });

  it('matches by resolved arch, so asking by emulator binary fails too', () => {
    const host = new FakeHost(loadProfile('milan-7003-es8'));
    host.control.use(fault.domcaps('i686'));
    expect(() => host.domainCapabilities({ emulatorbin: '/usr/bin/qemu-system-i386' })).toThrow(/Cannot check QEMU binary/);
    expect(host.domainCapabilities({ emulatorbin: '/usr/bin/qemu-system-x86_64' })).toContain('<arch>x86_64</arch>');
  });

  it('a bad query keeps its own error ahead of the fault', () => {
    const host = new FakeHost(loadProfile('milan-7003-es8'));
    host.control.use(fault.domcaps('i686'));
    expect(() => host.domainCapabilities({ arch: 'i686', machine: 'virt' })).toThrow(/the machine 'virt' is not supported/);
  });

  it('times limits a rule and resetHandlers() clears the rest', () => {
    const host = new FakeHost(loadProfile('rome-7002'));
    host.control.use(fault.domcaps('x86_64', { times: 1 }), fault.domcaps('i686'));
    expect(() => host.domainCapabilities({ arch: 'x86_64' })).toThrow(LibvirtError);
    expect(host.domainCapabilities({ arch: 'x86_64' })).toContain('<arch>x86_64</arch>');
    expect(host.control.listHandlers().map((h) => [h.description, h.used])).toEqual([['domcaps x86_64 times=1', true], ['domcaps i686', false]]);
    host.control.resetHandlers();
    expect(host.domainCapabilities({ arch: 'i686' })).toContain('<arch>i686</arch>');
  });

  it('refuses malformed rules with a clear error', () => {
    const f = new DomcapsFaults();
    expect(() => f.use({ arch: '' })).toThrow(/needs an architecture/);
    expect(() => f.use({ arch: 'i686', times: 0 })).toThrow(/positive integer/);
    expect(() => f.use({ arch: 'i686', times: 1.5 })).toThrow(/positive integer/);
    expect(f.pending).toBe(0);
  });
});
