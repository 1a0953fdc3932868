/**
 * The driver's only door to libvirt and to host files. The driver speaks to libvirt through the TS
 * wire client (a real compute service's path); tests and benches may hand it any other
 * `LibvirtSource` (conformance/fake-host-source.ts calls a `FakeHost` in-process). Host files are
 * read under a sysroot so a test can point the driver at a materialised fake tree instead of the
 * real `/sys`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { uuidString, type LibvirtClient } from '../libvirt/client.ts';
import { isLibvirtError, VirErrorNumber } from '../libvirt/errors.ts';
import { DomainFlags } from '../libvirt/flags.ts';

/** A domain as the driver names it: libvirt identifies domains by UUID, the name is for humans. */
export interface DomainIdentity {
  readonly name: string;
  readonly uuid: string;
}

export interface DomainCapsRequest {
  readonly arch?: string;
  readonly machine?: string;
  readonly virttype?: string;
  readonly emulatorbin?: string;
}

/** virDomainCreateWithFlags flag: start paused (used by tests that inject launch secrets). */
export const START_PAUSED = 1;

export interface LibvirtSource {
  getCapabilities(): Promise<string>;
  getDomainCapabilities(q: DomainCapsRequest): Promise<string>;
  /** Hypervisor (QEMU) version as libvirt encodes it: major * 1e6 + minor * 1e3 + micro. */
  getVersion(): Promise<number>;
  getLibVersion(): Promise<number>;
  defineXML(xml: string): Promise<DomainIdentity>;
  create(dom: DomainIdentity, flags?: number): Promise<void>;
  destroy(dom: DomainIdentity): Promise<void>;
  /** Undefines and drops the per-domain NVRAM that every OVMF guest of this driver has, and any managed save. */
  undefine(dom: DomainIdentity): Promise<void>;
  suspend(dom: DomainIdentity): Promise<void>;
  resume(dom: DomainIdentity): Promise<void>;
  reboot(dom: DomainIdentity): Promise<void>;
  managedSave(dom: DomainIdentity): Promise<void>;
  getXMLDesc(dom: DomainIdentity, flags?: number): Promise<string>;
  isActive(dom: DomainIdentity): Promise<boolean>;
  /** The domain with this UUID, or null when libvirt has none. */
  lookup(uuid: string): Promise<DomainIdentity | null>;
  /** virDomainAttachDeviceFlags. */
  attachDevice(dom: DomainIdentity, xml: string, flags: number): Promise<void>;
  /** Running domains (virConnectListAllDomains with VIR_CONNECT_LIST_DOMAINS_ACTIVE). */
  listActive(): Promise<DomainIdentity[]>;
}

/** A deleted guest keeps neither its managed save image nor its NVRAM: the undefine flags every source uses. */
export const UNDEFINE_WITH_NVRAM_AND_SAVE = DomainFlags.UNDEFINE_MANAGED_SAVE | DomainFlags.UNDEFINE_NVRAM;

/** Over the libvirt RPC protocol, to libvirtd, virtqemud or the sevharness daemon alike. */
export class WireSource implements LibvirtSource {
  constructor(readonly client: LibvirtClient) {}
  private async ref(dom: DomainIdentity) {
    return this.client.lookupByUUID(dom.uuid);
  }
  async getCapabilities(): Promise<string> {
    return this.client.getCapabilities();
  }
  async getDomainCapabilities(q: DomainCapsRequest): Promise<string> {
    return this.client.getDomainCapabilities(q);
  }
  async getVersion(): Promise<number> {
    return this.client.getVersion();
  }
  async getLibVersion(): Promise<number> {
    return this.client.getLibVersion();
  }
  async defineXML(xml: string): Promise<DomainIdentity> {
    const r = await this.client.defineXML(xml);
    return { name: r.name, uuid: uuidString(r.uuid) };
  }
  async create(dom: DomainIdentity, flags = 0): Promise<void> {
    await this.client.domainCreateWithFlags(await this.ref(dom), flags);
  }
  async destroy(dom: DomainIdentity): Promise<void> {
    await this.client.destroy(await this.ref(dom));
  }
  async undefine(dom: DomainIdentity): Promise<void> {
    await this.client.undefineFlags(await this.ref(dom), UNDEFINE_WITH_NVRAM_AND_SAVE);
  }
  async suspend(dom: DomainIdentity): Promise<void> {
    await this.client.suspend(await this.ref(dom));
  }
  async resume(dom: DomainIdentity): Promise<void> {
    await this.client.resume(await this.ref(dom));
  }
  async reboot(dom: DomainIdentity): Promise<void> {
    await this.client.reboot(await this.ref(dom));
  }
  async managedSave(dom: DomainIdentity): Promise<void> {
    await this.client.managedSave(await this.ref(dom));
  }
  async getXMLDesc(dom: DomainIdentity, flags = 0): Promise<string> {
    return this.client.getXMLDesc(await this.ref(dom), flags);
  }
  async isActive(dom: DomainIdentity): Promise<boolean> {
    return this.client.isActive(await this.ref(dom));
  }
  async lookup(uuid: string): Promise<DomainIdentity | null> {
    try {
      const r = await this.client.lookupByUUID(uuid);
      return { name: r.name, uuid: uuidString(r.uuid) };
    } catch (e) {
      if (isLibvirtError(e, VirErrorNumber.NO_DOMAIN)) return null;
      throw e;
    }
  }
  async listActive(): Promise<DomainIdentity[]> {
    return (await this.client.listAllDomains(DomainFlags.LIST_ACTIVE)).map((r) => ({ name: r.name, uuid: uuidString(r.uuid) }));
  }
  async attachDevice(dom: DomainIdentity, xml: string, flags: number): Promise<void> {
    await this.client.attachDeviceFlags(await this.ref(dom), xml, flags);
  }
}

/** Read-only access to host files; `null` means the file does not exist (or cannot be read). */
export interface HostFiles {
  readText(relPath: string): string | null;
  /** Permission bits of a file or device node (stat's st_mode & 07777); `null` when it does not exist. */
  mode(relPath: string): number | null;
}

/** Files under a root directory: `/` on a real compute node, a materialised fake tree in tests. */
export class SysrootFiles implements HostFiles {
  constructor(readonly root = '/') {}
  readText(relPath: string): string | null {
    try {
      return readFileSync(join(this.root, relPath), 'utf8');
    } catch {
      return null;
    }
  }
  mode(relPath: string): number | null {
    try {
      // A device node is stat'ed, never read (reading /dev/sev fails even when QEMU can open it).
      return statSync(join(this.root, relPath)).mode & 0o7777;
    } catch {
      return null;
    }
  }
}

/** Files from a map, for tests that vary one file at a time without touching disk. */
export class MapFiles implements HostFiles {
  /** @param modes permission bits by path; a file in `files` without one reads as 0644 */
  constructor(
    readonly files: ReadonlyMap<string, string>,
    readonly modes: ReadonlyMap<string, number> = new Map(),
  ) {}
  readText(relPath: string): string | null {
    return this.files.get(relPath) ?? null;
  }
  mode(relPath: string): number | null {
    return this.modes.get(relPath) ?? (this.files.has(relPath) ? 0o644 : null);
  }
}
