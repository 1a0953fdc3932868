/**
 * `sevharness conformance --target real` on a served fake with `--control` and `--peer-uri`: the
 * cases needing a host control, the look inside QEMU and a migration destination run and pass
 * (without the flags they are not applicable); the flags are usage errors anywhere else.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { serveFake, type ServedFake } from '../../conformance/real/fake-as-real.ts';
import { RealTarget } from '../../conformance/real/target.ts';
import { ControlClient } from '../../fakelibvirt/control/client.ts';
import { fault } from '../../fakelibvirt/control/fault.ts';
import { main } from '../../src/cli/main.ts';

const CASES = ['faults.kernel-param-off', 'boot.sev-guest-runs-encrypted', 'lifecycle.cold-migrate-allowed'];
let host: ServedFake;
let peer: ServedFake;
let dir: string;

// Each test gets fresh hosts, as a CI job would (one run's kvm_amd reload must not meet the next's boots).
beforeEach(async () => {
  host = await serveFake('rome-7002', { control: true });
  peer = await serveFake('rome-7002', { control: true });
});
afterEach(async () => {
  await peer?.close();
  await host?.close();
});
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-control-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; err: string; statuses: Record<string, string> }> {
  const file = join(dir, `r${Math.random().toString(36).slice(2)}.json`);
  let err = '';
  let out = '';
  const code = await main(['conformance', '--target', 'real', '--uri', host.uri, '--sysroot', host.sysroot, '--cases', CASES.join(','), '--report', `json=${file}`, ...argv], {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
  });
  const report = code === 2 ? { results: [] } : (JSON.parse(readFileSync(file, 'utf8')) as { results: Array<{ caseId: string; status: string }> });
  return { code, err: `${err}${out}`, statuses: Object.fromEntries(report.results.map((r) => [r.caseId, r.status])) };
}

describe('sevharness conformance --target real --control --peer-uri', () => {
  it('runs the cases needing controls, a look inside and a second host', async () => {
    const r = await run('--control', host.control!, '--peer-uri', peer.uri, '--peer-sysroot', peer.sysroot, '--peer-control', peer.control!);
    expect(r.code, r.err).toBe(0);
    expect(r.statuses).toEqual(Object.fromEntries(CASES.map((c) => [c, 'pass'])));
    expect(r.err).toContain('host controls and the look inside QEMU through the control socket; a migration peer');
  }, 120_000);

  it('without them, those cases are not applicable and the report says why', async () => {
    // The fake runs no guest code: the probe guest is never asked for here (the control socket is).
    const r = await run('--control', host.control!);
    expect(r.code, `${r.err}${JSON.stringify(r.statuses)}`).toBe(0);
    expect(r.statuses).toMatchObject({ 'faults.kernel-param-off': 'pass', 'lifecycle.cold-migrate-allowed': 'not-applicable' });
    expect(r.err).toContain('no migration peer (migration cases are not applicable)');
  }, 120_000);

  it('refuses the flags outside real mode or without what they belong to', async () => {
    const quiet = { out: () => {}, err: () => {} };
    expect(await main(['conformance', '--control', '/tmp/x.sock', '--profiles', 'intel-xeon'], quiet)).toBe(2);
    expect(await main(['conformance', '--target', 'real', '--uri', host.uri, '--peer-sysroot', '/tmp'], quiet)).toBe(2);
    expect(await main(['conformance', '--target', 'real', '--uri', host.uri, '--control-host', 'x'], quiet)).toBe(2);
    expect(await main(['conformance', '--target', 'real', '--uri', host.uri, '--peer-uri', 'not a uri'], quiet)).toBe(2);
  });

  it('a control socket that does not answer is refused before anything runs', async () => {
    const r = await run('--control', join(dir, 'nothing.sock'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/control socket .*nothing\.sock does not answer/);
  });
});

describe('the control socket\'s own faults', () => {
  it('a host its owner bent before the run is judged as found, and a case\'s faults are dropped back to that', async () => {
    const owner = new ControlClient(host.control!);
    await owner.use(fault.kernelParam('sev', false));
    const target = await RealTarget.open({ uri: host.uri, sysroot: host.sysroot, control: host.control! });
    try {
      expect(target.reach).toEqual({ controls: true, inspect: true, peer: false });
      // Detected from the bent host: kvm_amd.sev=0 in its sysroot, no SEV in libvirt.
      expect(target.detection.truth.sevUsable).toBe(false);
      const h = await target.open(target.profileNames()[0]!);
      expect(await h.apply({ do: 'fault', fault: fault.devSev('missing') })).toBe(true);
      expect((await owner.listHandlers()).map((x) => x.description)).toEqual(['devSev missing', 'kernelParam sev 0']);
      expect((await h.inspect())?.guests).toEqual([]);
      await h.close();
      expect((await owner.listHandlers()).map((x) => x.description)).toEqual(['kernelParam sev 0']);
    } finally {
      await target.close();
    }
    expect((await owner.listHandlers()).map((x) => x.description)).toEqual(['kernelParam sev 0']);
  });
});
