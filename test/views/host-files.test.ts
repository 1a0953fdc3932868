import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuinfoFlags, formatCpuinfo } from '../../fakelibvirt/views/cpuinfo.ts';
import { materializeSysroot } from '../../fakelibvirt/views/sysroot.ts';
import { firmwareImagePaths } from '../../fakelibvirt/views/sysroot-firmware.ts';
import { nodeInfo, freeMemoryBytes } from '../../fakelibvirt/views/node-info.ts';
import { libvirtSevView } from '../../fakelibvirt/views/libvirt-sev.ts';
import { views } from './helpers.ts';

describe('derived /proc/cpuinfo flags', () => {
  const enc = (name: string) => cpuinfoFlags(views(name).profile).filter((f) => ['sme', 'sev', 'sev_es', 'sev_snp'].includes(f));
  it('follows CPUID, kernel release and BIOS state', () => {
    expect(enc('naples-7001')).toEqual(['sme', 'sev']); // 5.4 predates the sev_es flag
    expect(enc('milan-7003-es8')).toEqual(['sme', 'sev', 'sev_es', 'sev_snp']);
    expect(enc('turin-9005')).toEqual(['sme', 'sev', 'sev_es']); // 6.8+ clears sev_snp without SNPEn
    expect(enc('genoa-9004')).toEqual(['sme', 'sev', 'sev_es', 'sev_snp']);
    expect(enc('intel-xeon')).toEqual([]);
    expect(enc('ryzen-desktop')).toEqual([]); // memory encryption not enabled in the BIOS
  });
  it('prints one block per logical CPU', () => {
    const text = formatCpuinfo(views('milan-7003-es8').profile);
    expect(text.match(/^processor\t: /gm)).toHaveLength(32);
    expect(text).toContain('model\t\t: 1\n');
    expect(text).toMatch(/^flags\t\t: fpu .* sme sev sev_es sev_snp npt /m);
  });
});

