/**
 * The Python example driver, run through the process adapter against a fake daemon and a
 * materialised sysroot for every hardware profile: its report must say what the profile's truth says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEM_ENCRYPTION_CONTEXT, inventoryKey, isRefusal, warningCode, warningMessage, type BootRequest, type DriverConfig, type HostReport, type Outcome, type ValidatedRequest } from '../../contract.ts';
import { REFUSAL_CODE_LIST } from '../../refusal-codes.ts';
import { STANDARD_FLAVOR, STANDARD_IMAGE } from '../../catalogue/requests.ts';
import { profileTruth, slotsKnowable } from '../../truth.ts';
import { deriveKernel } from '../../../fakelibvirt/profile/derive.ts';
import { allProfiles } from '../../../fakelibvirt/profile/load.ts';
import { materializeSysroot } from '../../../fakelibvirt/views/sysroot.ts';
import { requireRealStack } from '../../../containers/real-stack.ts';
import { python, run, startFake } from '../../../test/daemon/helpers.ts';
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

  it('describes itself as a driver that detects and validates, and builds no guests', () => {
    expect(driver.describe()).toMatchObject({ name: 'python-example', ops: ['reportHost', 'validateRequest'], models: [] });
    expect(driver.buildGuestXml).toBeUndefined();
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
    expect(capped.warnings.filter((w) => warningCode(w) === 'CAP_EXCEEDS_HOST')).toEqual([]);

    const over = await report('milan-7003-es8', { ...NO_CAP, maxEncryptedGuests: 600 });
    expect(over.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(502);
    expect(over.warnings.some((w) => warningCode(w) === 'CAP_EXCEEDS_HOST' && /\b600\b.*\b502\b/.test(warningMessage(w)))).toBe(true);

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
    expect(plain.warnings.some((w) => warningCode(w) === 'CAP_WITHOUT_SEV' && /\b16\b/.test(warningMessage(w)))).toBe(true);
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

  describe('validateRequest', () => {
    const SEV_SPECS = { 'hw:mem_encryption': 'true' };
    /** The suite's standard request with flavor extra specs, image properties and config replaced. */
    function request(extraSpecs: Record<string, string>, properties: Record<string, string | boolean> = STANDARD_IMAGE.properties, config: DriverConfig = NO_CAP): BootRequest {
      return { flavor: { ...STANDARD_FLAVOR, extraSpecs }, image: { ...STANDARD_IMAGE, properties }, config };
    }
    async function validate(r: BootRequest, host?: HostReport): Promise<Outcome<ValidatedRequest>> {
      return driver.validateRequest!({ ...r, ...(host && { host }) });
    }
    const codeOf = (o: Outcome<ValidatedRequest>): string => (isRefusal(o) ? o.code : `accepted (model ${o.model ?? 'none'})`);

    it('turns an SEV-ES model into an SEV-ES slot and trait (the runner leaves this to drivers that build ES guests)', async () => {
      const r = await validate(request({ ...SEV_SPECS, 'hw:mem_encryption_model': 'amd-sev-es' }));
      expect(r).toEqual({ resources: { [inventoryKey('amd-sev-es')]: 1 }, requiredTraits: [ES_TRAIT], model: 'amd-sev-es', machineType: 'q35' });
    });

    it('accepts SNP with stateless firmware, refuses bad booleans in image properties and non-string machine types', async () => {
      const snp = await validate(request({ ...SEV_SPECS, 'hw:mem_encryption_model': 'amd-sev-snp' }, { ...STANDARD_IMAGE.properties, hw_firmware_stateless: 'True' }));
      expect(snp).toMatchObject({ model: 'amd-sev-snp', resources: { [inventoryKey('amd-sev-snp')]: 1 } });
      expect(codeOf(await validate(request({}, { ...STANDARD_IMAGE.properties, hw_mem_encryption: 'maybe' })))).toBe('INVALID_BOOLEAN');
      expect(codeOf(await validate(request(SEV_SPECS, { hw_firmware_type: 'uefi', hw_machine_type: true })))).toBe('INVALID_REQUEST');
    });

    it('checks a named machine type against what the host it reported offers', async () => {
      const milan = await report('milan-7003-es8');
      expect(codeOf(await validate(request(SEV_SPECS, { hw_firmware_type: 'uefi', hw_machine_type: 'pc-q35-7.2' }), milan))).toBe('accepted (model amd-sev)');
      expect(codeOf(await validate(request(SEV_SPECS, { hw_firmware_type: 'uefi', hw_machine_type: 'pc-q35-1.0' }), milan))).toBe('UNKNOWN_MACHINE_TYPE');
      // A plain guest on a machine the host lacks is refused too; one naming none is the host's choice.
      expect(codeOf(await validate(request({}, { hw_machine_type: 'pc-i440fx-1.0' }), milan))).toBe('UNKNOWN_MACHINE_TYPE');
      expect(codeOf(await validate(request({}, {}), milan))).toBe('accepted (model none)');
      // The ARM host offers no x86_64 machine at all.
      expect(codeOf(await validate(request({}, { hw_machine_type: 'q35' }), await report('ampere-altra')))).toBe('UNKNOWN_MACHINE_TYPE');
    });

    it("skips the machine check for a report it did not produce, but still reads the report's models and slots", async () => {
      const milan = await report('milan-7003-es8');
      const foreign: HostReport = { ...milan, warnings: [...milan.warnings, 'made elsewhere'] };
      expect(codeOf(await validate(request(SEV_SPECS, { hw_firmware_type: 'uefi', hw_machine_type: 'pc-q35-1.0' }), foreign))).toBe('accepted (model amd-sev)');
      const plain = await report('intel-xeon');
      expect(codeOf(await validate(request(SEV_SPECS), { ...plain, warnings: ['made elsewhere'] }))).toBe('NO_SEV_HOST');
    });

    it('refuses a model the host has no support or no slots for', async () => {
      const es = request({ ...SEV_SPECS, 'hw:mem_encryption_model': 'amd-sev-es' });
      expect(codeOf(await validate(request(SEV_SPECS), await report('intel-xeon')))).toBe('NO_SEV_HOST');
      expect(codeOf(await validate(es, await report('rome-7002')))).toBe('SEV_ES_UNAVAILABLE');
      expect(codeOf(await validate(es, await report('milan-7003-es8')))).toBe('accepted (model amd-sev-es)');
      expect(codeOf(await validate(request(SEV_SPECS), await report('rome-7002', { ...NO_CAP, maxEncryptedGuests: 0 })))).toBe('NO_SLOTS');
    });
  });

  it('answers malformed validateRequest params with BAD_REQUEST, line by line', async () => {
    const lines = [
      { id: 0, op: 'hello', params: { protocol: 1, suite: 'test', suiteVersion: '0' } },
      { id: 1, op: 'validateRequest', params: { flavor: 'm1.small', image: STANDARD_IMAGE, config: NO_CAP } },
      { id: 2, op: 'validateRequest', params: { flavor: { ...STANDARD_FLAVOR, extraSpecs: { 'hw:mem_encryption': true } }, image: STANDARD_IMAGE, config: NO_CAP } },
      { id: 3, op: 'validateRequest', params: { flavor: STANDARD_FLAVOR, image: STANDARD_IMAGE, config: NO_CAP, host: [] } },
      { id: 4, op: 'validateRequest', params: { flavor: STANDARD_FLAVOR, image: STANDARD_IMAGE, config: NO_CAP } },
    ];
    const r = await run('/usr/bin/python3', [DRIVER], lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; error?: { code: string } });
    expect(answers.map((a) => a.error?.code ?? 'ok')).toEqual(['ok', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'ok']);
  });

  it('refuses only with codes of refusal-codes.ts', async () => {
    const out = await python(`import sys, re, json; sys.path.insert(0, ${JSON.stringify(fileURLToPath(new URL('.', import.meta.url)))})
import validation
source = open(validation.__file__).read()
print(json.dumps(re.findall(r'Refusal\\("([A-Z_]+)"', source) + list(validation.UNSUPPORTED_MODEL_CODES.values())))`);
    expect(out.status, out.stderr).toBe(0);
    const codes = JSON.parse(out.stdout) as string[];
    expect(codes.length).toBeGreaterThan(10);
    expect(codes.filter((c) => !(REFUSAL_CODE_LIST as readonly string[]).includes(c))).toEqual([]);
  });

  it('remembers the machines of equal reports from different hosts as the union (refusing only what none offers)', async () => {
    const script = `import sys, json; sys.path.insert(0, ${JSON.stringify(fileURLToPath(new URL('.', import.meta.url)))})
from validation import KnownHosts
h = KnownHosts(); r = {"traits": [], "inventories": {}, "allocation_ratio": 1.0}
h.remember(r, {"q35"}); h.remember(r, {"virt"}); both = sorted(h.offered_machines({**r, "allocation_ratio": 1}))
h.remember(r, None); print(json.dumps([both, h.offered_machines(r)]))`;
    const out = await python(script);
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual([['q35', 'virt'], null]);
  });
});
