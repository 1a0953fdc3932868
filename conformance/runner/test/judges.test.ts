/** Each judge passes the right answer and fails the wrong one, on hand-made driver answers. */
import { afterEach, describe, expect, it } from 'vitest';
import { inventoryKey, MODEL_TRAITS, type SevDriver, type ValidatedRequest } from '../../contract.ts';
import { SEV } from '../../catalogue/requests.ts';
import type { Expectation } from '../../catalogue/types.ts';
import { guestXml } from '../../../test/daemon/helpers.ts';
import { FakeHost } from '../../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../../fakelibvirt/profile/load.ts';
import { judge } from '../judges/index.ts';
import { judgeGuest } from '../judges/boot.ts';
import { MalformedAnswer } from '../outcomes.ts';
import { contextFor, type TestContext } from './context.ts';
import { describeAs, sevReport } from './toy-drivers.ts';

const opened: TestContext[] = [];
let open: TestContext | null = null;
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

async function verdict(driver: SevDriver, exp: Expectation, opts: Parameters<typeof contextFor>[1] = {}) {
  open = await contextFor(driver, opts);
  opened.push(open);
  return judge(exp, open.ctx);
}

const reporting = (report: ReturnType<typeof sevReport>): SevDriver => ({ describe: describeAs(['reportHost']), reportHost: async () => report });

describe('report judges', () => {
  it('detection: passes the matching report, fails the other with both sides named', async () => {
    expect(await verdict(reporting(sevReport(5)), { kind: 'detection', sev: true })).toEqual({ ok: true });
    const v = await verdict(reporting(sevReport(null)), { kind: 'detection', sev: true });
    expect(v).toEqual({ ok: false, reason: 'expected SEV detected: yes, driver reported no' });
  });

  it('detection falls back to the trait when the report has no models', async () => {
    const r = { ...sevReport(5), models: undefined };
    expect((await verdict(reporting(r), { kind: 'detection', sev: true, sevEs: false })).ok).toBe(true);
    expect((await verdict(reporting(r), { kind: 'detection', sev: true, sevEs: true })).ok).toBe(false);
  });

  it('inventory: exact total, absence, presence and shape', async () => {
    const exp = (total: number | null | 'present'): Expectation => ({ kind: 'inventory', model: 'amd-sev', total });
    expect((await verdict(reporting(sevReport(7)), exp(7))).ok).toBe(true);
    expect(await verdict(reporting(sevReport(7)), exp(8))).toEqual({ ok: false, reason: 'expected MEM_ENCRYPTION_CONTEXT total 8, driver reported 7' });
    expect((await verdict(reporting(sevReport(null)), exp(null))).ok).toBe(true);
    expect((await verdict(reporting(sevReport(7)), exp(null))).ok).toBe(false);
    expect((await verdict(reporting(sevReport(null)), exp('present'))).ok).toBe(false);
    const skewed = sevReport(7);
    skewed.inventories[inventoryKey('amd-sev')] = { ...skewed.inventories[inventoryKey('amd-sev')]!, allocation_ratio: 16 };
    const shape = { min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 } as const;
    const v = await verdict(reporting(skewed), { kind: 'inventory', model: 'amd-sev', total: 7, shape });
    expect(v).toEqual({ ok: false, reason: 'MEM_ENCRYPTION_CONTEXT inventory shape: allocation_ratio 16, expected 1' });
  });

  it('traits, sev-facts, warning and no-warning', async () => {
    const r = sevReport(3, { warnings: [{ code: 'CAP_EXCEEDS_HOST', message: 'num_memory_encrypted_guests 16 exceeds the 3 slots' }, 'CAP_WITHOUT_SEV named in plain text'] });
    expect((await verdict(reporting(r), { kind: 'traits', includes: [MODEL_TRAITS['amd-sev']], excludes: [MODEL_TRAITS['amd-sev-es']] })).ok).toBe(true);
    expect((await verdict(reporting(r), { kind: 'traits', includes: [MODEL_TRAITS['amd-sev-es']], excludes: [] })).ok).toBe(false);
    expect((await verdict(reporting(r), { kind: 'sev-facts', cbitpos: 51, reducedPhysBits: 1 })).ok).toBe(true);
    expect((await verdict(reporting(r), { kind: 'sev-facts', cbitpos: 47, reducedPhysBits: 1 })).ok).toBe(false);
    expect((await verdict(reporting(r), { kind: 'warning', code: 'CAP_EXCEEDS_HOST' })).ok).toBe(true);
    expect((await verdict(reporting(r), { kind: 'no-warning', code: 'CAP_EXCEEDS_HOST' })).ok).toBe(false);
    // Codes are matched, texts never: a plain-text warning naming a code neither satisfies nor violates.
    expect((await verdict(reporting(r), { kind: 'warning', code: 'CAP_WITHOUT_SEV' })).ok).toBe(false);
    expect((await verdict(reporting(r), { kind: 'no-warning', code: 'CAP_WITHOUT_SEV' })).ok).toBe(true);
    expect((await verdict(reporting(sevReport(3)), { kind: 'warning', code: 'GUESTS_EXCEED_SLOTS' }))).toEqual({ ok: false, reason: 'expected a warning with code GUESTS_EXCEED_SLOTS, driver warned nothing' });
  });

  it('a malformed report is a MalformedAnswer naming the field', async () => {
    const bad = { describe: describeAs(['reportHost']), reportHost: async () => ({ traits: 'HW_CPU_X86_AMD_SEV' }) } as unknown as SevDriver;
    await expect(verdict(bad, { kind: 'detection', sev: true })).rejects.toThrow(MalformedAnswer);
    await expect(judge({ kind: 'detection', sev: true }, open!.ctx)).rejects.toThrow(/reportHost answered a malformed result: traits: /);
  });
});

