/**
 * The control socket from Python, standard library only (clients/python/sevharness_control.py):
 * every fault kind injected over the wire into `sevharness serve --control`, its effect seen
 * through unmodified libvirt-python and the sysroot, and resetHandlers restoring the host exactly;
 * then the README's pytest example, run as written.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCpuid } from '../../fakelibvirt/profile/derive.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { run } from '../daemon/helpers.ts';
import { guestXml, sevLaunch } from '../host/sev-guests.ts';
import { serveWithControl } from './serve-cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PYTHON = '/usr/bin/python3';

/** python3 with libvirt-python and pytest (Debian's python3-libvirt, python3-pytest); CI must have them. */
function pythonStack(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import libvirt, pytest'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const msg = 'python3 with libvirt and pytest is missing (python3-libvirt, python3-pytest)';
  if (process.env.CI === 'true') throw new Error(`${msg} (required because CI=true)`);
  process.stderr.write(`NOTICE: skipping the Python control-socket tests: ${msg}\n`);
  return false;
}
const available = pythonStack();

/** A guest XML the profile's libvirt takes (older libvirt needs cbitpos written out). */
function sevGuest(profile: string, name: string, locked: boolean): string {
  const cbit = decodeCpuid(loadProfile(profile))!.cbitpos;
  return guestXml({
    name,
    launchSecurity: sevLaunch('0x0033', `<cbitpos>${cbit}</cbitpos><reducedPhysBits>1</reducedPhysBits>`),
    ...(!locked && { memory: '' }),
  });
}

describe.skipIf(!available)('the control socket from Python', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sevharness-ctl-py-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('every fault kind shows through libvirt-python and the sysroot; resetHandlers restores exactly', async () => {
    const dir = tmp();
    const profiles = ['naples-7001', 'milan-7003-es8'];
    const served = await serveWithControl(dir, profiles);
    try {
      expect(statSync(join(dir, 'ctl.sock')).mode & 0o777).toBe(0o600);
      const guests = Object.fromEntries(profiles.map((p) => [p, { sev: sevGuest(p, 'g', true), sevUnlocked: sevGuest(p, 'u', false) }]));
      writeFileSync(join(dir, 'guests.json'), JSON.stringify(guests));
      const r = await run(PYTHON, [join(ROOT, 'test/control/control_check.py'), served.json, join(dir, 'guests.json')]);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as Record<string, Record<string, Record<string, unknown> & { restored?: boolean }>>;
      for (const p of profiles) {
        const o = out[p]!;
        for (const kind of ['firmware', 'domcaps', 'kernelParam', 'devSevMissing', 'devSevEacces', 'memlock', 'cacheStale', 'cacheRefresh']) {
          expect(o[kind]?.restored, `${p} ${kind} restored`).toBe(true);
          expect((o[kind]?.listed as string[]).length, `${p} ${kind} listed`).toBe(kind === 'cacheRefresh' ? 2 : 1);
        }
        expect(o.firmware!.first).toMatch(/fw_error=23 'Required firmware resource depleted'/);
        expect(o.firmware!.second).toBeNull();
        expect(o.domcaps!.error).toMatch(/^error: .*qemu-system-x86_64/);
        // Kernel 5.4 prints an int parameter, 6.2 a bool.
        expect(o.kernelParam!.param).toBe(p === 'naples-7001' ? '0\n' : 'N\n');
        expect(o.kernelParam!.cmdline).toMatch(/kvm_amd\.sev=0\n$/);
        // libvirt 6.0 keeps its cache when kvm_amd reloads or /dev/sev goes; 9.0 re-probes.
        expect(o.kernelParam!.sevInDomcaps).toBe(p === 'naples-7001');
        expect(o.devSevMissing).toMatchObject({ present: false, sevInDomcaps: p === 'naples-7001' });
        // libvirt 6.0 lets the guest reach QEMU; 9.0, having re-probed, refuses it at define.
        expect(o.devSevMissing!.start).toMatch(p === 'naples-7001' ? /Path '\/dev\/sev' is not accessible/ : /SEV launch security is not supported/);
        expect(o.devSevEacces).toMatchObject({ mode: '0o0', sevInDomcaps: true });
        expect(o.devSevEacces!.start).toMatch(/Failed to open \/dev\/sev 'Permission denied'/);
        expect(o.memlock).toMatchObject({ start: null, default: 4 * 1024 * 1024 });
        expect(o.unlockedWithoutFault).toMatch(/Cannot allocate memory|-12/);
        expect(o.cacheStale!.sevInDomcaps).toBe(false);
        expect(o.cacheStale!.sevInfo).toMatch(/^error: .*SEV/);
        expect(o.cacheRefresh!.sevInDomcaps).toBe(false);
        expect(o.badFault).toEqual([400, expect.stringMatching(/^invalid fault: state/)]);
        expect(o.handlersAtEnd).toEqual([]);
        expect(o.restoredAtEnd).toBe(true);
      }
    } finally {
      await served.stop();
    }
    expect(() => statSync(join(dir, 'ctl.sock'))).toThrow(/ENOENT/);
  }, 180_000);

  it("README.md's Python example passes under pytest as written", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.indexOf('## Faults and inspection from any language');
    const start = readme.indexOf('```python\n', section) + '```python\n'.length;
    const dir = tmp();
    writeFileSync(join(dir, 'test_readme.py'), readme.slice(start, readme.indexOf('```', start)));
    const served = await serveWithControl(dir, ['naples-7001']);
    try {
      // The README's command line, run from the checkout with the test file where it was written.
      const r = await run('/usr/bin/env', ['PYTHONPATH=clients/python', `SEVHARNESS_SERVE_JSON=${served.json}`, 'sh', '-c', `cd ${ROOT} && ${PYTHON} -m pytest -q -p no:cacheprovider ${join(dir, 'test_readme.py')}`]);
      expect(r.stdout).toMatch(/1 passed/);
      expect(r.status).toBe(0);
    } finally {
      await served.stop();
    }
  }, 120_000);

  it("clients/python/test_example.py passes as its docstring runs it", async () => {
    const dir = tmp();
    const served = await serveWithControl(dir, ['naples-7001']);
    try {
      const r = await run('/usr/bin/env', [`SEVHARNESS_SERVE_JSON=${served.json}`, PYTHON, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', join(ROOT, 'clients/python/test_example.py')]);
      expect(r.stdout).toMatch(/3 passed/);
      expect(r.status).toBe(0);
    } finally {
      await served.stop();
    }
  }, 120_000);
});
