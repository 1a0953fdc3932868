/**
 * Profile synthesis on recorded inputs. Round trip: every hardware profile's fake host is read the
 * way a real host is (its sysroot files, its libvirt views), and the synthesized profile must have
 * the same SEV truth — or, where the real facts cannot carry it, report mismatches instead of a
 * wrong truth. Plus this machine's recorded libvirt output and a Milan host's domcaps by hand.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import type { HardwareProfile } from '../../fakelibvirt/profile/schema.ts';
import { sysrootFiles } from '../../fakelibvirt/views/sysroot.ts';
import { noSevReason, profileTruth, slotsKnowable, type ProfileTruth } from '../truth.ts';
import { HostFactsError, parseCpuinfo, readHostFileFacts, recordedTree, type HostTree } from './host-files.ts';
import { parseCapabilitiesFacts, parseDomcapsFacts, readLibvirtFacts, type LibvirtFacts, type LibvirtFactSource } from './libvirt-facts.ts';
import { effectiveCmdline, generationOf, kernelVersion, synthesize, type Synthesis } from './synthesize.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (dir: string, f: string) => readFileSync(join(FIXTURES, dir, f), 'utf8');

/** The fake host as a real host's libvirtd would answer detection. */
function fakeSource(host: FakeHost): LibvirtFactSource {
  return {
    getCapabilities: async () => host.capabilities(),
    getDomainCapabilities: async (q) => host.domainCapabilities(q),
    getLibVersion: async () => host.libVersion(),
    getVersion: async () => host.hypervisorVersion(),
    getHostname: async () => host.hostname(),
  };
}

/** The fake host's sysroot as a recorded tree; `cpuid: false` leaves out the cpuid device (no root, no module). */
function fakeTree(profile: HardwareProfile, host: FakeHost, cpuid = true): HostTree {
  const files: Record<string, string> = {};
  const stats: Record<string, { mode: number; uid: number; gid: number }> = {};
  const leaves: Record<number, readonly [number, number, number, number]> = {};
  for (const [path, { content, entry }] of sysrootFiles(profile, host.kernel)) {
    if (path.startsWith('dev/cpu/') && !cpuid) continue;
    files[path] = content;
    if (entry.kind === 'chardev') stats[path] = { mode: Number.parseInt(entry.mode, 8), uid: 0, gid: 0 };
    for (const [leaf, regs] of Object.entries(entry.registers ?? {})) leaves[Number(leaf)] = regs;
  }
  return recordedTree(files, stats, leaves);
}

async function roundTrip(profile: HardwareProfile, cpuid = true): Promise<Synthesis> {
  const host = new FakeHost(profile);
  const tree = fakeTree(profile, host, cpuid);
  const lv = await readLibvirtFacts(fakeSource(host), 'qemu:///system', () => 'kvm');
  return synthesize(readHostFileFacts(tree), lv, tree);
}

/** The truth fields every catalogue guard and expectation about SEV reads. */
function sevTruth(t: ProfileTruth) {
  return {
    amd: t.amd,
    sevUsable: t.sevUsable,
    sevUsableAtStart: t.sevUsableAtStart,
    sevEsUsable: t.sevEsUsable,
    snpUsable: t.snpUsable,
    maxGuests: t.maxGuests,
    maxESGuests: t.maxESGuests,
    cbitpos: t.sev ? t.cbitpos : null,
    reducedPhysBits: t.reducedPhysBits,
    sysfs: t.kernel.sysfs,
    kvmAmdLoaded: t.kernel.kvmAmdLoaded,
    miscCapacity: t.kernel.miscCapacity,
    slotsKnowable: slotsKnowable(t),
    noSev: noSevReason(t),
    q35: [...t.q35Machines].sort(),
    qemuAutoIommu: t.qemuAutoIommu,
    domcapsHasMaxGuests: t.domcapsHasMaxGuests,
  };
}

/**
 * Profiles whose ASID counts only CPUID tells (libvirt < 8.0 has no maxGuests, kernel < 5.13 no
 * misc cgroup): without the cpuid device they cannot be modelled and must say so.
 */
const ASIDS_ONLY_IN_CPUID = new Set(['rome-7002-stale-cache', 'rome-7002-libvirt51', 'naples-7001', 'milan-7003-bullseye']);
const NOT_MODELLABLE = new Set<string>();

describe('synthesized profile of a fake host read as a real one', () => {
  for (const [name, profile] of allProfiles()) {
    if (profile.arch !== 'x86_64') {
      it(`${name}: a host without x86_64 guests is refused with the reason`, async () => {
        await expect(roundTrip(profile)).rejects.toThrow(/offers no x86_64 hvm guest \(host arch aarch64\)/);
      });
      continue;
    }
    it(`${name}: ${NOT_MODELLABLE.has(name) ? 'reports mismatches instead of a wrong truth' : 'same SEV truth as the profile'}`, async () => {
      const s = await roundTrip(profile);
      if (NOT_MODELLABLE.has(name)) {
        expect(s.mismatches.length, s.derivations.join('\n')).toBeGreaterThan(0);
        return;
      }
      expect(s.mismatches).toEqual([]);
      expect(sevTruth(s.truth)).toEqual(sevTruth(profileTruth(profile)));
    });
  }
});