describe('sysroot', () => {
  const make = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'sysroot-'));
    const v = views(name);
    const manifest = materializeSysroot(v.profile, v.kernel, dir);
    const read = (p: string) => (existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : null);
    return { dir, manifest, read, done: () => rmSync(dir, { recursive: true, force: true }) };
  };

  it('milan-7003-es8', () => {
    const s = make('milan-7003-es8');
    expect(s.read('sys/module/kvm_amd/parameters/sev')).toBe('Y\n');
    expect(s.read('sys/module/kvm_amd/parameters/sev_es')).toBe('Y\n');
    expect(s.read('sys/module/kvm_amd/parameters/sev_snp')).toBeNull();
    expect(s.read('sys/fs/cgroup/misc.capacity')).toBe('sev 502\nsev_es 7\n');
    expect(s.read('proc/sys/kernel/osrelease')).toBe('6.2.9-300.fc38.x86_64\n');
    expect(s.read('proc/cmdline')).toContain('kvm_amd.sev=1');
    expect(s.read('dev/sev')).toContain('mode 0600');
    expect(s.manifest.entries.find((e) => e.path === 'dev/sev')).toMatchObject({ kind: 'chardev', mode: '0600', owner: 'root', major: 10 });
    expect(JSON.parse(s.read('sysroot.json') ?? '{}')).toEqual(JSON.parse(JSON.stringify(s.manifest)));
    s.done();
  });

  it('naples prints the pre-5.13 integer form and has no misc cgroup file', () => {
    const s = make('naples-7001');
    expect(s.read('sys/module/kvm_amd/parameters/sev')).toBe('1\n');
    expect(s.read('sys/module/kvm_amd/parameters/sev_es')).toBeNull();
    expect(s.read('sys/fs/cgroup/misc.capacity')).toBeNull();
    s.done();
  });

  it('rome-7002-sev-off reads 0', () => {
    const s = make('rome-7002-sev-off');
    expect(s.read('sys/module/kvm_amd/parameters/sev')).toBe('0\n');
    s.done();
  });

  it('genoa has sev_snp Y', () => {
    const s = make('genoa-9004');
    expect(s.read('sys/module/kvm_amd/parameters/sev_snp')).toBe('Y\n');
    expect(s.read('sys/fs/cgroup/misc.capacity')).toBe('sev 907\nsev_es 99\n');
    s.done();
  });

  it('a second tree may hard-link the first tree\'s firmware images: same bytes, same manifest, text files its own', () => {
    const first = make('genoa-9004');
    const dir = mkdtempSync(join(tmpdir(), 'sysroot-'));
    const v = views('genoa-9004');
    const off = { ...v.kernel, sysfs: { ...v.kernel.sysfs, sev: 'N\n' } };
    const manifest = materializeSysroot(v.profile, off, dir, { firmwareFrom: first.dir });
    const imagePaths = new Set(firmwareImagePaths(v.profile).map((p) => p.replace(/^\/+/, '')));
    const images = manifest.entries.filter((e) => imagePaths.has(e.path));
    expect(images.length).toBeGreaterThan(0);
    for (const e of images) {
      const [a, b] = [statSync(join(first.dir, e.path)), statSync(join(dir, e.path))];
      expect(b.ino).toBe(a.ino);
      expect(readFileSync(join(dir, e.path)).equals(readFileSync(join(first.dir, e.path)))).toBe(true);
    }
    expect(manifest.entries.map((e) => e.path)).toEqual(first.manifest.entries.map((e) => e.path));
    expect(readFileSync(join(dir, 'sys/module/kvm_amd/parameters/sev'), 'utf8')).toBe('N\n');
    expect(first.read('sys/module/kvm_amd/parameters/sev')).toBe('Y\n');
    // Nothing to link from: written as without the option.
    const lone = mkdtempSync(join(tmpdir(), 'sysroot-'));
    materializeSysroot(v.profile, v.kernel, lone, { firmwareFrom: join(lone, 'absent') });
    for (const e of images) expect(readFileSync(join(lone, e.path)).equals(readFileSync(join(first.dir, e.path)))).toBe(true);
    for (const d of [dir, lone]) rmSync(d, { recursive: true, force: true });
    first.done();
  });

  it('intel has no kvm_amd directory and no /dev/sev', () => {
    const s = make('intel-xeon');
    expect(existsSync(join(s.dir, 'sys/module/kvm_amd'))).toBe(false);
    expect(s.read('dev/sev')).toBeNull();
    s.done();
  });
});

describe('node info', () => {
  it('milan-7003-es8', () => {
    expect(nodeInfo(views('milan-7003-es8').profile)).toEqual({
      model: 'x86_64', memory: 131596288, cpus: 32, mhz: 3000, nodes: 1, sockets: 1, cores: 16, threads: 2,
    });
  });
  it('naples splits a socket into four nodes', () => {
    expect(nodeInfo(views('naples-7001').profile)).toMatchObject({ cpus: 64, nodes: 4, sockets: 1, cores: 8, threads: 2 });
  });
  it('free memory excludes the host reservation and used memory', () => {
    const p = views('milan-7003-es8').profile;
    expect(freeMemoryBytes(p, 1024)).toBe(BigInt(131596288 - 4194304 - 1024) * 1024n);
  });
});

describe('libvirtSevView', () => {
  it('a stale cache hides SEV whatever the host state', () => {
    const v = views('milan-7003-es8');
    expect(libvirtSevView(v.profile, v.kernel, { cacheStale: true })).toBeNull();
    expect(libvirtSevView(v.profile, v.kernel, { cacheStale: false })?.maxGuests).toBe(502);
  });
  it('a re-probed stale-cache host shows SEV', () => {
    const v = views('rome-7002-stale-cache');
    expect(libvirtSevView(v.profile, v.kernel, { cacheStale: false })).toMatchObject({ cbitpos: 47, maxGuests: 509, maxESGuests: 0, sectypes: ['sev'] });
  });
  it('genoa offers sev-snp', () => {
    expect(views('genoa-9004').sev?.sectypes).toEqual(['sev', 'sev-snp']);
  });
});
