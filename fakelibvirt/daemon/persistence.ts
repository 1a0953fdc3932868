/**
 * Persistent domain definitions on disk, as libvirt keeps /etc/libvirt/qemu/<name>.xml: one file
 * per defined domain, DIR/<uuid>.xml, holding exactly the inactive XML the domain formatter returns.
 * Files are written under a random temporary name with O_EXCL|O_NOFOLLOW, synced, renamed into
 * place and the directory synced (src/fs/own-files.ts), so a daemon killed at any instant leaves
 * every acknowledged definition whole, and a link planted in the directory is never written or read
 * through. Temporary files a killed daemon left behind are removed when the store opens.
 *
 * Writes run in order on libuv's thread pool, so the daemon keeps serving while they reach the
 * disk; `flushed()` is the barrier the daemon holds a reply behind until its change is durable.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readOwnFile, removeOwnFileAsync, sweepTemporaryFiles, UnsafePathError, writeOwnFileAsync } from '../../src/fs/own-files.ts';
import type { LibvirtBackend } from '../host/libvirt-backend.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { LifecycleEvent } from '../libvirt/states.ts';

/**
 * The largest stored definition read back. A definition arrives in at most 4 MiB (the RPC string
 * limit) and libvirt's formatting re-indents it by at most ~18× (libxml2 indents 60 columns at
 * most: 3 bytes of `<b>` become a 64-byte line); anything larger was not written by this daemon.
 */
export const MAX_STORED_BYTES = 80 << 20;

export interface LoadResult {
  readonly loaded: readonly string[];
  readonly failed: ReadonlyArray<{ readonly file: string; readonly error: string }>;
  /** Temporary files of an interrupted write, removed. */
  readonly swept: readonly string[];
}

export class DomainStore {
  /** `dir` must already exist as a real directory (ensureOwnDir); a symlink there is refused. */
  constructor(readonly dir: string) {
    const st = lstatSync(dir);
    if (st.isSymbolicLink() || !st.isDirectory()) throw new UnsafePathError(`${dir} is not a directory of its own; not storing domains there`);
  }

  private file(uuid: string): string {
    return join(this.dir, `${uuid}.xml`);
  }

  /** Re-defines every stored domain on the host; a file the host rejects (or a link) is reported, not fatal. */
  load(host: LibvirtBackend): LoadResult {
    const swept = sweepTemporaryFiles(this.dir);
    const loaded: string[] = [];
    const failed: { file: string; error: string }[] = [];
    for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.xml')).sort()) {
      try {
        loaded.push(host.defineXML(readOwnFile(join(this.dir, f), MAX_STORED_BYTES)).name);
      } catch (e) {
        const code = e instanceof Error && 'code' in e ? e.code : undefined;
        const error = code === 'ELOOP' ? 'it is a symbolic link; not following it' : e instanceof Error ? e.message : String(e);
        failed.push({ file: f, error });
      }
    }
    return { loaded, failed, swept };
  }

  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  /** Write failures (disk full, a directory gone): reported here, the daemon serves on. */
  onError: (e: unknown) => void = () => undefined;

  /** Queues a whole-file write of a definition; it reaches the disk in the order queued. */
  write(uuid: string, xml: string): Promise<void> {
    return this.enqueue(() => writeOwnFileAsync(this.file(uuid), xml, { mode: 0o600 }));
  }

  remove(uuid: string): Promise<void> {
    return this.enqueue(() => removeOwnFileAsync(this.file(uuid)));
  }

  /** Resolves when every write queued so far is on disk; null when none is pending. */
  flushed(): Promise<void> | null {
    return this.pending > 0 ? this.chain : null;
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    this.pending++;
    this.chain = this.chain.then(op).then(
      () => void this.pending--,
      (e: unknown) => {
        this.pending--;
        this.onError(e);
      },
    );
    return this.chain;
  }

  /** Keeps the directory in step with the host's definitions; returns the unsubscribe function. */
  track(host: LibvirtBackend): () => void {
    const save = (d: { uuid: string; name: string }) => void this.write(d.uuid, host.getXMLDesc(d, DomainFlags.XML_INACTIVE));
    const offLifecycle = host.onLifecycle((e) => {
      if (e.event === LifecycleEvent.DEFINED) save(e.domain);
      else if (e.event === LifecycleEvent.UNDEFINED) void this.remove(e.domain.uuid);
    });
    // A device attached with AFFECT_CONFIG changes the definition without a DEFINED event.
    const offConfig = host.onConfigChange(save);
    return () => {
      offLifecycle();
      offConfig();
    };
  }
}
