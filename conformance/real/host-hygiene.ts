/**
 * Leaving a real host as it was found. Real mode's guests are known by what only the suite gives
 * them — the runner's instance UUID prefix and the checks' name prefix — and nothing else on the
 * host is ever touched. One run per host at a time (a lock file naming the run's pid): the UUIDs are
 * the same from run to run, so a second run would collide with the first, and with the lock held
 * whatever carries the suite's marks is a leftover of a run that died (kill -9, a crash, a power
 * cut), swept with its NVRAM when the next run starts. Ctrl-C and SIGTERM clean up before exiting.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidString, type DomainRef, type LibvirtClient } from '../../src/libvirt/client.ts';
import { RUNNER_UUID_PREFIX } from '../runner/requests.ts';
import { HostFactsError } from './host-files.ts';

/** Name prefix of the real-mode checks' own domains (the runner's instances are known by RUNNER_UUID_PREFIX). */
export const CHECK_DOMAIN_PREFIX = 'sevharness-real-';

/** virDomainUndefineFlagsValues: MANAGED_SAVE | SNAPSHOTS_METADATA | NVRAM. */
const UNDEFINE_ALL = 1 | 2 | 4;

/** Whether the suite made this domain: its instance UUID or its check name says so. */
export function madeBySuite(d: DomainRef): boolean {
  return uuidString(d.uuid).startsWith(RUNNER_UUID_PREFIX) || d.name.startsWith(CHECK_DOMAIN_PREFIX);
}

/** Destroys and undefines (NVRAM, managed save and snapshot metadata included) one of the suite's domains. */
export async function removeSuiteDomain(client: LibvirtClient, d: DomainRef): Promise<void> {
  if (!madeBySuite(d)) throw new Error(`refusing to remove domain '${d.name}' (${uuidString(d.uuid)}): real mode did not create it`);
  if (await client.isActive(d).catch(() => false)) await client.destroy(d).catch(() => undefined);
  await client.undefineFlags(d, UNDEFINE_ALL).catch(() => client.undefine(d).catch(() => undefined));
}

/** Removes every domain carrying the suite's marks, except those in `keep`; returns their names. */
export async function sweepSuiteDomains(client: LibvirtClient, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
  const removed: string[] = [];
  for (const d of await client.listAllDomains()) {
    if (!madeBySuite(d) || keep.has(uuidString(d.uuid))) continue;
    await removeSuiteDomain(client, d);
    removed.push(d.name);
  }
  return removed;
}

function lockDir(): string {
  return join(process.env.SEVHARNESS_STATE_DIR ?? join(tmpdir(), 'sevharness-real'), 'locks');
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The lock of one host for one run; released at the run's end (or found stale at the next start). */
export class HostLock {
  private constructor(readonly path: string) {}

  static acquire(uri: string): HostLock {
    const dir = lockDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${createHash('sha256').update(uri).digest('hex').slice(0, 16)}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${JSON.stringify({ pid: process.pid, uri, started: new Date().toISOString() })}\n`, { flag: 'wx', mode: 0o600 });
        return new HostLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let holder: { pid?: unknown } = {};
        try {
          holder = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown };
        } catch {
          // unreadable: a run died while writing it
        }
        if (typeof holder.pid === 'number' && alive(holder.pid)) {
          const who = holder.pid === process.pid ? 'a target of this process still open' : `pid ${holder.pid}`;
          throw new HostFactsError(`another real-mode run (${who}) is using ${uri}; runs on one host take turns (lock ${path})`);
        }
        rmSync(path, { force: true });
      }
    }
    throw new HostFactsError(`cannot take the real-mode lock ${path}`);
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

/**
 * Cleans up on SIGINT/SIGTERM, then exits as the signal would (130/143). Returns the function that
 * removes the handlers when the run ends normally.
 */
export function cleanUpOnSignal(cleanUp: () => Promise<void>): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`real mode: ${signal}: removing the suite's domains before exiting\n`);
    const exit = () => process.exit(signal === 'SIGINT' ? 130 : 143);
    cleanUp().then(exit, exit);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
