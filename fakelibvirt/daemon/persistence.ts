/**
 * Persistent domain definitions on disk, as libvirt keeps /etc/libvirt/qemu/<name>.xml: one file
 * per defined domain, DIR/<uuid>.xml, holding its inactive XML. Files are replaced atomically
 * (write a temporary file, then rename) so a daemon killed mid-write never leaves half a domain.
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../../src/fs/make-dirs.ts';
import type { FakeHost } from '../host/fake-host.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { LifecycleEvent } from '../libvirt/states.ts';

export interface LoadResult {
  readonly loaded: readonly string[];
  readonly failed: ReadonlyArray<{ readonly file: string; readonly error: string }>;
}

export class DomainStore {
  constructor(readonly dir: string) {
    makeDirs(dir);
  }

  private file(uuid: string): string {
    return join(this.dir, `${uuid}.xml`);
  }

  /** Re-defines every stored domain on the host; a file the host rejects is reported, not fatal. */
  load(host: FakeHost): LoadResult {
    const loaded: string[] = [];
    const failed: { file: string; error: string }[] = [];
    for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.xml')).sort()) {
      try {
        loaded.push(host.defineXML(readFileSync(join(this.dir, f), 'utf8')).name);
      } catch (e) {
        failed.push({ file: f, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return { loaded, failed };
  }

  write(uuid: string, xml: string): void {
    const tmp = join(this.dir, `.${uuid}.xml.${process.pid}.tmp`);
    writeFileSync(tmp, xml);
    renameSync(tmp, this.file(uuid));
  }

  remove(uuid: string): void {
    rmSync(this.file(uuid), { force: true });
  }

  /** Keeps the directory in step with the host's definitions; returns the unsubscribe function. */
  track(host: FakeHost): () => void {
    const save = (d: { uuid: string; name: string }) => this.write(d.uuid, host.getXMLDesc(d, DomainFlags.XML_INACTIVE));
    const offLifecycle = host.onLifecycle((e) => {
      if (e.event === LifecycleEvent.DEFINED) save(e.domain);
      else if (e.event === LifecycleEvent.UNDEFINED) this.remove(e.domain.uuid);
    });
    // A device attached with AFFECT_CONFIG changes the definition without a DEFINED event.
    const offConfig = host.onConfigChange(save);
    return () => {
      offLifecycle();
      offConfig();
    };
  }
}
