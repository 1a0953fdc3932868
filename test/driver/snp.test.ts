/**
 * SEV-SNP guests (genoa-9004, libvirt 10.6 with the `sev-snp` sectype). Debian's libvirt 9.0 schema
 * predates `sev-snp` (10.5), so the document is checked in two parts: everything but
 * `<launchSecurity>` with virt-xml-validate, and `<launchSecurity>` against the 10.x element as
 * libvirt documents it (attributes authorKey/vcek/kernelHashes, children cbitpos, reducedPhysBits,
 * policy), written out below as a small RelaxNG grammar.
 *
 * Not booted: the fake pins SNP guest memory like SEV memory and fails the start without
 * `<locked/>`, while SNP guests (guest_memfd) need no pinning and nova master omits `<locked/>`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDomainXml } from '../../fakelibvirt/libvirt/domain-def.ts';
import { buildDomainXml, hostFragments } from '../../src/driver/builder.ts';
import { planGuest } from '../../src/driver/request.ts';
import { setup, sevFlavor, uefiImage } from './helpers.ts';

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

  it('the RelaxNG check rejects a malformed element (so it can fail)', () => {
    writeFileSync(join(dir, 'snp.rng'), LAUNCH_SECURITY_SNP_RNG);
    writeFileSync(join(dir, 'bad.xml'), "<launchSecurity type='sev-snp' vcek='maybe'><policy>0x30000</policy></launchSecurity>");
    expect(() => execFileSync('/usr/bin/xmllint', ['--noout', '--relaxng', join(dir, 'snp.rng'), join(dir, 'bad.xml')], { stdio: 'pipe' })).toThrow();
  });

  it('refusals: no stateless firmware; a host without SNP; a guest without SEV-ES support', async () => {
    const { report } = await setup('genoa-9004');
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(codeOf(() => planGuest({ name: 'x', flavor: SNP_FLAVOR, image: uefiImage() }, report))).toBe('STATELESS_FIRMWARE_REQUIRED');
    const old = uefiImage({ hw_firmware_stateless: true }, { guest_os: { name: 'rhel8', sev: true, sev_es: false, virtio_blk_boot: true } });
    expect(codeOf(() => planGuest({ name: 'x', flavor: SNP_FLAVOR, image: old }, report))).toBe('GUEST_OS_NOT_SEV_CAPABLE');
    const milan = await setup('milan-7003-es8');
    expect(codeOf(() => planGuest({ name: 'x', flavor: SNP_FLAVOR, image: uefiImage({ hw_firmware_stateless: true }) }, milan.report))).toBe('NO_SLOTS');
  });
});
