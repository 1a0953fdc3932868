/**
 * bin/cli-bundle.js: the checkout's CLI bundled by esbuild, rebuilt whenever a source changed (never
 * stale), modules keeping their own source location, stack traces naming the .ts lines; and the
 * real `bin/sevharness.js` running a conformance matrix from the bundle on worker threads.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { bundledCli } from '../../bin/cli-bundle.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Writes a file dated a minute ago, so the build does not take it for one saved during the build. */
function put(root: string, rel: string, text: string, ageSeconds = 60): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  const when = Date.now() / 1000 - ageSeconds;
  utimesSync(file, when, when);
}

interface FixtureCli {
  main(argv: string[]): Promise<string>;
  here: string;
  boom(): never;
}

describe('the bundled CLI of a checkout', () => {
  let root: string;
  let cache: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sevharness-bundle-'));
    dirs.push(root);
    cache = join(root, 'cache');
    put(root, 'src/cli/greet.ts', "export const greeting = (): string => 'one';\n");
    put(
      root,
      'src/cli/main.ts',
      [
        "import { greeting } from './greet.ts';",
        'export async function main(_argv: string[]): Promise<string> {',
        '  return greeting();',
        '}',
        'export const here: string = import.meta.url;',
        'export function boom(): never {',
        "  throw new Error('boom');",
        '}',
        '',
      ].join('\n'),
    );
    put(root, 'conformance/runner/worker.ts', 'export const worker = true;\n');
  });

  it('is built once and reused while no source changes', async () => {
    const first = await bundledCli(root, cache);
    expect(first).not.toBeNull();
    const again = await bundledCli(root, cache);
    expect(again?.href).toBe(first!.href);
    const cli = (await import(first!.href)) as FixtureCli;
    expect(await cli.main([])).toBe('one');
    // A module keeps its own location, as under tsx (workers, scripts and data are found from it).
    expect(cli.here).toBe(pathToFileURL(join(root, 'src/cli/main.ts')).href);
    expect(readFileSync(join(fileURLToPath(first!), '..', 'conformance-worker.mjs'), 'utf8')).toContain('worker');
  });

  it('is rebuilt when an imported source changes, even to an older time and the same size', async () => {
    const first = await bundledCli(root, cache);
    put(root, 'src/cli/greet.ts', "export const greeting = (): string => 'two';\n", 3600);
    const second = await bundledCli(root, cache);
    expect(second?.href).not.toBe(first?.href);
    expect(await ((await import(second!.href)) as FixtureCli).main([])).toBe('two');
  });

  it('rebuilds at the next start a source saved just before the build', async () => {
    put(root, 'src/cli/greet.ts', "export const greeting = (): string => 'new';\n", 0);
    const first = await bundledCli(root, cache);
    const second = await bundledCli(root, cache);
    expect(second?.href).not.toBe(first?.href);
  });

  it('names the .ts file and line in stack traces', async () => {
    const url = await bundledCli(root, cache);
    const script = `process.setSourceMapsEnabled(true); const m = await import(${JSON.stringify(url!.href)}); try { m.boom(); } catch (e) { console.log(e.stack); }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout).toContain(`${join(root, 'src/cli/main.ts')}:7`);
  });

  it('is null when the sources do not build (the caller falls back to tsx)', async () => {
    put(root, 'src/cli/greet.ts', 'export const greeting = (: string => ;\n');
    expect(await bundledCli(root, cache)).toBeNull();
  });
});

describe('bin/sevharness.js from the bundle', () => {
  it('runs a matrix on a worker thread too with the same results, in order, as on one thread', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sevharness-bundle-run-'));
    dirs.push(out);
    // Slot cases (one of which continues another) run as pieces of their own: the worker's.
    const args = ['bin/sevharness.js', 'conformance', '--profiles', 'milan-7003-es8,intel-xeon,rome-7002-sev-off', '--cases', 'detect,xml,slots', '--report'];
    const results = async (file: string, jobs: string) => {
      await run(process.execPath, [...args, `json=${join(out, file)}`, '--jobs', jobs], { cwd: repo });
      const report = JSON.parse(readFileSync(join(out, file), 'utf8')) as { results: Array<{ caseId: string; profile: string; status: string; reason?: string }> };
      return report.results.map((r) => [r.profile, r.caseId, r.status, r.reason ?? '']);
    };
    const one = await results('one.json', '1');
    expect(one.length).toBeGreaterThan(10);
    expect(one.filter(([, id, status]) => id?.startsWith('slots.') && status === 'pass').length).toBeGreaterThan(1);
    expect(await results('two.json', '2')).toEqual(one);
  }, 120_000);

  it('loads a TypeScript driver module (no loader is registered in the bundle)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevharness-bundle-ts-'));
    dirs.push(dir);
    const reference = pathToFileURL(join(repo, 'conformance/adapters/reference.ts')).href;
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'my-driver.ts'), `import { createReferenceDriver } from ${JSON.stringify(reference)};\nconst make = (): ReturnType<typeof createReferenceDriver> => createReferenceDriver({ name: 'typed' });\nexport default make;\n`);
    const { stdout } = await run(process.execPath, ['bin/sevharness.js', 'conformance', '--driver', join(dir, 'my-driver.ts'), '--profiles', 'intel-xeon', '--cases', 'detect.kernel-param-missing', '--report', `json=${join(dir, 'r.json')}`], { cwd: repo });
    expect(stdout).toContain('1 passed');
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).driver.name).toBe('typed');
  }, 60_000);

  it('an interrupted run leaves none of its temporary directories (trees and images in memory)', async () => {
    const child = spawn(process.execPath, ['bin/sevharness.js', 'conformance', '--jobs', '2'], { cwd: repo, stdio: 'ignore' });
    const mine = () => ['/dev/shm', process.env.XDG_RUNTIME_DIR, tmpdir()].flatMap((base) => {
      try {
        return base ? readdirSync(base).filter((n) => n.startsWith(`sevharness-conf-${child.pid}-`)) : [];
      } catch {
        return [];
      }
    });
    // The calling thread's and the worker's.
    await expect.poll(mine, { timeout: 20_000, interval: 100 }).toHaveLength(2);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(mine()).toEqual([]);
  }, 60_000);
});