describe('without the cpuid device', () => {
  for (const name of ASIDS_ONLY_IN_CPUID) {
    it(`${name}: reports mismatches instead of a wrong truth`, async () => {
      const profile = allProfiles().get(name)!;
      const s = await roundTrip(profile, false);
      expect(s.mismatches.length, s.derivations.join('\n')).toBeGreaterThan(0);
      expect(s.derivations.join('\n')).toMatch(/ASIDs\): not readable/);
    });
  }
});

describe('this machine (Debian 12, libvirt 9.0, QEMU 7.2, Intel, no SEV): recorded output', () => {
  const dir = 'debian12-tcg';
  const cpuinfo = fixture(dir, 'cpuinfo');

  function lvFacts(): LibvirtFacts {
    return {
      uri: 'qemu:///system',
      libvirtVersion: '9.0.0',
      qemuVersion: '7.2.22',
      hostname: 'vm',
      capabilities: parseCapabilitiesFacts(fixture(dir, 'capabilities.xml')),
      defaultDomcaps: { ...parseDomcapsFacts(fixture(dir, 'domcaps-q35-qemu.xml')), machine: 'pc-i440fx-7.2' },
      q35Domcaps: parseDomcapsFacts(fixture(dir, 'domcaps-q35-qemu.xml')),
    };
  }
  const tree = recordedTree({
    'proc/cpuinfo': cpuinfo,
    'proc/meminfo': fixture(dir, 'meminfo'),
    'proc/sys/kernel/osrelease': '6.18.44-fc-v769\n',
    'proc/cmdline': 'console=ttyS0 quiet\n',
    'dev/kvm': '',
    'sys/module/kvm_pvm/parameters/x': '',
  });

  it('parses the recorded libvirt output', () => {
    const lv = lvFacts();
    expect(lv.capabilities.emulator).toBe('/usr/bin/qemu-system-x86_64');
    expect(lv.capabilities.domainTypes).toEqual(['qemu', 'kvm']);
    expect(lv.capabilities.machines).toContainEqual({ name: 'q35', canonical: 'pc-q35-7.2', maxCpus: 288 });
    expect(lv.q35Domcaps?.sev).toBeNull();
    expect(lv.q35Domcaps?.loaders).toContain('/usr/share/OVMF/OVMF_CODE_4M.fd');
  });

  it('detection says no SEV, with no mismatches', () => {
    const s = synthesize(readHostFileFacts(tree), lvFacts(), tree);
    expect(s.mismatches).toEqual([]);
    expect(s.profile.cpu.vendor).toBe('GenuineIntel');
    expect(s.profile.cpuid8000001f).toBeNull();
    expect(s.truth.sevUsable).toBe(false);
    expect(noSevReason(s.truth)).toBe('host has no SEV (not an AMD CPU)');
    expect(s.truth.kernel.sysfs).toEqual({});
    const q35 = s.profile.qemu.machineTypes.find((m) => m.alias === 'q35');
    expect(q35?.name).toBe('pc-q35-7.2');
    expect(s.profile.qemu.machineTypes.find((m) => m.default)?.name).toBe('pc-i440fx-7.2');
  });
});

