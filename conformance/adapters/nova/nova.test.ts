/**
 * Unmodified nova Zed (Debian python3-nova 26.2.2) against the fake, through the nova adapter's
 * process protocol: nova's own supports_amd_sev on every profile, for the reason the profile
 * models, and nova-built SEV guests booting on the fake (ASID assigned, memory locked).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRefusal, type BootRequest, type HostReport } from '../../contract.ts';
import { startProcessDriver, type ProcessDriver } from '../process.ts';
import { profileTruth, type ProfileTruth } from '../../truth.ts';
import { loadProfile } from '../../../fakelibvirt/profile/load.ts';
import { versionAtLeast } from '../../../fakelibvirt/profile/version.ts';
import { materializeSysroot } from '../../../fakelibvirt/views/sysroot.ts';
import { startFake, type FakeDaemon } from '../../../test/daemon/helpers.ts';
import { NOVA_DRIVER_COMMAND, novaAvailable } from './command.ts';
import { readExpectedMatrix, runNova } from './generate-report.ts';
import { compareMatrix, matrixOf } from './report.ts';

const PROFILES = [
  'naples-7001', 'rome-7002', 'milan-7003-es8', 'milan-7003-253', 'milan-7003-all-es', 'genoa-9004', 'turin-9005',
  'intel-xeon', 'ryzen-desktop', 'rome-7002-sev-off', 'rome-7002-stale-cache', 'rome-7002-libvirt51',
] as const;

/** nova Zed's MIN_LIBVIRT_VERSION (nova/virt/libvirt/driver.py): below it nova-compute does not start. */
const NOVA_ZED_MIN_LIBVIRT = [6, 0, 0] as const;

/** What nova Zed's detection must answer on a profile, and the reason token it must give. */
function novaDetection(t: ProfileTruth): { supported: boolean; reason: string; computeStarts: boolean } {
  const computeStarts = versionAtLeast(t.profile.libvirt.version, ...NOVA_ZED_MIN_LIBVIRT);
  // Zed reads only the sysfs file and libvirt's <sev supported='yes'>: no vendor check, no maxGuests.
  if (t.kernel.sysfs.sev === undefined) return { supported: false, reason: 'kernel-param-missing', computeStarts };
  if (!t.kernel.sevEnabled) return { supported: false, reason: 'kernel-param-off', computeStarts };
  if (t.sevAtStart === null) return { supported: false, reason: 'no-sev-domcaps', computeStarts };
  return { supported: computeStarts, reason: 'detected', computeStarts };
}

const stack = novaAvailable();

