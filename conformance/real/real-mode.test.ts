/**
 * `--target real` against this machine's system libvirtd (Debian libvirt 9.0 + QEMU 7.2, no SEV,
 * TCG guests) with the reference driver: detection says no SEV, libvirt refuses an SEV domain with
 * its own text, a plain guest's lifecycle works, every case needing SEV is "not applicable: host
 * has no SEV", and nothing fails or errors. On an SEV host the SEV-side expectations apply instead.
 */
import { fault } from '../../fakelibvirt/control/fault.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../adapters/reference.ts';
import { connect, uuidString } from '../../src/libvirt/client.ts';
import { CASES } from '../catalogue/index.ts';
import { needsSevToPass, NO_SEV_REASON } from './honesty.ts';
import { runRealMode, type RealRunReport } from './run.ts';
import { requireSystemLibvirtd } from './system-libvirtd.ts';
import { detectRealHost } from './detect.ts';
import { RUNNER_UUID_PREFIX } from '../runner/requests.ts';
import { CHECK_DOMAIN_PREFIX, RealTarget } from './target.ts';
import { runConformance } from '../runner/run.ts';
import { describeAs, sevReport } from '../runner/test/toy-drivers.ts';
import type { SevDriver } from '../contract.ts';
import { tinyDomainXml } from './checks.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const system = await requireSystemLibvirtd();
// Debian 12's libvirtd in a container where Docker is available, else this machine's qemu:///system.
const URI = system.available ? system.uri : 'qemu:///system';
afterAll(async () => {
  if (system.available) await system.stop();
});


