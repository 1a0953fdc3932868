/**
 * The facts the driver needs from libvirt's `<capabilities>` and `<domainCapabilities>` documents,
 * pulled into plain typed records once per host (the XML is parsed at detection, never per boot).
 */
import { XMLParser } from 'fast-xml-parser';

/** Elements that may repeat; fast-xml-parser otherwise collapses a single child into an object. */
const REPEATED = new Set(['guest', 'machine', 'value', 'enum', 'domain']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => REPEATED.has(name),
});

type Node = { readonly [k: string]: unknown };

const obj = (v: unknown): Node | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined);
const arr = (v: unknown): Node[] => (Array.isArray(v) ? v.map((x) => obj(x) ?? { '#text': String(x) }) : []);
const text = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v.trim();
  const o = obj(v);
  const t = o?.['#text'];
  return typeof t === 'string' ? t.trim() : undefined;
};
const attr = (n: Node | undefined, name: string): string | undefined => {
  const v = n?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
};
const int = (v: unknown): number | undefined => {
  const t = text(v);
  return t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
};

export interface MachineType {
  readonly name: string;
  /** For an alias such as `q35`: the versioned machine it stands for. */
  readonly canonical?: string;
}

export interface GuestArch {
  readonly arch: string;
  readonly emulator?: string;
  readonly machines: readonly MachineType[];
}

export interface HostCapabilities {
  readonly hostArch: string | undefined;
  readonly guests: readonly GuestArch[];
}

/**
 * Parsed documents by their text. Detection runs at every service start and asks for the
 * domain capabilities of each q35 machine; the answers of one host repeat word for word, so each
 * distinct document is parsed once. The records are readonly, so sharing them is safe.
 */
class ParseMemo<T> {
  private readonly byText = new Map<string, T>();
  constructor(
    private readonly parse: (xml: string) => T,
    private readonly limit = 512,
  ) {}
  get(xml: string): T {
    let v = this.byText.get(xml);
    // Least recently used first (a Map keeps insertion order): a hit moves to the end, and past
    // the limit the oldest goes, so the documents of the hosts in use stay however many were seen.
    if (v !== undefined) this.byText.delete(xml);
    else {
      v = this.parse(xml);
      if (this.byText.size >= this.limit) this.byText.delete(this.byText.keys().next().value!);
    }
    this.byText.set(xml, v);
    return v;
  }
}

const capabilitiesMemo = new ParseMemo(parseCapabilitiesText);

export function parseCapabilities(xml: string): HostCapabilities {
  return capabilitiesMemo.get(xml);
}

function parseCapabilitiesText(xml: string): HostCapabilities {
  const caps = obj(parser.parse(xml).capabilities);
  const host = obj(caps?.host);
  const hostArch = text(obj(host?.cpu)?.arch);
  const guests = arr(caps?.guest).flatMap((g) => {
    const a = obj(g.arch);
    const name = attr(a, 'name');
    if (!name) return [];
    const machines = arr(a?.machine).map((m) => {
      const canonical = attr(m, 'canonical');
      return { name: text(m) ?? '', ...(canonical && { canonical }) };
    });
    const emulator = text(a?.emulator);
    return [{ arch: name, machines, ...(emulator && { emulator }) }];
  });
  return { hostArch, guests };
}

/** Resolves an alias (`q35`) to its canonical machine; a versioned name resolves to itself. */
export function canonicalMachine(guest: GuestArch, machine: string): string | undefined {
  const hit = guest.machines.find((m) => m.name === machine);
  if (!hit) return undefined;
  return hit.canonical ?? hit.name;
}

export interface SevFeature {
  readonly supported: boolean;
  readonly cbitpos?: number;
  readonly reducedPhysBits?: number;
  /** libvirt ≥ 8.0.0 only; absent on older hosts. */
  readonly maxGuests?: number;
  readonly maxESGuests?: number;
}

export interface DomainCapabilities {
  readonly machine: string | undefined;
  readonly arch: string | undefined;
  readonly loaders: readonly string[];
  readonly loaderTypes: readonly string[];
  readonly sev: SevFeature | null;
  /** libvirt ≥ 10.5.0: `<launchSecurity>` sectype enum; null when the element is absent. */
  readonly sectypes: readonly string[] | null;
  readonly diskBuses: readonly string[];
}

const enumValues = (n: Node | undefined, name: string): string[] =>
  arr(n?.enum).find((e) => attr(e, 'name') === name)?.value !== undefined
    ? arr(arr(n?.enum).find((e) => attr(e, 'name') === name)?.value).map((v) => text(v) ?? '')
    : [];

const domainCapabilitiesMemo = new ParseMemo(parseDomainCapabilitiesText);

export function parseDomainCapabilities(xml: string): DomainCapabilities {
  return domainCapabilitiesMemo.get(xml);
}

function parseDomainCapabilitiesText(xml: string): DomainCapabilities {
  const dc = obj(parser.parse(xml).domainCapabilities);
  const loader = obj(obj(dc?.os)?.loader);
  const features = obj(dc?.features);
  const sevNode = features && 'sev' in features ? (obj(features.sev) ?? {}) : undefined;
  let sev: SevFeature | null = null;
  if (sevNode) {
    const cbitpos = int(sevNode.cbitpos);
    const reducedPhysBits = int(sevNode.reducedPhysBits);
    const maxGuests = int(sevNode.maxGuests);
    const maxESGuests = int(sevNode.maxESGuests);
    sev = {
      supported: attr(sevNode, 'supported') === 'yes',
      ...(cbitpos !== undefined && { cbitpos }),
      ...(reducedPhysBits !== undefined && { reducedPhysBits }),
      ...(maxGuests !== undefined && { maxGuests }),
      ...(maxESGuests !== undefined && { maxESGuests }),
    };
  }
  const ls = features && 'launchSecurity' in features ? (obj(features.launchSecurity) ?? {}) : undefined;
  const sectypes = ls ? (attr(ls, 'supported') === 'yes' ? enumValues(ls, 'sectype') : []) : null;
  const disk = obj(obj(dc?.devices)?.disk);
  return {
    machine: text(dc?.machine),
    arch: text(dc?.arch),
    loaders: arr(loader?.value).map((v) => text(v) ?? '').filter((v) => v !== ''),
    loaderTypes: enumValues(loader, 'type'),
    sev,
    sectypes,
    diskBuses: enumValues(disk, 'bus'),
  };
}
