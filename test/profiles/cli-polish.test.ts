/**
 * The CLI as a user meets it: --version, per-command --help, NO_COLOR, profile files and generated
 * hosts as conformance input (a failing generated host shrunk to the smallest one still failing),
 * and `serve` leaving no temporary directory behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCpuid } from '../../fakelibvirt/profile/derive.ts';
import { GENERATION_FACTS } from '../../fakelibvirt/profile/generate.ts';
import { loadProfileFile, PROFILE_DIR } from '../../fakelibvirt/profile/load.ts';
import { colourWanted, formatTable } from '../../conformance/runner/reports/table.ts';
import { REPORT } from '../../conformance/runner/reports/test/fixture.ts';
import { COMMANDS, main } from '../../src/cli/main.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'sevharness-cli-polish-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('sevharness --version and --help', () => {
  it('--version prints the package version', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) expect(await run(flag)).toEqual({ code: 0, out: `sevharness ${version}\n`, err: '' });
  });

  it('every command answers --help with its usage and options, exit 0, without running', async () => {
    for (const c of COMMANDS) {
      const r = await run(c.name, '--help');
      expect(r.code, c.name).toBe(0);
      expect(r.out, c.name).toContain(`usage: sevharness ${c.name} ${c.usage}`.trimEnd());
      for (const o of Object.keys(c.options)) expect(r.out, `${c.name} --${o}`).toContain(`--${o}`);
    }
    expect((await run('help', 'conformance')).out).toContain('generated:N[:SEED]');
    // -h wins over options that would otherwise be refused.
    expect((await run('serve', '--bogus', '-h')).code).toBe(0);
  });
});

describe('colour', () => {
  it('only on a terminal, never with NO_COLOR', () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true);
    expect(colourWanted({ isTTY: false }, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colourWanted({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(formatTable(REPORT, { colour: true })).toContain('\x1b[31m✗\x1b[0m');
    expect(formatTable(REPORT, { colour: false })).not.toContain('\x1b[');
  });
});

describe('conformance --profiles: files and generated hosts', () => {
  it('judges a custom profile file, as serve accepts one', async () => {
    const custom = { ...JSON.parse(readFileSync(join(PROFILE_DIR, 'rome-7002.json'), 'utf8')), name: 'my-rome', description: 'my own Rome host' };
    const file = join(scratch, 'my-rome.json');
    writeFileSync(file, JSON.stringify(custom));
    const r = await run('conformance', '--profiles', file, '--cases', 'detect.sev-facts-from-domcaps,inventory.slots-from-domcaps');
    expect(r.err).toBe('');
    expect([r.code, r.out]).toEqual([0, expect.stringContaining(`1 ${file}`)]);
    expect(r.out).toMatch(/2 passed, 0 failed/);
  });

  it('refuses a bad file or spec before running (exit 2 or 1 with the reason)', async () => {
    expect(await run('conformance', '--profiles', join(scratch, 'nope.json'))).toMatchObject({ code: 2, err: expect.stringContaining('profile file not found') });
    expect(await run('conformance', '--profiles', 'generated:0')).toMatchObject({ code: 2, err: expect.stringContaining('1 ≤ N') });
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad' }));
    expect(await run('conformance', '--profiles', bad)).toMatchObject({ code: 1, err: expect.stringContaining('invalid hardware profile bad.json') });
  });

  it('judges generated hosts by spec and by name', async () => {
    const r = await run('conformance', '--profiles', 'generated:2:5,rome-7002', '--cases', 'detect.sev-es');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ 1 gen-5-0\n +2 gen-5-1\n +3 rome-7002\n/);
  });

  it('a driver that reads the C-bit from a CPU table fails on a generated host, shrunk to the smallest failing host', async () => {
    const module = join(scratch, 'cbit-table-driver.ts');
    writeFileSync(module, [
      `import { brokenReference } from '${join(ROOT, 'conformance/self-test/broken-reference.ts')}';`,
      `import { CBITPOS_FROM_CPU_TABLE } from '${join(ROOT, 'conformance/self-test/drivers/cbitpos-from-cpu-table.ts')}';`,
      'export default () => brokenReference(CBITPOS_FROM_CPU_TABLE);',
    ].join('\n'));
    // gen-20261207-0: a Turin host whose C-bit is 49, not the table's 51.
    const r = await run('conformance', '--driver', module, '--profiles', 'gen-20261207-0', '--cases', 'detect.sev-facts-from-domcaps', '--shrink-seconds', '30');
    expect(r.code).toBe(1);
    expect(r.out).toContain('expected cbitpos 49, reducedPhysBits 1; driver reported 51, 1');
    const rerun = /rerun: --profiles (\S+) --cases detect.sev-facts-from-domcaps/.exec(r.out);
    expect(rerun, r.out).not.toBeNull();
    const shrunk = loadProfileFile(rerun![1]!);
    // The smallest host that still fails: the first generation, one ASID, the C-bit one below the top.
    expect(shrunk.generation).toBe('naples');
    expect(decodeCpuid(shrunk)!.cbitpos).toBe(GENERATION_FACTS.naples.physBits - 2);
    expect(decodeCpuid(shrunk)!.maxSevAsid).toBe(1);
    expect((await run('conformance', '--driver', module, '--profiles', rerun![1]!, '--cases', 'detect.sev-facts-from-domcaps', '--shrink-seconds', '0')).code).toBe(1);
    rmSync(dirname(rerun![1]!), { recursive: true, force: true });
  }, 180_000);
});

describe('serve', () => {
  it('removes its temporary directory (sysroot, sockets) when stopped', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/sevharness.js'), 'serve', '--profile', 'rome-7002', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const { sysroot } = JSON.parse(first) as { sysroot: string };
    const base = dirname(dirname(sysroot));
    expect(existsSync(join(sysroot, 'sys/module/kvm_amd/parameters/sev'))).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(base)).toBe(false);
  }, 60_000);
});
