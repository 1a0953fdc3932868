/**
 * The package as a new user gets it: `npm pack` (prepack builds dist/), the tarball installed into
 * an empty project next to the user's own vitest and typescript, then with plain Node (no loader)
 * every entry point imported, a FakeHost run, a profile served and reached by the client, the
 * suite run on the reference driver; `describeConformance` in the user's vitest; a default
 * `tsc --strict` project (skipLibCheck off) compiled against our declarations. Outside CI a
 * missing npm or registry skips with a notice; with CI=true it fails.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../containers/real-stack.ts';
import { APP_TS, NODE_CASES, PACKAGE_JSON, PROFILES, SMOKE_MJS, SUITE_TEST_MTS, VITEST_CASES, VITEST_PROFILE, tsconfig } from './user-project.ts';

const REPO = join(import.meta.dirname, '..', '..');
const CI = process.env.CI === 'true';

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * The child's environment without what the outer npm and vitest put there (npm_config_*, VITEST_*,
 * NODE_OPTIONS), so the user's npm, node and vitest behave as in a fresh shell.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$)/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** Runs a command with a hard time limit; never throws for a non-zero exit. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Ran> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: cleanEnv(), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === null ? `\n${err.message}` : ''), ms: performance.now() - t0 });
    });
  });
}

const tail = (r: Ran) => `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`;
const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|registry/i;
const versionOf = (pkg: string): string => (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

interface Packed {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

let tmp = '';
let user = '';
let packed: Packed | null = null;
/** Why the project could not be set up outside CI (the tests then skip), or null. */
let unavailable: string | null = null;
const timings: Record<string, number> = {};

function skipUnlessReady(ctx: { skip: (note?: string) => void }): void {
  if (unavailable !== null) ctx.skip(unavailable);
}

/** Outside CI a missing npm or registry is a notice and a skip; in CI, a failure. */
function missing(reason: string): void {
  if (CI) throw new Error(`${reason} (required because CI=true)`);
  process.stderr.write(`NOTICE: skipping the packed-install test, ${reason}\n`);
  unavailable = reason;
}

