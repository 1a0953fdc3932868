/**
 * Issue 15, finding 3: the socket was chmod'ed by path after listen(). Whoever owns the socket's
 * directory could swap a symlink in between and have a root daemon make any file 0666. Here the
 * attacker acts at exactly that moment: every path-based mode change the daemon makes first swaps
 * the socket for a symlink to a victim file. The daemon must make none, and its sockets must still
 * carry their modes.
 */
import { chmodSync as realChmod, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const attacker = vi.hoisted(() => ({ victim: '', swaps: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const swapThen =
    <A extends unknown[]>(f: (path: import('node:fs').PathLike, ...rest: A) => void) =>
    (path: import('node:fs').PathLike, ...rest: A) => {
      if (attacker.victim !== '' && String(path).endsWith('sock')) {
        fs.unlinkSync(path);
        fs.symlinkSync(attacker.victim, path);
        attacker.swaps++;
      }
      return f(path, ...rest);
    };
  return { ...fs, default: { ...fs, chmodSync: swapThen(fs.chmodSync) }, chmodSync: swapThen(fs.chmodSync) };
});

const { FakeLibvirtd } = await import('../../fakelibvirt/daemon/server.ts');
const { FakeHost } = await import('../../fakelibvirt/host/fake-host.ts');
const { loadProfile } = await import('../../fakelibvirt/profile/load.ts');

const dir = mkdtempSync(join(tmpdir(), 'sevharness-chmod-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('socket creation', () => {
  it('never changes a mode by path: a symlink swapped in at the socket path leaves its target alone', async () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'secret\n');
    realChmod(victim, 0o600);
    attacker.victim = victim;
    const daemon = new FakeLibvirtd(new FakeHost(loadProfile('rome-7002')), {
      socketPath: join(dir, 'rw-sock'),
      readOnlySocketPath: join(dir, 'ro-sock'),
    });
    await daemon.listen();
    attacker.victim = '';
    expect(statSync(victim).mode & 0o777).toBe(0o600);
    expect(attacker.swaps).toBe(0);
    expect(statSync(join(dir, 'rw-sock')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ro-sock')).mode & 0o777).toBe(0o666);
    await daemon.close();
  });

  it('restores the process umask after creating the sockets', async () => {
    const before = process.umask(0o022);
    process.umask(before);
    const daemon = new FakeLibvirtd(new FakeHost(loadProfile('rome-7002')), { socketPath: join(dir, 'second-sock'), socketMode: 0o660 });
    await daemon.listen();
    expect(process.umask()).toBe(before);
    expect(statSync(join(dir, 'second-sock')).mode & 0o777).toBe(0o660);
    await daemon.close();
  });
});
