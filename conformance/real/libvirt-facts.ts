/**
 * What a real libvirtd says about its host: versions, hostname, the capabilities' x86_64 machine
 * types and host CPU, and the q35 domain capabilities with their `<sev>` element. Parsed with our
 * own small readers (the judge never borrows the reference driver's parsers).
 */
import { child, children, parseXmlDocument, type XmlNode } from '../../fakelibvirt/libvirt/xml-tree.ts';
import type { DomainCapabilitiesQuery } from '../../src/libvirt/client.ts';
import { HostFactsError } from './host-files.ts';

export interface MachineFact {
  readonly name: string;
  /** Set on an alias: the versioned machine it stands for. */
  readonly canonical?: string;
  readonly maxCpus: number;
}

export interface CapabilitiesFacts {
  readonly hostUuid: string | null;
  readonly hostArch: string | null;
  /** libvirt's host-model CPU name (e.g. EPYC-Milan, Broadwell). */
  readonly cpuModel: string | null;
  readonly emulator: string | null;
  readonly machines: readonly MachineFact[];
  /** Domain types libvirt offers for x86_64 hvm guests ('qemu', 'kvm'). */
  readonly domainTypes: readonly string[];
}

export interface SevFacts {
  readonly cbitpos: number | null;
  readonly reducedPhysBits: number | null;
  /** Absent before libvirt 8.0. */
  readonly maxGuests: number | null;
  readonly maxESGuests: number | null;
}

export interface DomcapsFacts {
  readonly machine: string | null;
  readonly domainType: string | null;
  /** null when libvirt reports `<sev supported='no'/>` (or no element at all). */
  readonly sev: SevFacts | null;
  /** launchSecurity sectype values (libvirt 10.5+); empty when not reported. */
  readonly sectypes: readonly string[];
  readonly loaders: readonly string[];
}

export interface LibvirtFacts {
  readonly uri: string;
  /** Dotted versions, e.g. 9.0.0 and 7.2.22. */
  readonly libvirtVersion: string;
  readonly qemuVersion: string;
  readonly hostname: string;
  readonly capabilities: CapabilitiesFacts;
  /** Domain capabilities without a machine: tells the default machine type. */
  readonly defaultDomcaps: DomcapsFacts;
  /** Domain capabilities of the q35 machine for the domain type guests use; null without q35. */
  readonly q35Domcaps: DomcapsFacts | null;
}

/** libvirt's version encoding: major * 1e6 + minor * 1e3 + micro. */
export function dottedVersion(n: number): string {
  return `${Math.floor(n / 1_000_000)}.${Math.floor(n / 1000) % 1000}.${n % 1000}`;
}

const int = (node: XmlNode | undefined): number | null => {
  if (!node || node.text === '') return null;
  const v = Number(node.text);
  return Number.isInteger(v) ? v : null;
};

export function parseCapabilitiesFacts(xml: string): CapabilitiesFacts {
  const root = parseXmlDocument(xml, 'capabilities');
  const host = child(root, 'host');
  const cpu = host && child(host, 'cpu');
  const guests = children(root, 'guest').filter((g) => child(g, 'os_type')?.text === 'hvm');
  const x86 = guests.map((g) => ({ g, arch: child(g, 'arch') })).find((x) => x.arch?.attrs.name === 'x86_64')?.arch;
  const machines = x86
    ? children(x86, 'machine').map((m) => ({
        name: m.text,
        ...(m.attrs.canonical ? { canonical: m.attrs.canonical } : {}),
        maxCpus: Number(m.attrs.maxCpus ?? '1') || 1,
      }))
    : [];
  return {
    hostUuid: (host && child(host, 'uuid')?.text) || null,
    hostArch: (cpu && child(cpu, 'arch')?.text) || null,
    cpuModel: (cpu && child(cpu, 'model')?.text) || null,
    emulator: (x86 && child(x86, 'emulator')?.text) || null,
    machines,
    domainTypes: x86 ? children(x86, 'domain').map((d) => d.attrs.type ?? '').filter((t) => t !== '') : [],
  };
}

export function parseDomcapsFacts(xml: string): DomcapsFacts {
  const root = parseXmlDocument(xml, 'domainCapabilities');
  const features = child(root, 'features');
  const sevEl = features && child(features, 'sev');
  const sev: SevFacts | null =
    sevEl && sevEl.attrs.supported === 'yes'
      ? {
          cbitpos: int(child(sevEl, 'cbitpos')),
          reducedPhysBits: int(child(sevEl, 'reducedPhysBits')),
          maxGuests: int(child(sevEl, 'maxGuests')),
          maxESGuests: int(child(sevEl, 'maxESGuests')),
        }
      : null;
  const ls = features && child(features, 'launchSecurity');
  const sectypes = ls && ls.attrs.supported === 'yes'
    ? children(ls, 'enum').filter((e) => e.attrs.name === 'sectype').flatMap((e) => children(e, 'value').map((v) => v.text))
    : [];
  const os = child(root, 'os');
  const loader = os && child(os, 'loader');
  return {
    machine: child(root, 'machine')?.text || null,
    domainType: child(root, 'domain')?.text || null,
    sev,
    sectypes,
    loaders: loader ? children(loader, 'value').map((v) => v.text) : [],
  };
}

/**
 * The domain type real-mode guests use: `kvm` when the host's KVM can run guests (kvm_amd or
 * kvm_intel loaded and libvirt offers the type), else `qemu` (TCG), as on hosts whose /dev/kvm is
 * another module (PVM) or absent.
 */
export function usableDomainType(caps: CapabilitiesFacts, kvmVendorModuleLoaded: boolean): 'kvm' | 'qemu' {
  return kvmVendorModuleLoaded && caps.domainTypes.includes('kvm') ? 'kvm' : 'qemu';
}

/** The calls detection makes; `LibvirtClient` offers them, and tests pass a fake host's views. */
export interface LibvirtFactSource {
  getCapabilities(): Promise<string>;
  getDomainCapabilities(q: DomainCapabilitiesQuery): Promise<string>;
  getLibVersion(): Promise<number>;
  getVersion(): Promise<number>;
  getHostname(): Promise<string>;
}

export async function readLibvirtFacts(client: LibvirtFactSource, uri: string, domainType: (caps: CapabilitiesFacts) => 'kvm' | 'qemu'): Promise<LibvirtFacts> {
  const capabilities = parseCapabilitiesFacts(await client.getCapabilities());
  // SEV is an x86_64 feature: a host whose QEMU cannot run x86_64 guests has nothing to judge, and
  // its domcaps query would only fail with "unable to find any emulator".
  if (!capabilities.emulator) {
    throw new HostFactsError(`libvirt at ${uri} offers no x86_64 hvm guest (host arch ${capabilities.hostArch ?? 'unknown'}): SEV guests need an x86_64 host, and real mode judges x86_64 hosts only`);
  }
  const virttype = domainType(capabilities);
  const defaultDomcaps = parseDomcapsFacts(await client.getDomainCapabilities({ arch: 'x86_64', virttype }));
  const hasQ35 = capabilities.machines.some((m) => m.name === 'q35');
  const q35Domcaps = hasQ35 ? parseDomcapsFacts(await client.getDomainCapabilities({ arch: 'x86_64', machine: 'q35', virttype })) : null;
  return {
    uri,
    libvirtVersion: dottedVersion(await client.getLibVersion()),
    qemuVersion: dottedVersion(await client.getVersion()),
    hostname: await client.getHostname(),
    capabilities,
    defaultDomcaps,
    q35Domcaps,
  };
}
