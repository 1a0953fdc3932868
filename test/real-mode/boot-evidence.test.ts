/**
 * Boot cases on a real host pass only on evidence from inside the guest. Real mode, pointed at a
 * fake SEV-ES host served bare (no control socket: it cannot look inside QEMU, as on a real EPYC
 * host), judges the reference driver's boot cases on what a probe guest launched with the driver's
 * guest's settings reports on its console. No SEV hardware exists here, so the probe's console is a
 * recorded report, parsed by the probe's own reader: an SEV-ES kernel's report passes the SEV-ES
 * case, a kernel reporting no encryption (what TCG gives) fails every boot case, and a plain-SEV
 * report does not pass the SEV-ES case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../../conformance/adapters/reference.ts';
import { serveFake, type ServedFake } from '../../conformance/real/fake-as-real.ts';
import { launchSettings, type GuestProber } from '../../conformance/real/guest-evidence.ts';
import { parseProbeLog, type ProbeOptions } from '../../conformance/real/guest-probe/probe.ts';
import { RealTarget } from '../../conformance/real/target.ts';
import { runConformance } from '../../conformance/runner/run.ts';
import type { CaseResult } from '../../conformance/runner/types.ts';
import { profileTruth } from '../../conformance/truth.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';

const PROFILE = 'milan-7003-es8';
const CASES = ['boot.sev-guest-runs-encrypted', 'boot.sev-es-guest-runs-encrypted', 'memory.pinned-covers-regions'];

/** The serial console of a probe guest whose kernel printed `active` (null: no encryption line). */
function console(active: string | null, flags: string): string {
  return [
    '[    0.000000] Linux version 6.1.0-57-amd64',
    'SEVPROBE-BEGIN',
    'SEVPROBE-DMESG-LINES: 388',
    // mem_encrypt_init prints this line when SME/SEV is active (Linux 6.1, the probe's kernel).
    ...(active ? [`SEVPROBE-LOG: [    0.000000] Memory Encryption Features active: ${active}`] : []),
    `SEVPROBE-FLAGS: ${flags}`,
    'SEVPROBE-KERNEL: 6.1.0-57-amd64',
    'SEVPROBE-END',
    '[    1.020000] reboot: Power down',
  ].join('\r\n');
}

const REPORTS = {
  sev: console('AMD SEV', 'sev '),
  'sev-es': console('AMD SEV SEV-ES', 'sev sev_es '),
  none: console(null, ''),
};

/** A prober answering recorded consoles: per launch kind, or one for every launch. */
function recorded(pick: (o: ProbeOptions) => string, calls: ProbeOptions[]): GuestProber {
  return async (_client, o) => {
    calls.push(o);
    const r = parseProbeLog(pick(o));
    if (!r) throw new Error('the recorded console has no report');
    return r;
  };
}

let served: ServedFake;
beforeAll(async () => {
  served = await serveFake(PROFILE);
});
afterAll(async () => served?.close());

async function judge(prober: GuestProber): Promise<Map<string, CaseResult>> {
  const target = await RealTarget.open({ uri: served.uri, sysroot: served.sysroot, guestProbe: prober });
  try {
    const run = await runConformance({ driver: async () => createReferenceDriver(), target, cases: CASES });
    return new Map(run.results.map((r) => [r.caseId, r]));
  } finally {
    await target.close();
  }
}

describe('boot cases on a host real mode cannot look inside', () => {
  const truth = profileTruth(loadProfile(PROFILE));

  it('pass on the guest kernel\'s own report of the encryption asked for, the probe launched with the driver guest\'s settings', async () => {
    const calls: ProbeOptions[] = [];
    const r = await judge(recorded((o) => REPORTS[o.sev?.kind ?? 'none'], calls));
    expect(r.get('boot.sev-es-guest-runs-encrypted')).toMatchObject({ status: 'pass' });
    expect(r.get('boot.sev-es-guest-runs-encrypted')?.reason).toMatch(/^judged on the guest kernel's own report \(\[ +0\.0+\] Memory Encryption Features active: AMD SEV SEV-ES\)/);
    expect(r.get('boot.sev-guest-runs-encrypted')).toMatchObject({ status: 'pass' });
    // One probe per launch setting, each launched as the driver's guest was: model, C-bit, firmware.
    expect(calls.map((c) => c.sev?.kind).sort()).toEqual(['sev', 'sev-es']);
    for (const c of calls) {
      expect(c.sev).toMatchObject({ cbitpos: truth.sev!.cbitpos, reducedPhysBits: truth.sev!.reducedPhysBits });
      expect(c.sev?.loader).toMatch(/OVMF/i);
    }
    // How much memory a guest pins is not visible on a real host: that case does not apply.
    expect(r.get('memory.pinned-covers-regions')).toMatchObject({ status: 'not-applicable', reason: 'a real host does not show how much memory a guest pins' });
  }, 120_000);

  it('fail when the guest kernel reports no memory encryption, whatever libvirt says', async () => {
    const r = await judge(recorded(() => REPORTS.none, []));
    for (const id of ['boot.sev-guest-runs-encrypted', 'boot.sev-es-guest-runs-encrypted']) {
      expect(r.get(id)?.status, id).toBe('fail');
      expect(r.get(id)?.reason).toMatch(/reports no memory encryption from its own kernel/);
    }
  }, 120_000);

  it('an SEV-ES guest is not passed on a kernel reporting plain SEV', async () => {
    const r = await judge(recorded(() => REPORTS.sev, []));
    expect(r.get('boot.sev-es-guest-runs-encrypted')).toMatchObject({ status: 'fail' });
    expect(r.get('boot.sev-es-guest-runs-encrypted')?.reason).toMatch(/reports SEV from its own kernel; expected SEV-ES$/);
    expect(r.get('boot.sev-guest-runs-encrypted')?.status).toBe('pass');
  }, 120_000);

  it('a probe that cannot report leaves the case not applicable, never passed', async () => {
    const r = await judge(async () => {
      throw new Error('the probe guest did not power off within 180000 ms');
    });
    expect(r.get('boot.sev-es-guest-runs-encrypted')).toMatchObject({ status: 'not-applicable' });
    expect(r.get('boot.sev-es-guest-runs-encrypted')?.reason).toMatch(/^no evidence from inside the guest: .*did not power off/);
  }, 120_000);

  it('reads the launch settings out of a guest\'s XML', () => {
    const xml = `<domain type='kvm'><name>g</name><os><type>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>
      <launchSecurity type='sev'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>0x0037</policy></launchSecurity></domain>`;
    expect(launchSettings(xml)).toEqual({ kind: 'sev-es', policy: 0x37, loader: '/usr/share/OVMF/OVMF_CODE.fd', cbitpos: 51, reducedPhysBits: 1 });
    expect(launchSettings(xml.replace('0x0037', '0x0033'))?.kind).toBe('sev');
    expect(launchSettings('<domain><name>g</name><os><type>hvm</type></os></domain>')).toBeNull();
  });
});
