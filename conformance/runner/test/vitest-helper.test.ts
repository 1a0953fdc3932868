/**
 * describeConformance as a driver project meets it: a vitest run of its own over a wrong driver.
 * Each failure's message must stand alone: case, profile and the judge's reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'conformance-vitest-helper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface JsonReport {
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

describe('describeConformance in a project of its own', () => {
  it('a driver that reports the wrong C-bit position fails, and the message names case, profile and reason', () => {
    writeFileSync(join(dir, 'bragging.test.ts'), `import { describeConformance } from ${JSON.stringify(join(repo, 'conformance/vitest.ts'))};
const slot = { min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 };
describeConformance({
  profiles: ['milan-7003-es8'],
  cases: ['detect.sev-facts-from-domcaps'],
  driver: () => ({
    describe: () => ({ name: 'bragging', version: '0.1', ops: ['reportHost'], models: ['amd-sev'] }),
    reportHost: async () => ({ traits: ['HW_CPU_X86_AMD_SEV'], inventories: { MEM_ENCRYPTION_CONTEXT: { total: 5, ...slot } }, warnings: [], sev: { cbitpos: 47, reducedPhysBits: 1 } }),
  }),
});
`);
    const out = join(dir, 'report.json');
    const run = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--reporter=json', `--outputFile=${out}`], { cwd: dir, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(readFileSync(out, 'utf8')) as JsonReport;
    const [test] = report.testResults.flatMap((f) => f.assertionResults);
    expect(test?.status).toBe('failed');
    expect(test?.failureMessages[0]).toMatch(/^Error: detect\.sev-facts-from-domcaps \[milan-7003-es8\]: expected cbitpos 51/);
  });
});
