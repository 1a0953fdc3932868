/**
 * A `LibvirtSource` over a `FakeHost` in the same process: no socket, no XDR, the same
 * `LibvirtError`s the wire carries. It joins the fake and the driver, which never import each
 * other, so it lives in the suite's layer; unit tests and benches of the driver use it.
 */
import type { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { isLibvirtError, VirErrorNumber } from '../src/libvirt/errors.ts';
import { DomainFlags } from '../src/libvirt/flags.ts';
import { UNDEFINE_WITH_NVRAM_AND_SAVE, type DomainIdentity, type LibvirtSource } from '../src/driver/index.ts';

type DomainCapsRequest = Parameters<LibvirtSource['getDomainCapabilities']>[0];

export class FakeHostSource implements LibvirtSource {
  constructor(readonly host: FakeHost) {}
  async getCapabilities(): Promise<string> {
    return this.host.capabilities();
  }
  async getDomainCapabilities(q: DomainCapsRequest): Promise<string> {
    return this.host.domainCapabilities(q);
  }
  async getVersion(): Promise<number> {
    return this.host.hypervisorVersion();
  }
  async getLibVersion(): Promise<number> {
    return this.host.libVersion();
  }
  async defineXML(xml: string): Promise<DomainIdentity> {
    const r = this.host.defineXML(xml);
    return { name: r.name, uuid: r.uuid };
  }
  async create(dom: DomainIdentity, flags = 0): Promise<void> {
    this.host.create(dom, flags);
  }
  async destroy(dom: DomainIdentity): Promise<void> {
    this.host.destroy(dom);
  }
  async undefine(dom: DomainIdentity): Promise<void> {
    this.host.undefine(dom, UNDEFINE_WITH_NVRAM_AND_SAVE);
  }
  async suspend(dom: DomainIdentity): Promise<void> {
    this.host.suspend(dom);
  }
  async resume(dom: DomainIdentity): Promise<void> {
    this.host.resume(dom);
  }
  async reboot(dom: DomainIdentity): Promise<void> {
    this.host.reboot(dom);
  }
  async managedSave(dom: DomainIdentity): Promise<void> {
    this.host.managedSave(dom);
  }
  async getXMLDesc(dom: DomainIdentity, flags = 0): Promise<string> {
    return this.host.getXMLDesc(dom, flags);
  }
  async isActive(dom: DomainIdentity): Promise<boolean> {
    return this.host.isActive(dom);
  }
  async lookup(uuid: string): Promise<DomainIdentity | null> {
    try {
      const r = this.host.lookupByUUID(uuid);
      return { name: r.name, uuid };
    } catch (e) {
      if (isLibvirtError(e, VirErrorNumber.NO_DOMAIN)) return null;
      throw e;
    }
  }
  async listActive(): Promise<DomainIdentity[]> {
    return this.host.listAllDomains(DomainFlags.LIST_ACTIVE).map((r) => ({ name: r.name, uuid: r.uuid }));
  }
  async attachDevice(dom: DomainIdentity, xml: string, flags: number): Promise<void> {
    this.host.attachDevice(dom, xml, flags);
  }
}
