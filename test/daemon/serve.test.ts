/** `sevharness serve` as a process: announcement, socket mode, read-only socket, state-dir persistence. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requireRealStack } from '../../containers/real-stack.ts';
import { guestXml, PLAIN_GUEST, virsh } from './helpers.ts';

const stack = requireRealStack(['virsh']);
const CLI = resolve(import.meta.dirname, '../../bin/sevharness.js');

interface Announced {
  readonly uri: string;
  readonly socket: string;
  readonly sysroot: string;
  readonly profile: string;
  readonly readOnlyUri?: string;
}

interface Serving {
  readonly child: ChildProcess;
  readonly lines: Announced[];
  /** Everything written to stderr so far. */
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `sevharness serve --json` and waits for one announcement per profile. */
async function serve(args: string[], profiles: number): Promise<Serving> {
  const child = spawn(process.execPath, [CLI, 'serve', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: Announced[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  const rl = createInterface({ input: child.stdout! });
  await new Promise<void>((resolveReady, reject) => {
    rl.on('line', (l) => {
      lines.push(JSON.parse(l) as Announced);
      if (lines.length === profiles) resolveReady();
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}`)));
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe.skipIf(!stack.available)('sevharness serve', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sevharness-serve-test-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('serves two profiles, writes their sysroots, creates 0600 sockets and removes them on SIGTERM', async () => {
    const s = await serve(['--profile', 'milan-7003-es8', '--profile', 'intel-xeon', '--state-dir', tmp()], 2);
    expect(s.lines.map((l) => l.profile)).toEqual(['milan-7003-es8', 'intel-xeon']);
    for (const l of s.lines) {
      expect(statSync(l.socket).mode & 0o777).toBe(0o600);
      expect(existsSync(l.sysroot)).toBe(true);
      expect(l.uri).toBe(`qemu+unix:///system?socket=${l.socket}`);
    }
    expect((await virsh(s.lines[0]!.uri, 'nodesevinfo')).stdout).toMatch(/max-guests\s+: 502/);
    expect((await virsh(s.lines[1]!.uri, 'nodesevinfo')).stderr).toContain('QEMU does not support SEV guest');
    expect(await s.stop()).toBe(0);
    for (const l of s.lines) expect(existsSync(l.socket)).toBe(false);
  });

  it('a read-only socket answers version and list but refuses define', async () => {
    const dir = tmp();
    const ro = join(dir, 'ro-sock');
    const s = await serve(['--profile', 'milan-7003-es8', '--socket', join(dir, 'rw-sock'), '--read-only-socket', ro, '--socket-mode', '0660'], 1);
    try {
      expect(statSync(join(dir, 'rw-sock')).mode & 0o777).toBe(0o660);
      const roUri = s.lines[0]!.readOnlyUri!;
      expect((await virsh(roUri, 'version')).status).toBe(0);
      expect((await virsh(roUri, 'list', '--all')).status).toBe(0);
      const xml = join(dir, 'g.xml');
      writeFileSync(xml, guestXml(PLAIN_GUEST));
      const r = await virsh(roUri, 'define', xml);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('error: operation forbidden: read only access prevents virDomainDefineXML');
      expect((await virsh(s.lines[0]!.uri, 'define', xml)).status).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it('--state-dir keeps defined domains across restarts', async () => {
    const state = tmp();
    const xml = join(state, 'g.xml');
    writeFileSync(xml, guestXml(PLAIN_GUEST));
    const first = await serve(['--profile', 'milan-7003-es8', '--state-dir', state], 1);
    expect((await virsh(first.lines[0]!.uri, 'define', xml)).status).toBe(0);
    expect(readdirSync(join(state, 'milan-7003-es8', 'domains'))).toEqual([`${PLAIN_GUEST.uuid}.xml`]);
    expect(await first.stop()).toBe(0);
    const second = await serve(['--profile', 'milan-7003-es8', '--state-dir', state], 1);
    try {
      expect((await virsh(second.lines[0]!.uri, 'list', '--all')).stdout).toMatch(/-\s+plainguest\s+shut off/);
      expect((await virsh(second.lines[0]!.uri, 'undefine', 'plainguest')).status).toBe(0);
      expect(readdirSync(join(state, 'milan-7003-es8', 'domains'))).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it('--state-dir: a stored definition the host rejects is reported on stderr and kept on disk; the others load', async () => {
    const state = tmp();
    const domains = join(state, 'milan-7003-es8', 'domains');
    mkdirSync(domains, { recursive: true });
    writeFileSync(join(domains, `${PLAIN_GUEST.uuid}.xml`), guestXml(PLAIN_GUEST));
    const broken = join(domains, '0b9f3c2e-1d4a-4e8b-9c7d-2a1b3c4d5e6f.xml');
    writeFileSync(broken, "<domain type='kvm'><name>broken</name>");
    const s = await serve(['--profile', 'milan-7003-es8', '--state-dir', state], 1);
    try {
      // stderr is a separate pipe from the announcement on stdout: wait for its line to arrive.
      await vi.waitFor(() => expect(s.stderr()).toContain('\n'));
      expect(s.stderr()).toBe(`sevharness serve: milan-7003-es8: stored domain ${broken} was not loaded: (domain_definition):1: Premature end of data in tag domain line 1\n<domain type='kvm'><name>broken</name>\n${'-'.repeat(38)}^\n`);
      expect((await virsh(s.lines[0]!.uri, 'list', '--all', '--name')).stdout.trim()).toBe('plainguest');
      expect(existsSync(broken)).toBe(true);
    } finally {
      await s.stop();
    }
  });
});
