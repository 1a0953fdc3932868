/**
 * SEV-SNP guests on the fake host: libvirt 10.5+'s `<launchSecurity type='sev-snp'>`, QEMU's
 * sev-snp-guest start (KVM's policy mask, the firmware's SMT/ABI checks, no SMM), SNP ASIDs from
 * the SEV-ES range, and guest memory that is not memlock-pinned (guest_memfd).
 */
import { fault } from '../../fakelibvirt/control/fault.ts';
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { DEFAULT_SNP_POLICY, parseDomainXml } from '../../fakelibvirt/libvirt/domain-def.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { thrown } from '../support/thrown.ts';
import { guestXml } from './sev-guests.ts';

const snpLaunch = (policy: string | null = '0x30000', attrs = "authorKey='no' vcek='yes'", extra = '') =>
  `<launchSecurity type='sev-snp' ${attrs}>${extra}${policy === null ? '' : `<policy>${policy}</policy>`}</launchSecurity>`;
/** nova's SNP guest: no <locked/>, no hard limit, stateless OVMF. */
const snpGuest = (name: string, launchSecurity = snpLaunch(), extra: { features?: string; vcpus?: number } = {}) =>
  guestXml({ name, launchSecurity, memory: '', loader: "<loader readonly='yes' type='pflash' stateless='yes'>/usr/share/edk2/ovmf/OVMF.amdsev.fd</loader>", ...extra });

const genoa = () => new FakeHost(loadProfile('genoa-9004'));

function startFailure(h: FakeHost, xml: string): LibvirtError {
  const ref = h.defineXML(xml);
  return thrown(LibvirtError, () => h.create(ref));
}

describe('libvirt: <launchSecurity type="sev-snp">', () => {
  it('libvirt < 10.5 refuses the type with its enum error (same text as real libvirt 9.0)', () => {
    for (const profile of ['milan-7003-es8', 'turin-9005']) {
      const h = new FakeHost(loadProfile(profile));
      const err = thrown(LibvirtError, () => h.defineXML(snpGuest('x')));
      expect(err).toMatchObject({ code: VirErrorNumber.XML_ERROR, domain: VirErrorDomain.XML, message: "XML error: Invalid value for attribute 'type' in element 'launchSecurity': 'sev-snp'." });
    }
  });

  it('parses the 10.x attributes and children', () => {
    const blobs = '<guestVisibleWorkarounds>AAAAAAAAAAAAAAAAAAAAAA==</guestVisibleWorkarounds><idBlock>aWQ=</idBlock><idAuth>YXV0aA==</idAuth><hostData>aG9zdA==</hostData>';
    const def = parseDomainXml(snpGuest('x', snpLaunch('0x30000', "authorKey='yes' vcek='no' kernelHashes='yes'", `<cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits>${blobs}`)), { snpKnown: true });
    expect(def.launchSecurity).toEqual({
      type: 'sev-snp', policy: DEFAULT_SNP_POLICY, cbitpos: 51, reducedPhysBits: 1, authorKey: true, vcek: false, kernelHashes: true,
      guestVisibleWorkarounds: 'AAAAAAAAAAAAAAAAAAAAAA==', idBlock: 'aWQ=', idAuth: 'YXV0aA==', hostData: 'aG9zdA==',
    });
  });

  it.each([
    ["vcek='maybe'", snpLaunch('0x30000', "vcek='maybe'"), "XML error: Invalid value for attribute 'vcek' in element 'launchSecurity': 'maybe'."],
    ['a policy wider than 64 bits', snpLaunch('0x1000000000000000000'), 'XML error: failed to get launch security policy'],
    ['a policy that is not hex', snpLaunch('0x3g000'), 'XML error: failed to get launch security policy'],
    // Measured on libvirt 11.3.0 (trixie container): virXPathULongLongBase fails on an absent policy.
    ['no policy at all', snpLaunch(null), 'XML error: failed to get launch security policy'],
  ])('refuses %s', (_what, ls, message) => {
    expect(() => genoa().defineXML(snpGuest('x', ls))).toThrow(message);
  });
});