describe.skipIf(!stack)('nova Zed against the fake', () => {
  let driver: ProcessDriver;
  const fakes = new Map<string, FakeDaemon & { sysroot: string }>();

  beforeAll(async () => {
    driver = await startProcessDriver(NOVA_DRIVER_COMMAND);
    for (const name of PROFILES) {
      const fake = await startFake(name);
      const sysroot = join(fake.dir, 'sysroot');
      materializeSysroot(fake.host.profile, fake.host.kernel, sysroot);
      fakes.set(name, { ...fake, sysroot });
    }
  }, 120_000);

  afterAll(async () => {
    await driver?.close?.();
    for (const f of fakes.values()) await f.close();
  });

  const report = (name: string): Promise<HostReport> => {
    const f = fakes.get(name)!;
    return driver.reportHost({ uri: f.uri, sysroot: f.sysroot, config: { machineTypes: {}, maxEncryptedGuests: null, ovmf: [] } });
  };

  test('hello names nova Zed and the operations it implements', () => {
    const d = driver.describe();
    expect(d.name).toBe('nova-zed-libvirt');
    expect(d.ops).toEqual(['reportHost', 'validateRequest', 'buildGuestXml', 'spawn', 'lifecycle']);
  });

  test.each(PROFILES)('%s: supports_amd_sev answers as nova Zed reads the profile, for its reason', async (name) => {
    const truth = profileTruth(loadProfile(name));
    const want = novaDetection(truth);
    const r = await report(name);
    const sev = r.models?.['amd-sev'];
    expect(sev?.supported).toBe(want.supported);
    expect(sev?.source).toContain(`: ${want.reason}`);
    if (want.supported) {
      expect(r.traits).toContain('HW_CPU_X86_AMD_SEV');
      // Zed cannot read maxGuests: "unlimited" slots (db MAX_INT) whatever the hardware has.
      expect(r.inventories.MEM_ENCRYPTION_CONTEXT).toEqual({
        total: 2147483647, min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0,
      });
      expect(r.sev).toEqual({ cbitpos: truth.cbitpos, reducedPhysBits: truth.reducedPhysBits });
    } else {
      expect(r.traits).not.toContain('HW_CPU_X86_AMD_SEV');
      expect(r.inventories.MEM_ENCRYPTION_CONTEXT).toBeUndefined();
    }
    if (!want.computeStarts) expect(r.warnings.join('\n')).toContain('Nova requires libvirt version 6.0.0 or greater');
    // Where the truth and nova disagree, it is nova's known gap, never the fake's doing.
    if (want.supported !== truth.sevUsableAtStart) expect(truth.maxGuests).toBe(0);
  });

  const SEV_REQUEST: BootRequest = {
    flavor: { name: 'm1.small', vcpus: 2, memoryMiB: 2048, diskGiB: 10, extraSpecs: { 'hw:mem_encryption': 'true' } },
    image: { id: '7b4c5d1e-2f3a-4b6c-8d9e-0a1b2c3d4e5f', name: 'cirros-uefi', properties: { hw_firmware_type: 'uefi', hw_machine_type: 'q35' }, volumeBacked: false },
    config: { machineTypes: {}, maxEncryptedGuests: null, ovmf: [] },
  };

  test.each(['naples-7001', 'rome-7002', 'milan-7003-es8', 'genoa-9004'])(
    '%s: nova builds an SEV guest that the fake boots encrypted with locked memory',
    async (name) => {
      const fake = fakes.get(name)!;
      const truth = profileTruth(loadProfile(name));
      const host = await report(name);
      const instance = { uuid: '0f4e8d2a-5b1c-4e3f-9a7d-6c2b1e0f3a4d', name: `instance-${name}` };
      const built = await driver.buildGuestXml!({ request: SEV_REQUEST, host, instance });
      if (isRefusal(built)) throw new Error(`buildGuestXml refused: ${built.message}`);
      expect(built.xml).toContain('<launchSecurity type="sev">');
      expect(built.xml).toContain(`<cbitpos>${truth.cbitpos}</cbitpos>`);

      const spawned = await driver.spawn!({ uri: fake.uri, xml: built.xml });
      if (isRefusal(spawned)) throw new Error(`spawn refused: ${spawned.message}`);
      expect(spawned).toEqual({ domainName: instance.name, uuid: instance.uuid });

      const snap = fake.host.control.inspect();
      const guest = snap.guests.find((g) => g.name === instance.name);
      expect(guest?.state).toBe('running');
      expect(guest?.policy).toBe('0x33');
      // Plain SEV guests take ASIDs from the range above the ES range: EDX … ECX.
      expect(guest?.asid).toBeGreaterThanOrEqual(truth.maxESGuests + 1);
      expect(guest?.asid).toBeLessThanOrEqual(truth.maxESGuests + truth.maxGuests);
      expect(guest?.firmwareState).toBe('RUNNING');
      // <locked/>: guest RAM (2 GiB) and QEMU's regions are pinned.
      expect(guest?.pinnedKiB).toBeGreaterThanOrEqual(2 * 1024 * 1024);
      // nova Zed still emits <vmcoreinfo/> for SEV guests (bug #2117170, fixed in 32.0.0).
      expect(guest?.faults).toEqual(['vmcoreinfo-needs-dma']);
    },
  );

  test.each(['rome-7002', 'milan-7003-es8', 'intel-xeon'])(
    '%s: nova reports CPU feature traits from libvirt\'s expanded baseline CPU',
    async (name) => {
      const r = await report(name);
      const amd = loadProfile(name).cpu.vendor === 'AuthenticAMD';
      // The capabilities model's features (libvirt's CPU map) as nova's os-traits names.
      expect(r.traits).toEqual(expect.arrayContaining(['HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE42', 'HW_CPU_X86_AESNI']));
      if (amd) expect(r.traits).toEqual(expect.arrayContaining(['HW_CPU_X86_SVM', 'HW_CPU_X86_SSE4A']));
      else expect(r.traits).not.toContain('HW_CPU_X86_SVM');
      expect(driver.stderrTail()).not.toContain('does not support full set of host capabilities');
    },
  );

  test('a non-boolean hw:mem_encryption is refused as nova\'s API does', async () => {
    const r = await driver.validateRequest!({ ...SEV_REQUEST, flavor: { ...SEV_REQUEST.flavor, extraSpecs: { 'hw:mem_encryption': 'tru' } } });
    expect(isRefusal(r) && r.code).toBe('INVALID_BOOLEAN');
  });
});