describe.skipIf(!system.available)('real mode against qemu:///system with the reference driver', () => {
  let run: RealRunReport;
  const byId = (id: string) => run.report.results.find((r) => r.caseId === id);

  beforeAll(async () => {
    run = await runRealMode({ uri: URI, driver: async () => createReferenceDriver() });
  }, 120_000);

  it('runs the real-mode checks and the whole catalogue', () => {
    expect(run.report.target).toBe(`real ${URI}`);
    expect(run.report.results.length).toBe(CASES.length + 4);
  });

  it('no case fails or errors', () => {
    const bad = run.report.results.filter((r) => r.status === 'fail' || r.status === 'error');
    expect(bad.map((r) => `${r.caseId}: ${r.status} ${r.reason}`)).toEqual([]);
  });

  it('detection states the host SEV state and agrees with the driver', async () => {
    const d = await detectRealHost({ uri: URI });
    expect(byId('real.host-detected')).toMatchObject({ status: 'pass' });
    if (d.truth.sevUsable) {
      expect(byId('real.host-detected')?.reason).toMatch(/^SEV: \d+ guests/);
      expect(byId('detect.kernel-param-forms')?.status).toBe('pass');
    } else {
      expect(byId('real.host-detected')?.reason).toMatch(NO_SEV_REASON);
      expect(byId('detect.sev-es')?.status).toBe('pass');
    }
  });

  it('an SEV domain is refused with libvirt\'s own error where there is no SEV, accepted where there is', async () => {
    const d = await detectRealHost({ uri: URI });
    const [refused, accepted] = [byId('real.sev-define-refused'), byId('real.sev-define-accepted')];
    if (d.truth.sevUsable) {
      expect([refused?.status, accepted?.status]).toEqual(['not-applicable', 'pass']);
    } else {
      expect([refused?.status, accepted?.status]).toEqual(['pass', 'not-applicable']);
      expect(refused?.reason).toMatch(/^refused at (define|start): unsupported configuration: /);
      expect(accepted?.reason).toMatch(NO_SEV_REASON);
    }
  });

  it('a plain guest goes through define, start, pause, resume, destroy, undefine', () => {
    expect(byId('real.plain-lifecycle')).toMatchObject({ status: 'pass' });
  });

  it('on a host without SEV, every case needing SEV is "not applicable: host has no SEV" and none passes', async () => {
    const d = await detectRealHost({ uri: URI });
    if (d.truth.sevUsable) return;
    for (const c of CASES) {
      const r = byId(c.id)!;
      const applies = c.appliesTo(d.truth);
      if (applies === true && !needsSevToPass(c.expect(d.truth))) continue;
      if (applies === true) expect.unreachable(`${c.id} applies here but needs SEV`);
      expect(r.status, c.id).toBe('not-applicable');
    }
    const noSev = run.report.results.filter((r) => r.status === 'not-applicable' && NO_SEV_REASON.test(r.reason ?? ''));
    expect(noSev.length).toBeGreaterThan(30);
    const passedNeedingSev = run.report.results.filter((r) => r.status === 'pass' && CASES.some((c) => c.id === r.caseId && c.appliesTo(d.truth) !== true));
    expect(passedNeedingSev).toEqual([]);
  });

  it('leaves no domain of the suite behind', async () => {
    const client = await connect(URI);
    try {
      const left = (await client.listAllDomains()).filter((d) => d.name.startsWith(CHECK_DOMAIN_PREFIX) || uuidString(d.uuid).startsWith(RUNNER_UUID_PREFIX));
      expect(left.map((d) => d.name)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('the target controls nothing, looks inside nothing, is one host, and puts fake hosts of other profiles beside it for fleets', async () => {
    const target = await RealTarget.open({ uri: URI });
    try {
      expect(target.reach).toEqual({ controls: false, inspect: false, peer: false });
      const host = await target.open(target.profileNames()[0]!);
      expect(await host.apply({ do: 'fault', fault: fault.kernelParam('sev', true) })).toBe(false);
      expect(await host.apply({ do: 'fault', fault: fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT') })).toBe(false);
      expect(await host.apply({ do: 'fault', fault: fault.cacheRefresh() })).toBe(false);
      expect(await host.apply({ do: 'fault', fault: fault.devSev('missing') })).toBe(false);
      expect(await host.inspect()).toBeNull();
      // Boot cases are judged on a probe guest's report instead (never reached here: no SEV).
      expect(typeof host.guestEvidence).toBe('function');
      // Which guests run is libvirt's to say: the host's own active domains, ours among none.
      const active = await host.runningDomains();
      expect(active).toEqual((await target.connection.listAllDomains(1)).map((d) => d.name));
      await expect(target.open(target.profileNames()[0]!)).rejects.toThrow(/single host; a second one .*--peer-uri/);
      const beside = await target.open('intel-xeon');
      expect(beside.uri).not.toBe(host.uri);
      expect(beside.truth.sevUsable).toBe(false);
      await beside.close();
      await host.close();
    } finally {
      await target.close();
    }
  });

  it('a driver that refuses spawn yet leaves a guest running fails, seen through libvirt\'s list of active domains', async () => {
    const target = await RealTarget.open({ uri: URI });
    try {
      if (target.detection.truth.sevUsable) return; // the case applies only where there is no SEV
      const leaked = `${CHECK_DOMAIN_PREFIX}leaked-guest`;
      const leaky: SevDriver = {
        describe: describeAs(['reportHost', 'spawn'], 'leaky'),
        reportHost: async () => sevReport(null),
        async spawn() {
          await target.connection.domainCreate(await target.connection.defineXML(tinyDomainXml(leaked, target.domainType)));
          return { code: 'NO_SEV_HOST', message: 'no SEV on this host' };
        },
      };
      const r = await runConformance({ driver: async () => leaky, target, cases: ['boot.no-sev-host-refuses-spawn'] });
      expect(r.results.map((x) => [x.status, x.reason])).toEqual([['fail', `spawn refused with NO_SEV_HOST, yet a guest was left running on the host (${leaked})`]]);
      // The case's clean-up removed it.
      expect((await target.connection.listAllDomains()).map((d) => d.name)).not.toContain(leaked);
    } finally {
      await target.close();
    }
  }, 60_000);

  it.skipIf(system.available && system.where === 'container')('start-system-libvirtd.sh is idempotent: a second run keeps the running daemon', () => {
    const pid = existsSync('/run/libvirtd.pid') ? readFileSync('/run/libvirtd.pid', 'utf8').trim() : null;
    const r = spawnSync('bash', [join(import.meta.dirname, '..', '..', 'scripts', 'start-system-libvirtd.sh')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    if (pid !== null && !r.stdout.startsWith('systemd host')) expect(r.stdout).toContain(`libvirtd=${pid}`);
  });
});