describe('QEMU/KVM: starting an SNP guest on genoa-9004 (libvirt 10.6, QEMU 9.1, kernel 6.11 with sev_snp)', () => {
  it('runs without <locked/>: SNP ASID from the ES range, nothing pinned, launch finished, policy reported', () => {
    const h = genoa();
    h.create(h.defineXML(snpGuest('snp')));
    const snap = h.control.inspect();
    expect(snap.guests[0]).toMatchObject({ name: 'snp', state: 'running', policy: '0x30000', firmwareState: 'RUNNING', pinnedKiB: 0, faults: [] });
    expect(snap.asids.inUse).toEqual([{ asid: 1, kind: 'sev-snp', domain: 'snp' }]);
    expect(snap.guests[0]!.asid).toBeLessThan(h.cpuid!.minSevAsid);
    expect(snap.pinnedKiB).toBe(0);
    // The misc cgroup charges SNP guests to sev_es, as KVM does.
    expect([h.control.miscCgroupUsage('sev_es'), h.control.miscCgroupUsage('sev')]).toEqual([1, 0]);
    const info = Object.fromEntries(h.launchSecurityInfo(h.lookupByName('snp')).map((p) => [p.field, p.value]));
    expect(info).toEqual({ 'sev-api-major': 1, 'sev-api-minor': 55, 'sev-build-id': 24, 'sev-snp-policy': 0x30000n });
  });

  it('an SEV guest beside it still needs its memory pinned (the control: pinning did not just switch off)', () => {
    const h = genoa();
    const e = startFailure(h, guestXml({ name: 'sev', memory: '', launchSecurity: "<launchSecurity type='sev'><policy>0x0033</policy></launchSecurity>" }));
    expect(e.message).toMatch(/sev_ram_block_added: failed to register region .* error 'Cannot allocate memory'/);
  });

  it('started paused, the SNP launch is already finished (no LAUNCH_SECRET window)', () => {
    const h = genoa();
    h.create(h.defineXML(snpGuest('p')), 1);
    expect(h.control.inspect().guests[0]).toMatchObject({ state: 'paused', firmwareState: 'RUNNING' });
  });

  it('takes its ASIDs from 1 … EDX−1 and fails the 100th guest with EBUSY (99 SNP/ES ASIDs)', () => {
    const h = genoa();
    for (let i = 0; i < 99; i++) h.create(h.defineXML(snpGuest(`g${i}`)));
    expect(h.control.inspect().asids.inUse.map((a) => a.asid)).toEqual(Array.from({ length: 99 }, (_, i) => i + 1));
    const e = startFailure(h, snpGuest('g99'));
    expect(e.message).toContain('-accel kvm: sev_common_kvm_init: failed to initialize ret=-16');
  });

  it.each([
    ['bit 17 clear (KVM: -EINVAL)', '0x10000', "sev_snp_launch_start: SNP_LAUNCH_START ret=-22 fw_error=0 ''"],
    ['MIGRATE_MA outside KVM\'s mask (-EINVAL)', '0x70000', "sev_snp_launch_start: SNP_LAUNCH_START ret=-22 fw_error=0 ''"],
    ['SMT not allowed on an SMT host (firmware POLICY_FAILURE)', '0x20000', "sev_snp_launch_start: SNP_LAUNCH_START ret=-5 fw_error=7 'Policy is not allowed'"],
    ['an ABI minimum above the firmware\'s 1.55 (POLICY_FAILURE)', '0x30238', "sev_snp_launch_start: SNP_LAUNCH_START ret=-5 fw_error=7 'Policy is not allowed'"],
  ])('refuses a policy with %s, releasing the ASID', (_what, policy, line) => {
    const h = genoa();
    const e = startFailure(h, snpGuest('bad', snpLaunch(policy)));
    expect(e.message).toContain(line);
    expect(e.message).toContain('sev_common_kvm_init: failed to create encryption context');
    expect(h.control.inspect().asids.inUse).toEqual([]);
  });

  it('DEBUG and SINGLE_SOCKET are inside KVM\'s mask and start', () => {
    const h = genoa();
    h.create(h.defineXML(snpGuest('dbg', snpLaunch('0x1b0000'))));
    expect(h.control.inspect().guests[0]).toMatchObject({ state: 'running', policy: '0x1b0000' });
  });

  it('checks cbitpos like any sev-common object, and refuses explicit SMM', () => {
    const cbit = startFailure(genoa(), snpGuest('c', snpLaunch('0x30000', '', '<cbitpos>47</cbitpos>')));
    expect(cbit.message).toContain("sev_common_kvm_init: cbitpos check failed, host '51' requested '47'");
    const smm = startFailure(genoa(), snpGuest('s', snpLaunch(), { features: "<smm state='on'/>" }));
    expect(smm.message).toContain('-accel kvm: SEV-SNP does not support SMM.');
    const h = genoa();
    h.create(h.defineXML(snpGuest('off', snpLaunch(), { features: "<smm state='off'/>" })));
    expect(h.control.inspect().guests[0]!.state).toBe('running');
  });

  it('without kvm_amd.sev_snp the sectype disappears and the define-time check refuses it', () => {
    const h = genoa();
    h.control.use(fault.kernelParam('sev_snp', false));
    expect(() => h.defineXML(snpGuest('x'))).toThrow("unsupported configuration: 'sev-snp' launch security is not supported with this QEMU binary");
  });
});