describe.skipIf(!stack)('nova Zed: the conformance matrix', () => {
  // Every case × profile, as `npm run nova-report` runs it; a flip in either direction means the
  // fake, the runner or the adapter changed what nova sees. Slow (the whole suite through nova).
  test('matches expected-matrix.json', async () => {
    const run = await runNova();
    const diffs = compareMatrix(readExpectedMatrix(), matrixOf(run.results));
    expect(diffs.map((d) => `${d.caseId} on ${d.profile}: expected ${d.expected}, got ${d.actual}`)).toEqual([]);
  }, 1_800_000);
});

describe.skipIf(!stack)('nova adapter fork server', () => {
  /** Pids of processes whose stdin is the given pipe (the adapter process and its forked driver). */
  const readersOf = (pipe: string): number[] =>
    readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/0`) === pipe;
      } catch {
        return false;
      }
    });

  test('a killed adapter process takes its forked nova driver with it', async () => {
    const fake = await startFake('rome-7002');
    const sysroot = join(fake.dir, 'sysroot');
    materializeSysroot(fake.host.profile, fake.host.kernel, sysroot);
    const child = spawn(NOVA_DRIVER_COMMAND[0]!, NOVA_DRIVER_COMMAND.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, SEVHARNESS_NOVA_FORKSERVER: '1' } });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const call = async (message: object): Promise<{ result?: { traits?: string[] } }> => {
      child.stdin!.write(`${JSON.stringify(message)}\n`);
      return JSON.parse(String((await lines.next()).value)) as { result?: { traits?: string[] } };
    };
    try {
      expect((await call({ id: 1, op: 'hello', params: { protocol: 1 } })).result).toBeDefined();
      const r = await call({ id: 2, op: 'reportHost', params: { uri: fake.uri, sysroot, config: { machineTypes: {}, maxEncryptedGuests: null, ovmf: [] } } });
      expect(r.result?.traits).toContain('HW_CPU_X86_AMD_SEV');
      const pipe = readlinkSync(`/proc/${child.pid}/fd/0`);
      const forked = readersOf(pipe).filter((pid) => pid !== child.pid);
      expect(forked).toHaveLength(1);
      child.kill('SIGKILL');
      await once(child, 'exit');
      // The monitor sees the adapter's socket close and kills the driver; wait for it to go.
      for (let i = 0; i < 200 && readersOf(pipe).length > 0; i++) await new Promise((res) => setTimeout(res, 50));
      expect(readersOf(pipe)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await fake.close();
    }
  }, 120_000);
});
