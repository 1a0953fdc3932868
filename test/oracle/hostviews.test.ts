/**
 * The fake's host views held to real libvirt 9.0's (oracle/records/libvirt-9.0.0-hostviews.json,
 * re-recorded by `node bin/run-ts.js oracle/hostviews/record-views.ts`) for milan-7003-es8
 * (libvirt 9.0, QEMU 7.2), virttype qemu since the oracle has no KVM. Needs no libvirt.
 * Masked, each for its reason, and nothing else:
 * - what the physical host decides: the host CPU, NUMA, topology and UUID of `capabilities`
 *   (its whole <host>), the guest CPU models and host-model of `domcapabilities`, the Hyper-V
 *   list (probed from KVM's host-CPU expansion: the oracle's TCG expansion gives two values),
 *   pciBackend (needs an IOMMU and /dev/vfio/vfio), the swtpm backends (emulator, external: need
 *   swtpm installed), maxGuests/maxESGuests (CPUID 0x8000001F, absent under TCG);
 * - the distribution: OVMF paths (Debian's vs the profile's Fedora ones) and the secure-boot enum
 *   that follows from them;
 * - `<domain type='kvm'/>` of each guest (the oracle has no /dev/kvm);
 * - the machine list, which another part of the fake models.
 */
import { fault } from '../../fakelibvirt/control/fault.ts';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { DOMCAPS_QUERIES, HOSTVIEWS_RECORDS, type HostViewsRecord } from '../../oracle/hostviews/record-views.ts';

const rec = JSON.parse(readFileSync(HOSTVIEWS_RECORDS, 'utf8')) as HostViewsRecord;
const host = () => new FakeHost(loadProfile(rec.profile));

const xmlOf = (a: HostViewsRecord['capabilities']): string => {
  if (a.outcome !== 'ok') throw new Error(`no usable record: ${JSON.stringify(a)}`);
  return a.xml;
};

/** Replaces a block (from its opening line to its closing line) with one marker line. */
function maskBlock(xml: string, open: RegExp, close: RegExp, marker: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of xml.split('\n')) {
    if (!inside && open.test(line)) {
      inside = !close.test(line);
      out.push(marker);
    } else if (inside) {
      if (close.test(line)) inside = false;
    } else out.push(line);
  }
  return out.join('\n');
}

function maskDomcaps(xml: string): string {
  let x = maskBlock(xml, /^ {2}<cpu>/, /^ {2}<\/cpu>/, '  <cpu>(host)</cpu>');
  x = maskBlock(x, /<hyperv /, /<\/hyperv>|<hyperv [^>]*\/>/, '    <hyperv>(host)</hyperv>');
  x = maskBlock(x, /<enum name='pciBackend'/, /<\/enum>|<enum name='pciBackend'\/>/, "      <enum name='pciBackend'>(host)</enum>");
  x = maskBlock(x, /<enum name='secure'>/, /<\/enum>/, "      <enum name='secure'>(distribution)</enum>");
  return x
    .split('\n')
    .filter((l) => !/^ {6}<value>\/usr\/share\/.*\.fd<\/value>$/.test(l))
    .filter((l) => !/<value>(emulator|external)<\/value>/.test(l))
    .map((l) => l.replace(/<(maxGuests|maxESGuests)>\d+</, '<$1>(cpuid)<'))
    .join('\n');
}

function maskCapabilities(xml: string): string {
  const x = maskBlock(xml, /^ {2}<host>/, /^ {2}<\/host>/, '  <host>(host)</host>');
  return x
    .split('\n')
    .filter((l) => !/^\s*<machine\b/.test(l))
    .filter((l) => !/^\s*<domain type='kvm'\/>$/.test(l))
    .join('\n');
}

describe('host views against libvirt 9.0 (milan-7003-es8, virttype qemu)', () => {
  for (const [name, q] of Object.entries(DOMCAPS_QUERIES)) {
    it(`domcapabilities (${name})`, () => {
      const fake = host().domainCapabilities({ emulatorbin: q.emulator, arch: q.arch, machine: 'machine' in q ? q.machine : null, virttype: q.virttype });
      expect(maskDomcaps(fake)).toBe(maskDomcaps(xmlOf(rec.domcapabilities[name as keyof typeof DOMCAPS_QUERIES])));
    });
  }

  it('a warm-cache libvirt 9.0 shows no cpu0Id, though its cache file holds one; a re-probe does', () => {
    const oracle = xmlOf(rec.domcapabilities.q35);
    expect(oracle).toContain("<sev supported='yes'>");
    expect(oracle).not.toContain('cpu0Id');
    const h = host();
    expect(h.domainCapabilities()).not.toContain('cpu0Id');
    h.control.use(fault.cacheRefresh());
    expect(h.domainCapabilities()).toContain('<cpu0Id>');
  });

  it('capabilities', () => {
    expect(maskCapabilities(host().capabilities())).toBe(maskCapabilities(xmlOf(rec.capabilities)));
  });
});
