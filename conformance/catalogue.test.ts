import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allProfiles } from '../fakelibvirt/profile/load.ts';
import { CASES, NOVA_EXCLUSIONS, NOVA_SCENARIO_COUNT, caseById, casesByArea, novaScenarioIndex, AREAS, type Expectation } from './catalogue/index.ts';
import { DriverDescriptionSchema, HostReportSchema, RefusalSchema, inventoryKey, isRefusal } from './contract.ts';
import { REFUSAL_CODES, isRefusalCode } from './refusal-codes.ts';
import { profileTruth } from './truth.ts';

const truths = [...allProfiles().values()].map((p) => profileTruth(p));
const truth = (name: string) => {
  const t = truths.find((x) => x.name === name);
  if (!t) throw new Error(`no profile ${name}`);
  return t;
};
const expectationOf = (id: string, profile: string): Expectation => {
  const c = caseById(id);
  if (!c) throw new Error(`no case ${id}`);
  return c.expect(truth(profile));
};
const flatten = (e: Expectation): Expectation[] => (e.kind === 'all' ? e.of.flatMap(flatten) : [e]);

describe('catalogue identity', () => {
  it('ids are unique and read <area>.<kebab-words> with the case area', () => {
    const ids = CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of CASES) {
      expect(c.id).toMatch(/^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(c.id.split('.')[0]).toBe(c.area);
      expect(c.title.length).toBeGreaterThan(10);
      expect(c.why.length).toBeGreaterThan(10);
      expect(c.fact).toMatch(/(nova-sev|sev-hardware)\.md|fakelibvirt\//);
    }
  });

  it('every area has cases', () => {
    for (const a of AREAS) expect(CASES.some((c) => c.area === a), a).toBe(true);
  });

  it('maps every nova scenario 1–55 to a case or excludes it with a reason, never both', () => {
    const index = novaScenarioIndex();
    const excluded = new Map(NOVA_EXCLUSIONS.map((e) => [e.novaScenario, e.reason]));
    for (let n = 1; n <= NOVA_SCENARIO_COUNT; n++) {
      const mapped = index.has(n);
      expect(mapped || excluded.has(n), `scenario ${n}`).toBe(true);
      expect(mapped && excluded.has(n), `scenario ${n} both mapped and excluded`).toBe(false);
    }
    for (const [n, reason] of excluded) expect(reason.length, `exclusion ${n}`).toBeGreaterThan(20);
    for (const n of index.keys()) expect(n >= 1 && n <= NOVA_SCENARIO_COUNT).toBe(true);
  });
});

describe('every case on every profile', () => {
  it('appliesTo answers true or a reason, and expect runs without throwing', () => {
    expect(truths.length).toBeGreaterThanOrEqual(12);
    for (const t of truths) {
      for (const c of CASES) {
        const a = c.appliesTo(t);
        expect(a === true || (typeof a === 'string' && a.length > 0), `${c.id} on ${t.name}`).toBe(true);
        if (typeof c.given === 'function') c.given(t);
        const e = c.expect(t);
        for (const leaf of flatten(e)) {
          if (leaf.kind === 'refusal') {
            expect(isRefusalCode(leaf.code)).toBe(true);
            for (const alt of leaf.alternatives ?? []) expect(isRefusalCode(alt)).toBe(true);
          }
          if (leaf.kind === 'lifecycle' && leaf.outcome !== 'ok') expect(isRefusalCode(leaf.outcome)).toBe(true);
          if (leaf.kind === 'slots') expect(leaf.total, `${c.id} on ${t.name}`).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('every case applies to at least one profile', () => {
    const never = CASES.filter((c) => truths.every((t) => c.appliesTo(t) !== true)).map((c) => c.id);
    expect(never).toEqual([]);
  });

  it('applicable slot and inventory expectations are exact numbers from the profile', () => {
    for (const t of truths) {
      for (const c of CASES) {
        if (c.appliesTo(t) !== true) continue;
        for (const leaf of flatten(c.expect(t))) {
          if (leaf.kind === 'slots') expect(leaf.total, `${c.id} on ${t.name}`).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe('derived expectations (spot checks)', () => {
  it('milan-7003-es8: 502 SEV slots and 7 SEV-ES slots', () => {
    expect(expectationOf('slots.sev-exhaustion', 'milan-7003-es8')).toMatchObject({ kind: 'slots', model: 'sev', total: 502 });
    expect(expectationOf('slots.sev-es-exhaustion', 'milan-7003-es8')).toMatchObject({ kind: 'slots', model: 'sev-es', total: 7 });
    expect(flatten(expectationOf('inventory.es-slots-from-domcaps', 'milan-7003-es8'))).toContainEqual(
      expect.objectContaining({ kind: 'inventory', model: 'amd-sev-es', total: 7 }),
    );
    expect(caseById('slots.sev-es-exhaustion')?.appliesTo(truth('milan-7003-es8'))).toBe(true);
  });

  it('SEV-ES ASIDs lie below min_sev_asid on milan-7003-es8', () => {
    expect(expectationOf('boot.sev-es-guest-runs-encrypted', 'milan-7003-es8')).toMatchObject({ asidRange: { min: 1, max: 7 } });
    expect(expectationOf('boot.sev-guest-runs-encrypted', 'milan-7003-es8')).toMatchObject({ asidRange: { min: 8, max: 509 } });
  });

  it('intel host: SEV cases are not applicable because the host has no SEV', () => {
    const intel = truth('intel-xeon');
    for (const id of ['slots.sev-exhaustion', 'xml.launch-security', 'lifecycle.suspend-refused', 'boot.sev-guest-runs-encrypted']) {
      expect(caseById(id)?.appliesTo(intel)).toMatch(/host has no SEV/);
    }
    expect(caseById('inventory.no-sev-on-plain-host')?.appliesTo(intel)).toBe(true);
    expect(caseById('detect.kernel-param-missing')?.appliesTo(intel)).toBe(true);
  });

  it('cbitpos comes from the host: 47 on Naples, 51 on Milan', () => {
    const rule = (p: string) => {
      const e = expectationOf('xml.cbitpos-from-domcaps', p);
      return e.kind === 'xml' ? e.rules[0] : undefined;
    };
    expect(rule('naples-7001')).toMatchObject({ text: '47', present: true });
    expect(rule('milan-7003-es8')).toMatchObject({ text: '51', present: 'may' });
  });

  it('operator cap 16 on a 15-slot Naples: libvirt and the kernel cannot tell, the cap or the generation total', () => {
    expect(flatten(expectationOf('inventory.operator-cap', 'naples-7001'))).toContainEqual(
      // Anything from the true count (15) up to the cap is honest there.
      expect.objectContaining({ kind: 'inventory', total: [15, 16] }),
    );
    expect(flatten(expectationOf('inventory.operator-cap', 'milan-7003-253'))).toContainEqual(
      expect.objectContaining({ kind: 'inventory', total: 16 }),
    );
  });

  it('hosts without usable SEV get their own reason', () => {
    expect(caseById('detect.libvirt-cannot-probe')?.appliesTo(truth('rome-7002-libvirt51'))).toBe(true);
    expect(caseById('faults.stale-cache-reports-no-sev')?.appliesTo(truth('rome-7002-stale-cache'))).toBe(true);
    expect(caseById('faults.stale-cache-refreshed')?.appliesTo(truth('rome-7002-stale-cache'))).toBe(true);
    expect(caseById('detect.gain-sev-after-restart')?.appliesTo(truth('rome-7002-sev-off'))).toBe(true);
    expect(caseById('detect.sev-es-off-when-snp')?.appliesTo(truth('genoa-9004'))).toBe(true);
    expect(caseById('slots.sev-exhaustion')?.appliesTo(truth('milan-7003-all-es'))).toMatch(/no SEV/);
    expect(caseById('slots.sev-es-exhaustion')?.appliesTo(truth('milan-7003-all-es'))).toBe(true);
    const unaliased = caseById('request.unaliased-q35');
    for (const t of truths) {
      const g = unaliased?.given;
      if (unaliased?.appliesTo(t) === true && typeof g === 'function') {
        expect(g(t).request?.image?.properties?.hw_machine_type).toMatch(/^pc-q35-/);
      }
    }
  });
});

describe('README', () => {
  it('area case counts match the catalogue', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    for (const [a, cases] of casesByArea()) {
      expect(readme, a).toMatch(new RegExp(`\\| \`${a}\` \\| ${cases.length} \\|`));
    }
    expect(readme).toContain(`| **total** | **${CASES.length}** |`);
  });
});

describe('contract schemas', () => {
  it('validates a host report and rejects an unknown refusal code', () => {
    const report = {
      traits: ['HW_CPU_X86_AMD_SEV'],
      inventories: { [inventoryKey('amd-sev')]: { total: 502, min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 } },
      warnings: [],
      models: { 'amd-sev': { supported: true, slots: 502 } },
    };
    expect(HostReportSchema.parse(report).inventories.MEM_ENCRYPTION_CONTEXT?.total).toBe(502);
    expect(RefusalSchema.safeParse({ code: 'NOPE', message: 'x' }).success).toBe(false);
    expect(RefusalSchema.safeParse({ code: 'Q35_REQUIRED', message: 'x' }).success).toBe(true);
    expect(isRefusal({ code: 'Q35_REQUIRED', message: 'x' })).toBe(true);
    expect(DriverDescriptionSchema.safeParse({ name: 'x', version: '1', ops: ['reportHost', 'fly'] }).success).toBe(false);
  });

  it('every refusal code has an HTTP status, a meaning and a nova pointer', () => {
    for (const [code, info] of Object.entries(REFUSAL_CODES)) {
      expect(code).toMatch(/^[A-Z0-9_]+$/);
      expect(info.http).toBeGreaterThanOrEqual(400);
      expect(info.meaning.length).toBeGreaterThan(10);
      expect(info.nova.fact.length).toBeGreaterThan(0);
    }
  });

  it("the reference driver's refusal codes are all in the stable list", async () => {
    const path = new URL('../src/driver/refusals.ts', import.meta.url);
    if (!existsSync(path)) return;
    const mod: { REFUSALS?: Record<string, unknown> } = await import(path.href);
    for (const code of Object.keys(mod.REFUSALS ?? {})) expect(isRefusalCode(code), code).toBe(true);
  });
});
