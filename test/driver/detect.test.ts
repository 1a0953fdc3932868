import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { materializeSysroot } from '../../fakelibvirt/views/sysroot.ts';
import { asidCeiling } from '../../src/driver/asid-ceiling.ts';
import { boolFromString, CPUINFO_FILE, detectHost, warningText, KVM_AMD_PARAM_DIR, MISC_CAPACITY_FILE } from '../../src/driver/detect.ts';
import { FakeHostSource } from '../../conformance/fake-host-source.ts';
import { SysrootFiles } from '../../src/driver/host-source.ts';
import { RC_MEM_ENCRYPTION_CONTEXT, TRAIT_SEV, TRAIT_SEV_ES, TRAIT_SEV_SNP } from '../../src/driver/inventory.ts';
import { profileNames, setup } from './helpers.ts';

/** Expected detection per bundled profile (config x86_64=q35, no slot option). */
const EXPECTED: Record<string, { sev: [boolean, number]; es: [boolean, number]; snp: [boolean, number]; cbitpos?: number }> = {
  'genoa-9004': { sev: [true, 907], es: [false, 0], snp: [true, 99], cbitpos: 51 },
  'genoa-9004-trixie': { sev: [true, 907], es: [false, 0], snp: [true, 99], cbitpos: 51 },
  'intel-xeon': { sev: [false, 0], es: [false, 0], snp: [false, 0] },
  'ampere-altra': { sev: [false, 0], es: [false, 0], snp: [false, 0] },
  'milan-7003-253': { sev: [true, 253], es: [false, 0], snp: [false, 0], cbitpos: 51 },
  // Every ASID given to SEV-ES: plain SEV is not offered (no SEV trait), its refusal is NO_SLOTS.
  'milan-7003-all-es': { sev: [false, 0], es: [true, 509], snp: [false, 0], cbitpos: 51 },
  // libvirt 7.0 has no <maxGuests>, kernel 5.10 no misc cgroup and no SEV-ES: the Milan ceiling, warned.
  'milan-7003-bullseye': { sev: [true, 509], es: [false, 0], snp: [false, 0], cbitpos: 51 },
  'milan-7003-es8': { sev: [true, 502], es: [true, 7], snp: [false, 0], cbitpos: 51 },
  'naples-7001': { sev: [true, 15], es: [false, 0], snp: [false, 0], cbitpos: 47 },
  'rome-7002-libvirt51': { sev: [false, 0], es: [false, 0], snp: [false, 0] },
  'rome-7002-sev-off': { sev: [false, 0], es: [false, 0], snp: [false, 0] },
  'rome-7002-stale-cache': { sev: [false, 0], es: [false, 0], snp: [false, 0] },
  'rome-7002': { sev: [true, 509], es: [false, 0], snp: [false, 0], cbitpos: 47 },
  'ryzen-desktop': { sev: [false, 0], es: [false, 0], snp: [false, 0] },
  'turin-9005': { sev: [true, 1006], es: [false, 0], snp: [false, 0], cbitpos: 51 },
};

describe('bool_from_string semantics for kvm_amd parameters', () => {
  it.each([
    ['0\n', false], ['N\n', false], ['1\n', true], ['Y\n', true], ['y', true], ['yes', true], ['on', true],
    ['', false], ['garbage', false], ['  1  \n', true],
  ])('%j → %s', (raw, want) => expect(boolFromString(raw)).toBe(want));
});

