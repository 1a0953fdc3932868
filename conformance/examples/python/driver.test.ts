/**
 * The Python example driver, run through the process adapter against a fake daemon and a
 * materialised sysroot for every hardware profile: its report must say what the profile's truth says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEM_ENCRYPTION_CONTEXT, inventoryKey, type DriverConfig, type HostReport } from '../../contract.ts';
import { profileTruth, slotsKnowable } from '../../truth.ts';
import { deriveKernel } from '../../../fakelibvirt/profile/derive.ts';
import { allProfiles } from '../../../fakelibvirt/profile/load.ts';
import { materializeSysroot } from '../../../fakelibvirt/views/sysroot.ts';
import { requireRealStack } from '../../../test/support/real-stack.ts';
import { startFake } from '../../../test/daemon/helpers.ts';
import { startProcessDriver, type ProcessDriver } from '../../adapters/process.ts';

const stack = requireRealStack(['/usr/bin/python3']);
const DRIVER = fileURLToPath(new URL('./driver.py', import.meta.url));
const SEV_TRAIT = 'HW_CPU_X86_AMD_SEV';
const ES_TRAIT = 'HW_CPU_X86_AMD_SEV_ES';
const SLOT_SHAPE = { min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 };
const NO_CAP: DriverConfig = { machineTypes: {}, maxEncryptedGuests: null, ovmf: [] };
const profiles = [...allProfiles().values()];

describe.skipIf(!stack.available)('python example driver', () => {
  let driver: ProcessDriver;
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-pydriver-'));
  beforeAll(async () => {
    driver = await startProcessDriver(['/usr/bin/python3', DRIVER], { timeouts: { hello: 10_000, op: 20_000 } });
  });
  afterAll(async () => {
    await driver?.close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One report of the profile's freshly started fake host. */
  async function report(name: string, config: DriverConfig = NO_CAP): Promise<HostReport> {
    const profile = profiles.find((p) => p.name === name)!;
    const sysroot = mkdtempSync(join(dir, `${name}-`));
    materializeSysroot(profile, deriveKernel(profile), sysroot);
    const fake = await startFake(name);
    try {
      return await driver.reportHost({ uri: fake.uri, sysroot, config });
    } finally {
      await fake.close();
    }
  }

  it('describes itself as a detection-only driver', () => {
    expect(driver.describe()).toMatchObject({ name: 'python-example', ops: ['reportHost'] });
    expect(driver.validateRequest).toBeUndefined();
  });

  it.each(profiles.map((p) => [p.name]))('%s: traits, slots and SEV facts match the truth', async (name) => {
    const t = profileTruth(profiles.find((p) => p.name === name)!);
    const r = await report(name);
    const sev = t.sevUsableAtStart;
    const es = t.sevEsUsable && t.sevAtStart !== null;

    expect(r.traits.includes(SEV_TRAIT)).toBe(sev);
    expect(r.traits.includes(ES_TRAIT)).toBe(es);
    expect(r.models?.['amd-sev']?.supported).toBe(sev);
    expect(r.models?.['amd-sev-es']?.supported).toBe(es);

    const sevInv = r.inventories[MEM_ENCRYPTION_CONTEXT];
    if (!sev || t.maxGuests === 0) expect(sevInv).toBeUndefined();
    else if (slotsKnowable(t)) expect(sevInv).toEqual({ total: t.maxGuests, ...SLOT_SHAPE });
    else expect(sevInv).toMatchObject({ ...SLOT_SHAPE, total: expect.any(Number) }); // unknowable: nova's "unlimited"

    const esInv = r.inventories[inventoryKey('amd-sev-es')];
    if (es) expect(esInv).toEqual({ total: t.maxESGuests, ...SLOT_SHAPE });
    else expect(esInv).toBeUndefined();

    if (sev) expect(r.sev).toEqual({ cbitpos: t.cbitpos, reducedPhysBits: t.reducedPhysBits });
    expect(r.models?.['amd-sev-snp']?.supported).toBe(t.snpUsable && t.kernel.snpEnabled);
  });

  it('lowers the slots to an operator cap and never raises them, naming both numbers', async () => {
    const capped = await report('milan-7003-es8', { ...NO_CAP, maxEncryptedGuests: 16 });
    expect(capped.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(16);
    expect(capped.warnings.filter((w) => /encrypted guests|maxEncryptedGuests/.test(w))).toEqual([]);

    const over = await report('milan-7003-es8', { ...NO_CAP, maxEncryptedGuests: 600 });
    expect(over.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(502);
    expect(over.warnings.some((w) => /\b600\b.*\b502\b/.test(w))).toBe(true);

    // maxGuests unknowable (libvirt 6.0, kernel 5.4): the cap is all there is.
    const naples = await report('naples-7001', { ...NO_CAP, maxEncryptedGuests: 16 });
    expect(naples.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(16);
  });

  it('cap 0 keeps the trait and drops the inventory; a cap on a host without SEV warns', async () => {
    const zero = await report('rome-7002', { ...NO_CAP, maxEncryptedGuests: 0 });
    expect(zero.traits).toContain(SEV_TRAIT);
    expect(zero.inventories[MEM_ENCRYPTION_CONTEXT]).toBeUndefined();

    const plain = await report('intel-xeon', { ...NO_CAP, maxEncryptedGuests: 16 });
    expect(plain.inventories).toEqual({});
    expect(plain.warnings.some((w) => /not SEV-capable/.test(w) && /\b16\b/.test(w))).toBe(true);
  });

  it('answers bad params with BAD_REQUEST and an unreachable libvirt with INTERNAL, and keeps serving', async () => {
    const sysroot = mkdtempSync(join(dir, 'empty-'));
    await expect(driver.reportHost({ uri: 'qemu+unix:///system?socket=/nonexistent/sock', sysroot, config: NO_CAP })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/nonexistent|No such file/),
    });
    await expect(driver.reportHost({ uri: 'qemu+ssh://host/system', sysroot, config: NO_CAP })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/transport 'ssh' is not supported/),
    });
    expect((await report('rome-7002')).traits).toContain(SEV_TRAIT);
  });
});
