/**
 * SEV-SNP guests (genoa-9004, libvirt 10.6 with the `sev-snp` sectype). Debian's libvirt 9.0 schema
 * predates `sev-snp` (10.5), so the document is checked in two parts: everything but
 * `<launchSecurity>` with virt-xml-validate, and `<launchSecurity>` against the 10.x element as
 * libvirt documents it (attributes authorKey/vcek/kernelHashes, children cbitpos, reducedPhysBits,
 * policy), written out below as a small RelaxNG grammar.
 *
 * Booted too: the driver spawns the guest on genoa-9004's fake host (in-process and through the
 * daemon's socket), and the fake's view is checked: an SNP ASID below the SEV range, the 64-bit
 * policy, the firmware's guest state, and no pinned memory (guest_memfd; no `<locked/>`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { parseDomainXml } from '../../fakelibvirt/libvirt/domain-def.ts';
import { connect } from '../../src/libvirt/client.ts';
import { FakeHostSource } from '../../conformance/fake-host-source.ts';
import { ReferenceSevDriver, WireSource } from '../../src/driver/index.ts';
import { startFake } from '../daemon/helpers.ts';
import { buildDomainXml, hostFragments } from '../../src/driver/builder.ts';
import { DriverRefusal } from '../../src/driver/refusals.ts';
import { planGuest } from '../../src/driver/request.ts';
import { thrown } from '../support/thrown.ts';
import { filesOf, setup, sevFlavor, sysrootOf, uefiImage } from './helpers.ts';

const SNP_FLAVOR = sevFlavor({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp' });

const LAUNCH_SECURITY_SNP_RNG = `<?xml version="1.0"?>
<grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
  <define name="yesno"><choice><value>yes</value><value>no</value></choice></define>
  <start>
    <element name="launchSecurity">
      <attribute name="type"><value>sev-snp</value></attribute>
      <optional><attribute name="authorKey"><ref name="yesno"/></attribute></optional>
      <optional><attribute name="vcek"><ref name="yesno"/></attribute></optional>
      <optional><attribute name="kernelHashes"><ref name="yesno"/></attribute></optional>
      <interleave>
        <optional><element name="cbitpos"><data type="unsignedInt"/></element></optional>
        <optional><element name="reducedPhysBits"><data type="unsignedInt"/></element></optional>
        <element name="policy"><data type="string"><param name="pattern">0x[0-9a-fA-F]{1,16}</param></data></element>
      </interleave>
    </element>
  </start>
</grammar>
`;

const dir = mkdtempSync(join(tmpdir(), 'sev-snp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SEV-SNP guest XML', () => {
  it('genoa-9004 offers SNP slots from the ES pool, with the SNP trait', async () => {
    const { report } = await setup('genoa-9004');
    expect(report.snp).toMatchObject({ available: true, slots: 99 });
    expect(report.traits).toContain('HW_CPU_X86_AMD_SEV_SNP');
    expect(report.inventories.find((i) => i.model === 'amd-sev-snp')?.total).toBe(99);
  });

  it.each(['locked', 'hard-limit'] as const)('builds type=sev-snp, policy 0x00030000, stateless firmware, no pinning (%s policy)', async (memoryPolicy) => {
    const { report } = await setup('genoa-9004');
    const plan = planGuest({ name: 'snp', flavor: SNP_FLAVOR, image: uefiImage({ hw_firmware_stateless: true }) }, report);
    const xml = buildDomainXml(plan, hostFragments(report), { uuid: 'c0ffee00-0000-4000-8000-0000000000aa', memoryPolicy });
    expect(xml).toMatch(/<\/devices><launchSecurity type='sev-snp' authorKey='no' vcek='yes'><cbitpos>51<\/cbitpos><reducedPhysBits>1<\/reducedPhysBits><policy>0x00030000<\/policy><\/launchSecurity><\/domain>$/);
    expect(xml).toMatch(/<os firmware='efi'><type arch='x86_64' machine='pc-q35-[\d.]+'>hvm<\/type><loader stateless='yes'\/><\/os>/);
    expect(xml).not.toMatch(/<nvram|<memoryBacking|<hard_limit|vmcoreinfo/);

    // The fake's libvirt 10.x parser reads it back as an SNP guest.
    const def = parseDomainXml(xml, { snpKnown: true });
    expect(def.launchSecurity).toMatchObject({ type: 'sev-snp', policy: 0x30000n, cbitpos: 51 });
    expect(def.os.loader).toMatchObject({ stateless: true });

    // libvirt 9.0's schema for the rest, the 10.x launchSecurity shape for the element itself.
    const ls = /<launchSecurity[^]*<\/launchSecurity>/.exec(xml)![0];
    writeFileSync(join(dir, `rest-${memoryPolicy}.xml`), xml.replace(ls, ''));
    writeFileSync(join(dir, `ls-${memoryPolicy}.xml`), ls);
    writeFileSync(join(dir, 'snp.rng'), LAUNCH_SECURITY_SNP_RNG);
    execFileSync('/usr/bin/virt-xml-validate', [join(dir, `rest-${memoryPolicy}.xml`), 'domain'], { stdio: 'pipe' });
    execFileSync('/usr/bin/xmllint', ['--noout', '--relaxng', join(dir, 'snp.rng'), join(dir, `ls-${memoryPolicy}.xml`)], { stdio: 'pipe' });
  });

  it.each(['locked', 'hard-limit'] as const)('boots on genoa-9004 (%s policy): SNP ASID, policy 0x30000, firmware RUNNING, nothing pinned, no fault', async (memory_policy) => {
    const { host } = await setup('genoa-9004');
    const driver = new ReferenceSevDriver(new FakeHostSource(host), filesOf(host), { hw_machine_type: { x86_64: 'q35' }, memory_policy });
    await driver.init();
    await driver.spawn({ uuid: 'c0ffee00-0000-4000-8000-0000000000ab', name: 'snp', flavor: SNP_FLAVOR, image: uefiImage({ hw_firmware_stateless: true }) });
    expectSnpGuest(host, 'snp');
    await driver.destroy('c0ffee00-0000-4000-8000-0000000000ab');
    expect(host.control.inspect().asids.inUse).toEqual([]);
  });

  it('boots through the socket (WireSource → fake libvirtd) the same way', async () => {
    const fake = await startFake('genoa-9004');
    const client = await connect(fake.uri);
    try {
      const driver = new ReferenceSevDriver(new WireSource(client), sysrootOf(fake.host, fake.dir), { hw_machine_type: { x86_64: 'q35' } });
      await driver.init();
      const inst = await driver.spawn({ uuid: 'c0ffee00-0000-4000-8000-0000000000ac', name: 'snp-wire', flavor: SNP_FLAVOR, image: uefiImage({ hw_firmware_stateless: true }) });
      expectSnpGuest(fake.host, 'snp-wire');
      const info = Object.fromEntries((await client.getLaunchSecurityInfo(await client.lookupByName(inst.dom.name))).map((p) => [p.field, p.value]));
      expect(info['sev-snp-policy']).toBe(0x30000n);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('the RelaxNG check rejects a malformed element (so it can fail)', () => {
    writeFileSync(join(dir, 'snp.rng'), LAUNCH_SECURITY_SNP_RNG);
    writeFileSync(join(dir, 'bad.xml'), "<launchSecurity type='sev-snp' vcek='maybe'><policy>0x30000</policy></launchSecurity>");
    expect(() => execFileSync('/usr/bin/xmllint', ['--noout', '--relaxng', join(dir, 'snp.rng'), join(dir, 'bad.xml')], { stdio: 'pipe' })).toThrow();
  });

  it('refusals: no stateless firmware; a host without SNP; a guest without SEV-ES support', async () => {
    const { report } = await setup('genoa-9004');
    const codeOf = (fn: () => unknown) => thrown(DriverRefusal, fn).code;
    expect(codeOf(() => planGuest({ name: 'x', flavor: SNP_FLAVOR, image: uefiImage() }, report))).toBe('STATELESS_FIRMWARE_REQUIRED');
    const old = uefiImage({ hw_firmware_stateless: true }, { guest_os: { name: 'rhel8', sev: true, sev_es: false, virtio_blk_boot: true } });
    expect(codeOf(() => planGuest({ name: 'x', flavor: SNP_FLAVOR, image: old }, report))).toBe('GUEST_OS_NOT_SEV_CAPABLE');
    const milan = await setup('milan-7003-es8');
    expect(codeOf(() => planGuest({ name: 'x', flavor: SNP_FLAVOR, image: uefiImage({ hw_firmware_stateless: true }) }, milan.report))).toBe('NO_SLOTS');
  });
});

/** The fake's view of a running SNP guest built by the driver. */
function expectSnpGuest(host: FakeHost, name: string): void {
  const snap = host.control.inspect();
  const g = snap.guests.find((x) => x.name === name)!;
  expect(g).toMatchObject({ state: 'running', policy: '0x30000', firmwareState: 'RUNNING', pinnedKiB: 0, faults: [] });
  const asid = snap.asids.inUse.find((a) => a.domain === name)!;
  expect(asid.kind).toBe('sev-snp');
  const range = host.control.asidRange('sev-snp')!;
  expect(asid.asid).toBeGreaterThanOrEqual(range.min);
  expect(asid.asid).toBeLessThanOrEqual(range.max);
  expect(asid.asid).toBeLessThan(host.cpuid!.minSevAsid);
  expect(snap.pinnedKiB).toBe(0);
}
