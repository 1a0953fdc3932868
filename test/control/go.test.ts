/**
 * clients/go/README.md's Go example, run as written: its program (the first ```go block) against
 * `sevharness serve --control`, its output compared with the output the README shows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../daemon/helpers.ts';
import { findExecutable } from '../../containers/real-stack.ts';
import { serveWithControl } from './serve-cli.ts';

const README = readFileSync(resolve(import.meta.dirname, '../../clients/go/README.md'), 'utf8');
const GO = findExecutable('go');
if (!GO) {
  const msg = 'the Go toolchain (golang-go) is missing';
  if (process.env.CI === 'true') throw new Error(`${msg} (required because CI=true)`);
  process.stderr.write(`NOTICE: skipping the Go control-socket example: ${msg}\n`);
}

function block(lang: string, after = 0): string {
  const start = README.indexOf(`\`\`\`${lang}\n`, after);
  expect(start, `a ${lang} block`).toBeGreaterThanOrEqual(0);
  const body = start + lang.length + 4;
  return README.slice(body, README.indexOf('```', body));
}

describe.skipIf(!GO)('the Go example of the control socket', () => {
  it('prints what the README says it prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevharness-ctl-go-'));
    const served = await serveWithControl(dir, ['milan-7003-es8']);
    try {
      writeFileSync(join(dir, 'main.go'), block('go'));
      const printed = block('', README.indexOf('It prints:'));
      // go run from the program's directory, with the environment the README's shell lines export.
      const r = await run('/usr/bin/env', [
        `SEVHARNESS_CONTROL=${served.control}`,
        `SEVHARNESS_SYSROOT=${served.hosts[0]!.sysroot}`,
        `GOCACHE=${join(dir, 'gocache')}`,
        `HOME=${dir}`,
        'sh', '-c', `cd ${dir} && ${GO} run main.go`,
      ]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(printed);
      expect(spawnSync(GO!, ['vet', 'main.go'], { cwd: dir, env: { ...process.env, GOCACHE: join(dir, 'gocache'), HOME: dir }, encoding: 'utf8' }).status).toBe(0);
    } finally {
      await served.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
