/**
 * `sevharness doctor` against this machine's libvirt 9.0 (a bookworm container where Docker runs,
 * else the machine's system daemon): no SEV here, so exit 1 with the reasons named.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { doctorLibvirt, runDoctor, type DoctorReport } from '../../conformance/real/doctor.ts';
import { sysrootTree } from '../../conformance/real/host-files.ts';
import { requireSystemLibvirtd } from '../../conformance/real/system-libvirtd.ts';

const failed = (r: DoctorReport) => Object.fromEntries(r.findings.filter((f) => f.status === 'fail').map((f) => [f.id, f.found]));

const system = await requireSystemLibvirtd();

describe.skipIf(!system.available)('sevharness doctor against this machine\'s libvirt 9.0 (no SEV)', () => {
  afterAll(async () => {
    if (system.available) await system.stop();
  });

  it('exit 1, naming the missing kvm_amd, /dev/sev and domcaps <sev>', async () => {
    if (!system.available) return;
    const tree = sysrootTree('/');
    const r = runDoctor({ tree, libvirt: await doctorLibvirt(system.uri, tree) });
    expect(r.ready).toBe(false);
    const got = failed(r);
    expect(got['libvirt-sev']).toMatch(/^<sev supported='no'> \(libvirt 9\.0\.0, QEMU 7\.2\.\d+\)$/);
    expect(got['dev-sev'] ?? got.cpu).toBeDefined();
    if (tree.readText('proc/cpuinfo')?.includes('AuthenticAMD')) expect(got['kvm-amd']).toBeDefined();
  });
});