describe('request and refusal judges', () => {
  const validating = (answer: ValidatedRequest | { code: string; message: string }): SevDriver => ({
    describe: describeAs(['reportHost', 'validateRequest']),
    reportHost: async () => sevReport(5),
    validateRequest: async () => answer as ValidatedRequest,
  });
  const sevExp: Expectation = { kind: 'request', model: 'amd-sev', resources: { MEM_ENCRYPTION_CONTEXT: 1 }, requiredTraits: { includes: [], excludes: [MODEL_TRAITS['amd-sev-es']] } };

  it('request: the right translation passes; another model, a missing slot or a stray slot fails', async () => {
    const right = { model: 'amd-sev', resources: { MEM_ENCRYPTION_CONTEXT: 1, VCPU: 2 }, requiredTraits: [] } as const;
    expect((await verdict(validating({ ...right, resources: { ...right.resources } , requiredTraits: [] }), sevExp, { request: SEV })).ok).toBe(true);
    expect(await verdict(validating({ ...right, model: null, resources: {}, requiredTraits: [] }), sevExp)).toEqual({ ok: false, reason: 'expected model amd-sev, driver derived null' });
    const plain: Expectation = { kind: 'request', model: null, resources: {}, requiredTraits: { includes: [], excludes: [] } };
    expect(await verdict(validating({ model: null, resources: { 'MEM_ENCRYPTION_CONTEXT/amd-sev-es': 1 }, requiredTraits: [] }), plain)).toEqual({
      ok: false, reason: 'expected no MEM_ENCRYPTION_CONTEXT/amd-sev-es, driver asked for MEM_ENCRYPTION_CONTEXT/amd-sev-es: 1',
    });
  });

  it('refusal: the code or an alternative passes; another code or an acceptance fails', async () => {
    const exp: Expectation = { kind: 'refusal', op: 'validateRequest', code: 'UNKNOWN_MACHINE_TYPE', alternatives: ['NO_SEV_DOMAIN_CAPS'] };
    expect((await verdict(validating({ code: 'UNKNOWN_MACHINE_TYPE', message: 'm' }), exp)).ok).toBe(true);
    expect((await verdict(validating({ code: 'NO_SEV_DOMAIN_CAPS', message: 'm' }), exp)).ok).toBe(true);
    expect(await verdict(validating({ code: 'Q35_REQUIRED', message: 'pc' }), exp)).toEqual({
      ok: false, reason: 'expected validateRequest refused with UNKNOWN_MACHINE_TYPE or NO_SEV_DOMAIN_CAPS, driver refused Q35_REQUIRED (pc)',
    });
    expect((await verdict(validating({ model: 'amd-sev', resources: {}, requiredTraits: [] }), exp)).ok).toBe(false);
  });

  it('a refusal with an unknown code is malformed', async () => {
    const exp: Expectation = { kind: 'refusal', op: 'validateRequest', code: 'Q35_REQUIRED' };
    await expect(verdict(validating({ code: 'NOPE', message: 'm' }), exp)).rejects.toThrow(/malformed refusal: code: /);
  });
});

describe('boot judge on the fake host', () => {
  const exp = {
    kind: 'boot', asidKind: 'sev', asidRange: { min: 8, max: 509 }, policy: { set: 0x3, clear: 0x4 }, pinnedKiBAtLeast: 524288, firmwareState: 'RUNNING',
  } as const;

  function hostWith(policy: string): FakeHost {
    const host = new FakeHost(loadProfile('milan-7003-es8'));
    const xml = guestXml({ name: 'g', uuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809', sev: true }).replace('0x0033', policy);
    host.create(host.defineXML(xml));
    return host;
  }

  it('passes a guest launched with policy 0x33 in the SEV range', () => {
    expect(judgeGuest(hostWith('0x0033').control.inspect(), 'g', exp)).toEqual({ ok: true });
  });

  it('fails a guest whose policy lacks NOKS, and a range that excludes its ASID', () => {
    expect(judgeGuest(hostWith('0x0031').control.inspect(), 'g', exp)).toEqual({ ok: false, reason: 'guest policy 0x31 lacks bits 0x2' });
    const v = judgeGuest(hostWith('0x0033').control.inspect(), 'g', { ...exp, asidRange: { min: 1, max: 7 } });
    expect(v.ok).toBe(false);
    expect(judgeGuest(hostWith('0x0033').control.inspect(), 'other', exp)).toEqual({ ok: false, reason: 'spawn answered domain other, which the host does not know' });
  });
});