describe('detection across every hardware profile', () => {
  it('covers every bundled profile', () => expect(Object.keys(EXPECTED).sort()).toEqual([...profileNames].sort()));

  it.each(profileNames)('%s', async (name) => {
    const { report } = await setup(name);
    const want = EXPECTED[name]!;
    expect([report.sev.available, report.sev.slots]).toEqual(want.sev);
    expect([report.sevEs.available, report.sevEs.slots]).toEqual(want.es);
    expect([report.snp.available, report.snp.slots]).toEqual(want.snp);
    if (want.cbitpos !== undefined) expect(report.sev.cbitpos).toBe(want.cbitpos);
    if (!report.sev.available) expect(report.sev.reason).toBeTruthy();
    // Traits: SEV on detection, ES only with ES slots; inventory only where slots > 0.
    expect(report.traits.includes(TRAIT_SEV)).toBe(want.sev[0]);
    expect(report.traits.includes(TRAIT_SEV_ES)).toBe(want.es[1] > 0);
    expect(report.traits.includes(TRAIT_SEV_SNP)).toBe(want.snp[1] > 0);
    expect(report.inventories.map((i) => [i.model, i.total])).toEqual([
      ...(want.sev[1] > 0 ? [['amd-sev', want.sev[1]]] : []),
      ...(want.es[1] > 0 ? [['amd-sev-es', want.es[1]]] : []),
      ...(want.snp[1] > 0 ? [['amd-sev-snp', want.snp[1]]] : []),
    ]);
  });

  it('reads the files from a materialised sysroot directory', async () => {
    const host = new FakeHost(loadProfile('milan-7003-253'));
    const dir = mkdtempSync(join(tmpdir(), 'sysroot-'));
    try {
      materializeSysroot(host.profile, host.kernel, dir);
      const r = await detectHost(new FakeHostSource(host), new SysrootFiles(dir), {});
      expect(r.sev).toMatchObject({ available: true, slots: 253 });
      const missing = await detectHost(new FakeHostSource(host), new SysrootFiles(join(dir, 'nowhere')), {});
      expect(missing.sev).toMatchObject({ available: false, reason: "kernel doesn't support AMD SEV" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kernel parameter and domain capabilities', () => {
  it.each([['0\n', false], ['N\n', false], ['1\n', true], ['Y\n', true]])('sev=%j → available %s', async (v, want) => {
    const { report } = await setup('rome-7002', {}, (m) => m.set(`${KVM_AMD_PARAM_DIR}/sev`, v));
    expect(report.sev.available).toBe(want);
  });

  it('parameter missing → not capable', async () => {
    const { report } = await setup('rome-7002', {}, (m) => m.delete(`${KVM_AMD_PARAM_DIR}/sev`));
    expect(report.sev.reason).toBe("kernel doesn't support AMD SEV");
    expect(report.traits).toEqual([]);
  });

  it('parameter on but <sev supported=no> (stale cache) → not capable', async () => {
    const { report } = await setup('rome-7002-stale-cache');
    expect(report.sev.available).toBe(false);
    expect(report.sev.reason).toMatch(/No AMD SEV support/);
  });

  it('non-x86_64 host → not capable, whatever sysfs says', async () => {
    const { source, files } = await setup('rome-7002');
    const arm = Object.create(source) as FakeHostSource;
    arm.getCapabilities = async () => (await source.getCapabilities()).replace('<arch>x86_64</arch>', '<arch>aarch64</arch>');
    const r = await detectHost(arm, files, {});
    expect(r.sev).toMatchObject({ available: false, reason: 'host arch is aarch64, not x86_64' });
  });

  it('records every q35 machine with SEV domain capabilities, aliases resolved to canonical names', async () => {
    const { report } = await setup('rome-7002');
    expect(report.facts.sevMachines.get('q35')).toBe('pc-q35-6.2');
    expect(report.facts.canonical.get('pc')).toBe('pc-i440fx-6.2');
  });
});

describe('slots and the operator setting', () => {
  it('lowers, never raises, with nova 29+ warning text', async () => {
    const low = await setup('rome-7002', { num_memory_encrypted_guests: 16 });
    expect(low.report.sev.slots).toBe(16);
    expect(low.report.warnings).toEqual([]);
    const high = await setup('rome-7002', { num_memory_encrypted_guests: 600 });
    expect(high.report.sev.slots).toBe(509);
    expect(high.report.warnings).toContain('Host is configured with libvirt.num_memory_encrypted_guests set to 600, but supports only 509.');
  });

  it('0 on an SEV host → trait kept, no inventory', async () => {
    const { report } = await setup('rome-7002', { num_memory_encrypted_guests: 0 });
    expect(report.traits).toEqual([TRAIT_SEV]);
    expect(report.inventories).toEqual([]);
  });

  it('non-SEV host with the option → 0 slots and nova warning', async () => {
    const { report } = await setup('rome-7002-sev-off', { num_memory_encrypted_guests: 16 });
    expect(report.sev.slots).toBe(0);
    expect(report.warnings).toEqual([warningText.notSevCapable(16)]);
    expect(report.warnings[0]).toBe('Host is configured with libvirt.num_memory_encrypted_guests set to 16, but is not SEV-capable.');
  });

  it('no <maxGuests> and no misc cgroup → the CPU generation ceiling with a warning, never unlimited', async () => {
    const naples = await setup('naples-7001');
    expect(naples.report.sev.slots).toBe(15);
    expect(naples.report.warnings).toEqual([warningText.generationCeiling('Naples (EPYC 7001)', 15)]);
    // The operator setting lowers it silently, and is lowered to it with nova's warning.
    const lower = await setup('naples-7001', { num_memory_encrypted_guests: 7 });
    expect([lower.report.sev.slots, lower.report.warnings]).toEqual([7, []]);
    const higher = await setup('naples-7001', { num_memory_encrypted_guests: 20 });
    expect([higher.report.sev.slots, higher.report.warnings]).toEqual([15, [warningText.supportsOnly(20, 15)]]);
  });

  it('no count anywhere and an unknown CPU → 0 slots; the option is trusted with a warning', async () => {
    const noCpuinfo = (m: Map<string, string>) => m.delete(CPUINFO_FILE);
    const unknown = await setup('naples-7001', undefined, noCpuinfo);
    expect(unknown.report.sev.slots).toBe(0);
    expect(unknown.report.warnings).toEqual([warningText.unknownMax('SEV')]);
    const configured = await setup('naples-7001', { hw_machine_type: { x86_64: 'q35' }, num_memory_encrypted_guests: 15 }, noCpuinfo);
    expect(configured.report.sev.slots).toBe(15);
    expect(configured.report.warnings).toEqual([warningText.unverifiedMax('SEV', 15)]);
  });

  it('generation table: family/model from /proc/cpuinfo', () => {
    expect(asidCeiling('processor\t: 0\ncpu family\t: 23\nmodel\t\t: 49\nmodel name\t: AMD EPYC 7702\n')).toEqual({ generation: 'Rome (EPYC 7002)', asids: 509 });
    expect(asidCeiling('cpu family\t: 25\nmodel\t\t: 17\n')?.asids).toBe(1006);
    expect(asidCeiling('cpu family\t: 25\nmodel\t\t: 33\n')).toBeNull(); // Ryzen 5000: a client part
    expect(asidCeiling('cpu family\t: 6\nmodel\t\t: 106\n')).toBeNull();
    expect(asidCeiling(null)).toBeNull();
  });

  it('no <maxGuests> but a misc cgroup `sev` line → that count', async () => {
    const { report } = await setup('naples-7001', {}, (m) => m.set(MISC_CAPACITY_FILE, 'sev 42\nsev_es 0\n'));
    expect(report.sev.slots).toBe(42);
  });

  it('SEV-ES option lowers ES slots; SNP enabled hides SEV-ES with nova master warning', async () => {
    const es = await setup('milan-7003-all-es', { num_memory_encrypted_es_guests: 10 });
    expect(es.report.sevEs.slots).toBe(10);
    const genoa = await setup('genoa-9004');
    expect(genoa.report.warnings).toContain('AMD SEV-ES support is detected, but ignored because AMD SEV-SNP support is detected');
  });

  it('inventory shape', async () => {
    const { report } = await setup('rome-7002', { num_memory_encrypted_guests: 16 });
    expect(report.inventories).toEqual([
      { provider: 'amd_sev', model: 'amd-sev', trait: TRAIT_SEV, resourceClass: RC_MEM_ENCRYPTION_CONTEXT, total: 16, reserved: 0, min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1.0 },
    ]);
  });
});