describe('the packed package in an empty project', () => {
  beforeAll(async () => {
    const npm = findExecutable('npm');
    if (!npm) return missing('npm is not on PATH');
    tmp = mkdtempSync(join(tmpdir(), 'sevharness-pack-'));
    user = join(tmp, 'user');

    // npm pack runs prepack (npm run build: tsc into dist/); --json's array is the last thing printed.
    const pack = await run(npm, ['pack', '--json', '--pack-destination', tmp], REPO, 420_000);
    timings.pack = pack.ms;
    if (pack.code !== 0) throw new Error(`npm pack failed (exit ${pack.code}):\n${tail(pack)}`);
    const json = pack.stdout.slice(pack.stdout.lastIndexOf('\n[') + 1);
    packed = (JSON.parse(json) as Packed[])[0]!;

    mkdirSync(user);
    writeFileSync(join(user, 'package.json'), PACKAGE_JSON);
    // The user's own vitest and typescript: the versions this checkout uses, so the npm cache has them.
    const install = await run(
      npm,
      ['install', join(tmp, packed.filename), `vitest@${versionOf('vitest')}`, `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`, '--prefer-offline', '--no-audit', '--no-fund'],
      user,
      420_000,
    );
    timings.install = install.ms;
    if (install.code !== 0) {
      if (NETWORK.test(install.stderr)) return missing(`npm install cannot reach the registry: ${install.stderr.split('\n').find((l) => NETWORK.test(l)) ?? ''}`);
      throw new Error(`npm install of the tarball failed (exit ${install.code}):\n${tail(install)}`);
    }
    writeFileSync(join(user, 'smoke.mjs'), SMOKE_MJS);
    writeFileSync(join(user, 'suite.test.mts'), SUITE_TEST_MTS);
    writeFileSync(join(user, 'app.ts'), APP_TS);
  }, 900_000);

  afterAll(() => {
    if (packed) {
      process.stderr.write(
        `packed-install: tarball ${(packed.size / 1024).toFixed(0)} KiB (${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${packed.entryCount} files); ` +
          `${Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')}\n`,
      );
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('holds dist/, the data it reads and no tests, benches, CI scripts or TypeScript sources', (ctx) => {
    skipUnlessReady(ctx);
    const paths = packed!.files.map((f) => f.path);
    expect(paths.filter((p) => /(^|\/)(test|tests|bench|\.ci|oracle|scripts)\//.test(p) || /\.(test|bench)\.[cm]?[jt]s$/.test(p))).toEqual([]);
    expect(paths.filter((p) => /\.[cm]?ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
    for (const file of ['package.json', 'bin/sevharness.js', 'dist/fakelibvirt/index.js', 'dist/fakelibvirt/index.d.ts', 'dist/src/cli/main.js', 'hardware-profiles/milan-7003-es8.json', 'fakelibvirt/kds/keys/ark-milan.fake.pem']) {
      expect(paths).toContain(file);
    }
  });

  it('declarations never point at .ts files', (ctx) => {
    skipUnlessReady(ctx);
    const dist = join(user, 'node_modules', 'sevharness', 'dist');
    const offenders = (readdirSync(dist, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((f) => f.endsWith('.d.ts'))
      .filter((f) => /(from\s+|import\s*\(\s*)['"]\.{1,2}\/[^'"]*(?<!\.d)\.ts['"]/.test(readFileSync(join(dist, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('runs with plain Node: every entry, a FakeHost, a served profile and the client, the suite on the reference driver', async (ctx) => {
    skipUnlessReady(ctx);
    const r = await run(process.execPath, ['smoke.mjs'], user, 240_000);
    timings.node = r.ms;
    expect(r.code, tail(r)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      exports: Record<string, string[]>;
      inProcess: { profiles: number; active: boolean; asidsInUse: string[] };
      served: { uri: string; libVersion: number; active: boolean; measurement: boolean; refused: string | null; controlHandlers: number };
      conformance: { counts: Record<string, number>; failures: string[] };
    };
    expect(out.exports.main).toEqual(expect.arrayContaining(['FakeHost', 'loadProfile', 'allProfiles', 'serveProfile', 'FakeLibvirtd', 'FakeFleet', 'ControlClient', 'fault']));
    expect(out.exports.client).toEqual(expect.arrayContaining(['connect', 'LibvirtError', 'VirErrorNumber', 'VirErrorDomain', 'DomainFlags', 'param', 'parseUri']));
    expect(out.exports.driver).toEqual(expect.arrayContaining(['ReferenceSevDriver', 'WireSource', 'SysrootFiles', 'DriverRefusal']));
    expect(out.exports.conformance).toEqual(expect.arrayContaining(['runConformance', 'createReferenceDriver', 'REFUSAL_CODES', 'formatJunit', 'formatJson', 'formatHtml', 'formatTable']));
    expect(out.exports.vitest).toEqual(expect.arrayContaining(['describeConformance']));
    expect(out.exports.kds).toEqual(expect.arrayContaining(['kdsHandlers', 'KDS_ORIGIN']));
    expect(out.inProcess).toEqual({ profiles: readdirSync(join(REPO, 'hardware-profiles')).filter((f) => f.endsWith('.json')).length, active: true, asidsInUse: ['sev'] });
    expect(out.served.uri).toMatch(/^qemu\+unix:\/\/\/system\?socket=\//);
    expect(out.served).toMatchObject({ libVersion: 9_000_000, active: true, measurement: true, controlHandlers: 0 });
    expect(out.served.refused).toMatch(/^Domain not found: no domain with matching name 'no-such-guest'$/);
    expect(out.conformance.failures).toEqual([]);
    expect(out.conformance.counts.error).toBe(0);
    expect(out.conformance.counts.pass).toBeGreaterThan(PROFILES.length * NODE_CASES.length);
  }, 260_000);

  it("the CLI runs from the installed bin (compiled, no tsx)", async (ctx) => {
    skipUnlessReady(ctx);
    const r = await run(join(user, 'node_modules', '.bin', 'sevharness'), ['conformance', '--profiles', 'intel-xeon', '--cases', 'detect'], user, 120_000);
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).toMatch(/intel-xeon/);
    expect(readdirSync(join(user, 'node_modules'))).not.toContain('tsx');
  }, 140_000);

  it("describeConformance registers the cases in the user's own vitest", async (ctx) => {
    skipUnlessReady(ctx);
    const r = await run(process.execPath, [join(user, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=json', '--outputFile=vitest.json'], user, 300_000);
    timings.vitest = r.ms;
    expect(r.code, tail(r)).toBe(0);
    const result = JSON.parse(readFileSync(join(user, 'vitest.json'), 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      testResults: Array<{ assertionResults: Array<{ fullName: string }> }>;
    };
    expect(result.numFailedTests).toBe(0);
    expect(result.numPassedTests).toBeGreaterThan(VITEST_CASES.length);
    expect(result.testResults.flatMap((f) => f.assertionResults.map((a) => a.fullName)).every((n) => n.includes(VITEST_PROFILE))).toBe(true);
  }, 320_000);

  it('a default tsc --strict project, with and without exactOptionalPropertyTypes, type-checks against our declarations (skipLibCheck off)', async (ctx) => {
    skipUnlessReady(ctx);
    const tsc = join(user, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(join(user, 'tsconfig.json'), tsconfig(false));
    writeFileSync(join(user, 'tsconfig.exact.json'), tsconfig(true));
    // The two checks are independent: run side by side.
    const [plain, exact] = await Promise.all([run(process.execPath, [tsc, '-p', 'tsconfig.json'], user, 300_000), run(process.execPath, [tsc, '-p', 'tsconfig.exact.json'], user, 300_000)]);
    timings.tsc = Math.max(plain.ms, exact.ms);
    expect(plain.stdout + plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(exact.stdout + exact.stderr).toBe('');
    expect(exact.code).toBe(0);
  }, 320_000);
});
