import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('sevharness CLI', () => {
  it('profiles prints one row per profile', async () => {
    const r = await run('profiles');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^milan-7003-es8 +milan +AMD EPYC 7313 16-Core Processor +Y\/Y\/N +502\/7 +9\.0\.0 +7\.2\.0 +6\.2\.9$/m);
    expect(r.out.trim().split('\n')).toHaveLength(16);
  });
  it('nodesevinfo prints virsh-style lines, or virsh errors with status 1', async () => {
    expect((await run('nodesevinfo', '--profile', 'naples-7001')).out).toContain('cbitpos           : 47\n');
    const r = await run('nodesevinfo', '--profile', 'intel-xeon');
    expect([r.code, r.err]).toEqual([1, 'error: Unable to get host SEV information\nerror: Operation not supported: QEMU does not support SEV guest\n']);
  });
  it('domcapabilities passes machine and virttype through', async () => {
    const r = await run('domcapabilities', '--profile', 'genoa-9004', '--machine', 'q35', '--virttype', 'kvm');
    expect(r.out).toContain('<machine>pc-q35-9.1</machine>');
    expect((await run('domcapabilities', '--profile', 'genoa-9004', '--machine', 'nope')).code).toBe(1);
  });
  it('usage errors exit with 2', async () => {
    expect((await run('capabilities')).code).toBe(2);
    expect((await run('capabilities', '--profile', 'nope')).code).toBe(2);
    expect((await run('capabilities', '--profile', 'rome-7002', '--bogus')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    const twice = await run('serve', '--profile', 'rome-7002', '--profile', 'rome-7002');
    expect([twice.code, twice.err.split('\n')[0]]).toEqual([2, 'sevharness serve: --profile rome-7002 is given twice; each profile is served once']);
    expect((await run('help')).code).toBe(0);
  });
});

describe('sevharness CLI on paths it cannot write', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sevharness-cli-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('sysroot --dir under /proc fails with the system error instead of looping in mkdir -p', async () => {
    const r = await run('sysroot', '--profile', 'rome-7002', '--dir', '/proc/sevharness-no-such/root');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: ENOENT: no such file or directory, mkdir '\/proc\/sevharness-no-such'\n$/);
  });
  it('sysroot --dir below a plain file names ENOTDIR and the path, with no stack trace', async () => {
    const file = join(scratch, 'plain');
    writeFileSync(file, '');
    const r = await run('sysroot', '--profile', 'rome-7002', '--dir', join(file, 'root'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: ENOTDIR: not a directory, mkdir '${join(file, 'root')}'\n`);
  });
});
