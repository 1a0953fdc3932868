/**
 * `sevharness doctor` on every profile's fake host (its served libvirtd and sysroot) and on this
 * machine's real libvirt 9.0: ready exactly where the profile's truth says a freshly started host
 * runs SEV guests, and each misconfigured profile gets its own diagnosis, named.
 */
import { describe, expect, it } from 'vitest';
import { doctorLibvirt, runDoctor, type DoctorReport } from '../../conformance/real/doctor.ts';
import { serveFake } from '../../conformance/real/fake-as-real.ts';
import { sysrootTree } from '../../conformance/real/host-files.ts';
import { profileTruth } from '../../conformance/truth.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import { main } from '../../src/cli/main.ts';

async function doctorOn(profile: string): Promise<DoctorReport> {
  const s = await serveFake(profile);
  try {
    const tree = sysrootTree(s.sysroot);
    return runDoctor({ tree, libvirt: await doctorLibvirt(s.uri, tree) });
  } finally {
    await s.close();
  }
}

const failed = (r: DoctorReport) => Object.fromEntries(r.findings.filter((f) => f.status === 'fail').map((f) => [f.id, f.found]));

/** The diagnosis each misconfigured profile must get: the failing checks and what each names. */
const DIAGNOSES: Record<string, Record<string, RegExp>> = {
  'rome-7002-sev-off': { cmdline: /no kvm_amd\.sev=.*before 5\.13/, 'kvm-amd': /sev=0/, 'libvirt-sev': /<sev supported='no'>/ },
  'rome-7002-stale-cache': { 'libvirt-sev': /stale capability cache/ },
  'rome-7002-libvirt51': { 'dev-sev': /mode 0600 .*libvirt 5\.0\.0 probes QEMU as the QEMU user/, 'libvirt-sev': /could not open \/dev\/sev/ },
  'intel-xeon': { cpu: /GenuineIntel .*not an AMD CPU/, 'libvirt-sev': /<sev supported='no'>/ },
  'ryzen-desktop': { 'cpu-sev': /0 SEV ASIDs/, 'kvm-amd': /sev=N/, 'dev-sev': /does not exist/, 'libvirt-sev': /<sev supported='no'>/ },
  'ampere-altra': { cpu: /arm64 CPU/, 'libvirt-sev': /no x86_64 hvm guest/, ovmf: /no OVMF/ },
  'milan-7003-all-es': { asids: /0 SEV and 509 SEV-ES guests.*every ASID is given to SEV-ES/ },
};

describe('sevharness doctor on every profile\'s fake host', () => {
  for (const profile of allProfiles().keys()) {
    it(profile, async () => {
      const r = await doctorOn(profile);
      const truth = profileTruth(loadProfile(profile));
      // Ready exactly where a freshly started host of the profile runs SEV guests.
      expect(r.ready, JSON.stringify(failed(r))).toBe(truth.sevUsableAtStart);
      expect(r.reasons.length).toBe(Object.keys(failed(r)).length);
      const want = DIAGNOSES[profile];
      if (want) {
        const got = failed(r);
        expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
        for (const [id, re] of Object.entries(want)) expect(got[id]).toMatch(re);
        for (const f of r.findings.filter((x) => x.status === 'fail')) expect(f.fix, f.id).toBeTruthy();
      } else {
        expect(failed(r)).toEqual({});
        expect(r.findings.find((f) => f.id === 'asids')?.found).toMatch(new RegExp(`^${truth.maxGuests} SEV and ${truth.maxESGuests} SEV-ES guests`));
      }
    }, 30_000);
  }

  it('follows the guides\' order: CPU, command line, kvm_amd, /dev/sev, libvirt, ASIDs, memlock, OVMF, SNP', async () => {
    const r = await doctorOn('milan-7003-es8');
    expect(r.findings.map((f) => f.id)).toEqual(['cpu', 'cpu-sev', 'cmdline', 'kvm-amd', 'dev-sev', 'libvirt-sev', 'asids', 'memlock', 'ovmf', 'snp']);
    expect(r.findings.find((f) => f.id === 'memlock')).toMatchObject({ status: 'warn', found: 'default memlock 8192 KiB: SEV pins all guest RAM' });
    expect(r.findings.find((f) => f.id === 'snp')).toMatchObject({ status: 'info', found: 'not ready: kernel 6.2.9 < 6.11; libvirt 9.0.0 < 10.5.0' });
  });
});

describe('sevharness doctor, command line', () => {
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['doctor', ...argv], { out: (t) => void (out += t), err: (t) => void (err += t) });
    return { code, out, err };
  };

  it('exit 0 on a host that can run SEV guests, 1 with the reasons on one that cannot, 2 on usage errors', async () => {
    for (const [profile, code] of [['genoa-9004', 0], ['rome-7002-sev-off', 1]] as const) {
      const s = await serveFake(profile);
      try {
        const r = await run('--uri', s.uri, '--sysroot', s.sysroot);
        expect(r.code, r.out).toBe(code);
        expect(r.out).toMatch(code === 0 ? /result: this host can run SEV guests\n$/ : /\[FAIL\] kvm_amd loaded with sev enabled: .*\n {7}fix: add kvm_amd\.sev=1/);
      } finally {
        await s.close();
      }
    }
    expect((await run('--sysroot', '/nonexistent-sysroot')).code).toBe(2);
    expect((await run('--uri', 'not a uri')).code).toBe(2);
  });
});
