import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE_DIR, ProfileError, allProfiles, loadProfile, parseProfile } from '../../fakelibvirt/profile/load.ts';
import { formatMiscCapacity } from '../../fakelibvirt/profile/derive.ts';
import { hostViews } from '../../fakelibvirt/views/index.ts';

/** Expected derived facts per bundled profile: [maxGuests, maxESGuests] (null = libvirt shows no SEV), sysfs, misc.capacity. */
const EXPECTED: Record<string, { limits: [number, number] | null; sysfs: Record<string, string>; misc: string | null }> = {
  'naples-7001': { limits: [15, 0], sysfs: { sev: '1\n' }, misc: null },
  'rome-7002': { limits: [509, 0], sysfs: { sev: 'Y\n', sev_es: 'N\n' }, misc: 'sev 509\n' },
  'milan-7003-es8': { limits: [502, 7], sysfs: { sev: 'Y\n', sev_es: 'Y\n' }, misc: 'sev 502\nsev_es 7\n' },
  'milan-7003-bullseye': { limits: [502, 7], sysfs: { sev: '1\n' }, misc: null },
  'milan-7003-253': { limits: [253, 0], sysfs: { sev: '1\n' }, misc: null },
  'milan-7003-all-es': { limits: [0, 509], sysfs: { sev: 'Y\n', sev_es: 'Y\n' }, misc: 'sev_es 509\n' },
  'genoa-9004': { limits: [907, 99], sysfs: { sev: 'Y\n', sev_es: 'Y\n', sev_snp: 'Y\n' }, misc: 'sev 907\nsev_es 99\n' },
  'genoa-9004-trixie': { limits: [907, 99], sysfs: { sev: 'Y\n', sev_es: 'Y\n', sev_snp: 'Y\n' }, misc: 'sev 907\nsev_es 99\n' },
  'turin-9005': { limits: [1006, 0], sysfs: { sev: 'Y\n', sev_es: 'N\n' }, misc: 'sev 1006\n' },
  'intel-xeon': { limits: null, sysfs: {}, misc: null },
  'ryzen-desktop': { limits: null, sysfs: { sev: 'N\n', sev_es: 'N\n' }, misc: '' },
  'rome-7002-sev-off': { limits: null, sysfs: { sev: '0\n' }, misc: null },
  'rome-7002-stale-cache': { limits: null, sysfs: { sev: '1\n' }, misc: null },
  'rome-7002-libvirt51': { limits: null, sysfs: { sev: '1\n' }, misc: null },
  'ampere-altra': { limits: null, sysfs: {}, misc: null },
};

describe('bundled hardware profiles', () => {
  it('are exactly the expected set and all validate', () => {
    expect([...allProfiles().keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, want] of Object.entries(EXPECTED)) {
    it(`${name}: derived limits, sysfs and misc.capacity`, () => {
      const v = hostViews(loadProfile(name));
      expect(v.sev ? [v.sev.maxGuests, v.sev.maxESGuests] : null).toEqual(want.limits);
      expect(v.kernel.sysfs).toEqual(want.sysfs);
      expect(formatMiscCapacity(v.kernel.miscCapacity)).toBe(want.misc);
    });
  }

  it('naples has C-bit 47, Milan-and-later 51', () => {
    expect(hostViews(loadProfile('naples-7001')).sev?.cbitpos).toBe(47);
    expect(hostViews(loadProfile('rome-7002')).sev?.cbitpos).toBe(47);
    expect(hostViews(loadProfile('milan-7003-es8')).sev?.cbitpos).toBe(51);
    expect(hostViews(loadProfile('genoa-9004')).sev?.cbitpos).toBe(51);
  });

  it('the SEV-off, stale-cache and libvirt 5.0 hosts differ only in why libvirt sees no SEV', () => {
    expect(hostViews(loadProfile('rome-7002-sev-off')).kernel.sevEnabled).toBe(false);
    for (const n of ['rome-7002-stale-cache', 'rome-7002-libvirt51']) {
      const v = hostViews(loadProfile(n));
      expect(v.kernel.sevEnabled).toBe(true);
      expect(v.sev).toBeNull();
    }
  });

  it('intel has no kvm_amd at all', () => {
    expect(hostViews(loadProfile('intel-xeon')).kernel.kvmAmdLoaded).toBe(false);
  });

  it('x86_64 is the default architecture; the ARM host says aarch64', () => {
    expect(loadProfile('milan-7003-es8').arch).toBe('x86_64');
    const arm = loadProfile('ampere-altra');
    expect([arm.arch, arm.cpu.vendor, arm.cpuid8000001f, arm.firmware, arm.devSev.present]).toEqual(['aarch64', 'ARM', null, null, false]);
    expect(hostViews(arm).kernel.kvmAmdLoaded).toBe(false);
  });
});

describe('profile validation errors are path-qualified', () => {
  const base = (): Record<string, unknown> => JSON.parse(readFileSync(join(PROFILE_DIR, 'milan-7003-es8.json'), 'utf8')) as Record<string, unknown>;
  const issues = (data: unknown): string[] => {
    try {
      parseProfile(data, 'test.json');
    } catch (e) {
      if (e instanceof ProfileError) return [...e.issues];
      throw e;
    }
    return [];
  };
  const DELETE = Symbol('delete');
  /** The milan profile with the value at `path` replaced (or deleted), validated. */
  const withPath = (path: readonly (string | number)[], value: unknown) => {
    const p = base();
    let node = p as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (value === DELETE) delete node[last];
    else node[last] = value;
    return issues(p);
  };

  it('wrong type', () => {
    expect(withPath(['cpu', 'sockets'], 'two')).toEqual([expect.stringMatching(/^cpu\.sockets: /)]);
  });
  it('missing field', () => {
    expect(withPath(['kernel', 'version'], DELETE)).toEqual([expect.stringMatching(/^kernel\.version: /)]);
  });
  it('EDX more than ECX + 1', () => {
    expect(withPath(['cpuid8000001f', 'edx'], 511)).toEqual(['cpuid8000001f.edx: EDX (511) may exceed ECX (509) by at most 1']);
  });
  it('unknown generation', () => {
    expect(withPath(['generation'], 'zen9')).toEqual([expect.stringMatching(/^generation: /)]);
  });
  it('ECX with the SEV bit clear', () => {
    expect(withPath(['cpuid8000001f', 'eax'], '0x00000001')).toEqual([
      'cpuid8000001f.ecx: ECX (max SEV ASID) must be 0 when EAX bit 1 (SEV) is clear',
    ]);
  });
  it('derived cpuinfo flags in the profile', () => {
    expect(withPath(['cpu', 'flags', 0], 'sev')).toEqual([expect.stringMatching(/^cpu\.flags\.0: 'sev' is derived/)]);
  });
  it('an AMD CPU on an aarch64 host', () => {
    expect(withPath(['arch'], 'aarch64')).toEqual(['arch: vendor AuthenticAMD means an x86_64 host, not aarch64']);
  });
  it('an ARM CPU with an AMD generation and a CPUID leaf', () => {
    const p = base();
    p['arch'] = 'aarch64';
    (p['cpu'] as Record<string, unknown>)['vendor'] = 'ARM';
    expect(issues(p)).toEqual([
      "cpuid8000001f: only AMD CPUs have CPUID Fn8000_001F; use null",
      "generation: generation 'milan' needs vendor AuthenticAMD",
    ]);
  });
  it('a stale cache on libvirt 6.5+', () => {
    expect(withPath(['libvirt', 'capabilityCacheStale'], true)).toEqual([expect.stringMatching(/^libvirt\.capabilityCacheStale: /)]);
  });
});
