/** `sevharness serve --control SOCK --json` as a process, its announcement lines kept in a file as a shell user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const CLI = resolve(import.meta.dirname, '../../bin/sevharness.js');

export interface Serving {
  readonly child: ChildProcess;
  /** The file holding the announcement lines (one JSON object per line). */
  readonly json: string;
  readonly control: string;
  readonly hosts: ReadonlyArray<{ readonly uri: string; readonly sysroot: string; readonly profile: string }>;
  stop(): Promise<void>;
}

export async function serveWithControl(dir: string, profiles: readonly string[]): Promise<Serving> {
  const control = join(dir, 'ctl.sock');
  const args = [CLI, 'serve', ...profiles.flatMap((p) => ['--profile', p]), '--control', control, '--json'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  const lines: Array<Record<string, string>> = [];
  await new Promise<void>((ready, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(JSON.parse(l) as Record<string, string>);
      if (lines.some((x) => x.control)) ready();
    });
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
  });
  const json = join(dir, 'serve.json');
  writeFileSync(json, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return {
    child,
    json,
    control,
    hosts: lines.filter((l) => l.uri).map((l) => ({ uri: l.uri!, sysroot: l.sysroot!, profile: l.profile! })),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