describe('an EPYC 7313 (Milan) host with SEV: cpuinfo flags and the domcaps <sev> it reports', () => {
  const milan = loadProfile('milan-7003-es8');
  const host = new FakeHost(milan);
  // The <sev> element as the DevConf.cz 2023 host printed it (sev-hardware.md §1.5).
  const sevBlock = "<sev supported='yes'><cbitpos>51</cbitpos><reducedPhysBits>1</reducedPhysBits><maxGuests>502</maxGuests><maxESGuests>7</maxESGuests></sev>";

  it('inverts libvirt\'s maxGuests formula to CPUID ECX = 509, EDX = 8 and keeps cbitpos 51', async () => {
    const tree = fakeTree(milan, host);
    const lv = await readLibvirtFacts(fakeSource(host), 'qemu:///system', () => 'kvm');
    expect(lv.q35Domcaps?.sev).toEqual({ cbitpos: 51, reducedPhysBits: 1, maxGuests: 502, maxESGuests: 7 });
    expect(parseDomcapsFacts(`<domainCapabilities><features>${sevBlock}</features></domainCapabilities>`).sev).toEqual(lv.q35Domcaps?.sev);
    const s = synthesize(readHostFileFacts(tree), lv, tree);
    expect(s.mismatches).toEqual([]);
    // The cpuid device gives the raw registers: EBX keeps the host's address reduction beside cbitpos 51.
    expect(s.profile.cpuid8000001f).toEqual(milan.cpuid8000001f);
    expect(s.profile.cpuid8000001f).toMatchObject({ ecx: 509, edx: 8 });
    expect(s.profile.cpuid8000001f!.ebx & 0x3f).toBe(51);
    expect(s.truth).toMatchObject({ sevUsable: true, sevEsUsable: true, maxGuests: 502, maxESGuests: 7, cbitpos: 51 });
    expect(s.profile.generation).toBe('milan');
    expect(s.derivations).toContain('CPUID 0x8000001F ECX/EDX (ASIDs): domcaps maxGuests 502 / maxESGuests 7');
  });

  it('a kernel that reads sev=N (SEV turned off) while libvirt still reports <sev> is a mismatch, never a pass', async () => {
    const files = fakeTree(milan, host);
    const off: HostTree = { ...files, readText: (rel) => (rel === 'sys/module/kvm_amd/parameters/sev' ? 'N\n' : files.readText(rel)) };
    const lv = await readLibvirtFacts(fakeSource(host), 'qemu:///system', () => 'kvm');
    const s = synthesize(readHostFileFacts(off), lv, off);
    expect(s.mismatches.join('\n')).toMatch(/domcaps <sev> is supported, the model says unsupported/);
  });

  it('without /dev/sev, kvm_amd and libvirt SEV, the same CPU is a no-SEV host', async () => {
    const files = fakeTree(milan, host);
    const bare: HostTree = {
      ...files,
      readText: (rel) => (rel.startsWith('sys/') ? null : files.readText(rel)),
      exists: (rel) => !rel.startsWith('sys/') && rel !== 'dev/sev' && files.exists(rel),
      stat: (rel) => (rel === 'dev/sev' ? null : files.stat(rel)),
    };
    const lv = await readLibvirtFacts(fakeSource(host), 'qemu:///system', () => 'kvm');
    const noSevLv: LibvirtFacts = { ...lv, q35Domcaps: lv.q35Domcaps && { ...lv.q35Domcaps, sev: null } };
    const s = synthesize(readHostFileFacts(bare), noSevLv, bare);
    expect(s.mismatches).toEqual([]);
    expect(s.profile.cpu.flags).not.toContain('svm');
    expect(noSevReason(s.truth)).toBe('host has no SEV (kvm_amd not loaded)');
  });
});

describe('readers', () => {
  it('cpuinfo: topology from physical id / cpu cores / siblings', () => {
    const block = (n: number, phys: number) =>
      `processor\t: ${n}\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nstepping\t: 1\nmodel name\t: AMD EPYC 7313 16-Core Processor\ncpu MHz\t\t: 2999.5\nphysical id\t: ${phys}\nsiblings\t: 4\ncpu cores\t: 2\nflags\t\t: fpu svm sev sev_es\n`;
    const c = parseCpuinfo([block(0, 0), block(1, 0), block(2, 1), block(3, 1)].join('\n'));
    expect(c).toMatchObject({ vendor: 'AuthenticAMD', family: 25, model: 1, sockets: 2, coresPerSocket: 2, threadsPerCore: 2, mhz: 3000, logicalCpus: 4 });
    expect(c.flags).toEqual(['fpu', 'svm', 'sev', 'sev_es']);
  });

  it('cpuinfo without processors or vendor is a clear error', () => {
    expect(() => parseCpuinfo('')).toThrow(HostFactsError);
    expect(() => parseCpuinfo('processor : 0\ncpu family : 6\n')).toThrow(/vendor_id/);
  });

  it('missing /proc files are named in the error', () => {
    expect(() => readHostFileFacts(recordedTree({}))).toThrow(/proc\/cpuinfo/);
  });

  it('kernel version, command line, generation', () => {
    expect(kernelVersion('6.18.44-fc-v769')).toBe('6.18.44');
    expect(kernelVersion('5.4')).toBe('5.4');
    expect(() => kernelVersion('weird')).toThrow(HostFactsError);
    expect(effectiveCmdline('ro kvm_amd.sev=1 quiet', { sev: 'N\n', sev_es: 'Y\n' })).toBe('ro quiet kvm_amd.sev=0 kvm_amd.sev_es=1');
    expect(generationOf('AuthenticAMD', 0x17, 0x31)).toBe('rome');
    expect(generationOf('AuthenticAMD', 0x19, 0x11)).toBe('genoa');
    expect(generationOf('AuthenticAMD', 0x1a, 0x02)).toBe('turin');
    expect(generationOf('AuthenticAMD', 0x19, 0x50)).toBe('client');
    expect(generationOf('GenuineIntel', 6, 167)).toBe('intel');
  });
});
