/**
 * Generated hosts: valid and self-consistent by construction (the schema and the facts of
 * sev-hardware.md §1), reproducible from their seed, varied where drivers go wrong (C-bit, ES split,
 * all-ES, SNP, stale caches), and shrinkable to a smallest failing host.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCpuid } from '../../fakelibvirt/profile/derive.ts';
import {
  DEFAULT_GENERATED_SEED,
  expandGeneratedSpec,
  GENERATION_FACTS,
  GeneratedSpecError,
  generatedProfile,
  hostArbitrary,
  isGeneratedName,
  shrinkFailingHost,
  SUPPORTED_STACKS,
} from '../../fakelibvirt/profile/generate.ts';
import { HardwareProfileSchema, type HardwareProfile } from '../../fakelibvirt/profile/schema.ts';
import { versionAtLeast } from '../../fakelibvirt/profile/version.ts';
import { profileTruth } from '../../conformance/truth.ts';

const hosts = (spec: string): HardwareProfile[] => expandGeneratedSpec(spec)!.map((n) => generatedProfile(n)!);

/** The facts a generated host must keep, whatever was drawn. */
function checkConsistent(p: HardwareProfile): void {
  expect(HardwareProfileSchema.safeParse(p).success).toBe(true);
  const g = GENERATION_FACTS[p.generation as keyof typeof GENERATION_FACTS];
  expect(g).toBeDefined();
  const c = decodeCpuid(p)!;
  expect(c.maxSevAsid).toBeGreaterThanOrEqual(1);
  expect(c.maxSevAsid).toBeLessThanOrEqual(g.maxAsids);
  expect(c.minSevAsid).toBeGreaterThanOrEqual(1);
  expect(c.minSevAsid).toBeLessThanOrEqual(c.maxSevAsid + 1);
  // The C-bit lies among the address bits the reduction removes: [physBits − reduction, physBits − 1].
  expect(c.cbitpos).toBeLessThanOrEqual(g.physBits - 1);
  expect(c.cbitpos).toBeGreaterThanOrEqual(g.physBits - c.hostPhysBitsReduction);
  expect(c.snpBit).toBe(g.snp);
  if (p.firmware!.snpEnabledInBios) expect(g.snp).toBe(true);
  if (p.libvirt.capabilityCacheStale) expect(versionAtLeast(p.libvirt.version, 6, 5)).toBe(false);
  expect(SUPPORTED_STACKS.some((s) => s.kernel === p.kernel.version && s.libvirt === p.libvirt.version && s.qemu === p.qemu.version)).toBe(true);
  const [maj, min] = p.qemu.version.split('.');
  expect(p.qemu.machineTypes.find((m) => m.alias === 'q35')?.name).toBe(`pc-q35-${maj}.${min}`);
  expect(p.qemu.ovmf.some((o) => o.code.includes('OVMF_CODE') && !o.code.includes('secboot'))).toBe(true);
}

describe('generated hosts', () => {
  it('generated:N[:SEED] names N hosts; bad specs are refused', () => {
    expect(expandGeneratedSpec('generated:3:42')).toEqual(['gen-42-0', 'gen-42-1', 'gen-42-2']);
    expect(expandGeneratedSpec('generated:2')).toEqual([`gen-${DEFAULT_GENERATED_SEED}-0`, `gen-${DEFAULT_GENERATED_SEED}-1`]);
    expect(expandGeneratedSpec('rome-7002')).toBeNull();
    for (const bad of ['generated:', 'generated:0', 'generated:x', 'generated:2:-1', 'generated:1001', 'generated:1:99999999999']) {
      expect(() => expandGeneratedSpec(bad), bad).toThrow(GeneratedSpecError);
    }
    expect(isGeneratedName('gen-42-2')).toBe(true);
    expect(isGeneratedName('rome-7002')).toBe(false);
    expect(generatedProfile('rome-7002')).toBeNull();
  });

  it('are valid and self-consistent (60 of one seed, and any draw fast-check makes)', () => {
    for (const p of hosts('generated:60:7')) checkConsistent(p);
    fc.assert(fc.property(hostArbitrary('gen-prop'), (p) => {
      checkConsistent(p);
      profileTruth(p);
    }), { numRuns: 40, seed: 11 });
  });

  it('are reproducible from the seed, and another seed gives other hosts', () => {
    const a = hosts('generated:5:1234');
    expect(hosts('generated:5:1234')).toEqual(a);
    // A later index does not change the earlier ones (references stay valid as N grows).
    expect(hosts('generated:8:1234').slice(0, 5)).toEqual(a);
    expect(hosts('generated:5:1235').map((p) => p.description)).not.toEqual(a.map((p) => p.description));
  });

  it('cover what bundled profiles do not: C-bits off the generation tables, odd ES splits, all-ES, SNP, stale caches', () => {
    const truths = hosts('generated:150:99').map((p) => profileTruth(p));
    const offTable = truths.filter((t) => t.sevUsable && t.cbitpos !== (GENERATION_FACTS[t.profile.generation as keyof typeof GENERATION_FACTS].physBits - 1));
    expect(offTable.length).toBeGreaterThan(10);
    expect(truths.filter((t) => t.sevUsable).length).toBeGreaterThan(50);
    expect(truths.filter((t) => t.sevEsUsable && ![7, 99].includes(t.maxESGuests)).length).toBeGreaterThan(10);
    expect(truths.filter((t) => t.sev !== null && t.maxGuests === 0).length).toBeGreaterThan(1);
    expect(truths.filter((t) => t.snpUsable).length).toBeGreaterThan(0);
    expect(truths.filter((t) => t.staleCache).length).toBeGreaterThan(1);
    expect(truths.filter((t) => !t.profile.devSev.present).length).toBeGreaterThan(1);
  });

  it('shrink to a smallest host on which the check still fails', async () => {
    // A check that a generation-table driver fails: the C-bit is not the generation's usual one.
    const tableCbit = (p: HardwareProfile) => GENERATION_FACTS[p.generation as keyof typeof GENERATION_FACTS].physBits - 1;
    const failing = expandGeneratedSpec('generated:50:99')!.find((n) => decodeCpuid(generatedProfile(n)!)!.cbitpos !== tableCbit(generatedProfile(n)!))!;
    const fails = async (p: HardwareProfile) => decodeCpuid(p)!.cbitpos !== tableCbit(p);
    const shrunk = await shrinkFailingHost(failing, fails, 20_000);
    expect(shrunk).not.toBeNull();
    const c = decodeCpuid(shrunk!.profile)!;
    expect(shrunk!.profile.name).toBe(`${failing}-min`);
    expect(c.cbitpos).toBe(tableCbit(shrunk!.profile) - 1); // one below the top: the least change that still fails
    expect(c.maxSevAsid).toBe(1); // every other draw at its smallest
    expect(c.hostPhysBitsReduction).toBe(2);
    expect(shrunk!.tried).toBeGreaterThan(1);
    checkConsistent(shrunk!.profile);
    // A host that does not fail has nothing to shrink.
    const passing = expandGeneratedSpec('generated:50:99')!.find((n) => !(decodeCpuid(generatedProfile(n)!)!.cbitpos !== tableCbit(generatedProfile(n)!)))!;
    expect(await shrinkFailingHost(passing, fails, 5_000)).toBeNull();
  });
});
