/**
 * Reading and setting a device's `<address>` on the canonical tree. Controllers keep theirs in the
 * controller model (formatted again once assignment is done); other devices carry the element
 * itself, placed where libvirt's formatter writes the device info (last, except before the
 * `<driver>` of memballoon and vsock).
 */
import { child, type XmlNode } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { controllerModelOf, formatController } from '../devices/controller.ts';
import { parseAddress } from '../devices/device-info.ts';
import type { PciAddress } from './pci-bus.ts';

export type AddressAttrs = Record<string, string>;

/** The device's address in canonical form (a raw one written by an unmodelled kind is canonicalised). */
export function addressOf(dev: XmlNode): AddressAttrs | undefined {
  const m = controllerModelOf(dev);
  if (m) return m.address;
  const a = child(dev, 'address');
  if (!a) return undefined;
  let attrs = cache?.canonical.get(a);
  if (attrs === undefined) {
    attrs = (parseAddress(a) ?? a).attrs;
    cache?.canonical.set(a, attrs);
  }
  return attrs;
}

/**
 * Assignment asks for the same addresses many times: while it runs, each `<address>` element is
 * canonicalised once and each PCI attribute set read once (elements and attribute sets are
 * replaced, never changed in place; one that fails to parse is not kept). Plain maps dropped at
 * the end, not weak ones the collector would have to trace.
 */
let cache: { canonical: Map<XmlNode, AddressAttrs>; pci: Map<AddressAttrs, Readonly<PciAddress>> } | null = null;

export function withAddressCache(run: () => void): void {
  if (cache) return run();
  cache = { canonical: new Map(), pci: new Map() };
  try {
    run();
  } finally {
    cache = null;
  }
}

export function setAddress(dev: XmlNode, attrs: AddressAttrs): void {
  placeAddress(dev, attrs);
}

/** Sets the address; returns the `<address>` element placed (none for a controller) and its attributes. */
function placeAddress(dev: XmlNode, attrs: AddressAttrs): { element?: XmlNode; attrs: AddressAttrs } {
  const m = controllerModelOf(dev);
  if (m) {
    m.address = attrs;
    return { attrs };
  }
  const a = node('address', attrs);
  const at = dev.children.findIndex((c) => c.name === 'address');
  if (at >= 0) {
    dev.children[at] = a;
    return { element: a, attrs: a.attrs };
  }
  const driver = dev.name === 'memballoon' || dev.name === 'vsock' ? dev.children.findIndex((c) => c.name === 'driver') : -1;
  if (driver >= 0) dev.children.splice(driver, 0, a);
  else dev.children.push(a);
  return { element: a, attrs: a.attrs };
}

/** Formats every controller again from its model (after addresses and PCI options were set). */
export function refreshControllers(d: DomainDraft): void {
  for (let i = 0; i < d.devices.length; i++) {
    const m = controllerModelOf(d.devices[i]!);
    if (m) d.devices[i] = formatController(m);
  }
}

const num = (s: string | undefined) => (s === undefined ? 0 : s.startsWith('0x') ? parseInt(s.slice(2), 16) : parseInt(s, 10));

/** The PCI address when the device has one of type 'pci' (possibly empty). */
export function pciAddressOf(dev: XmlNode): PciAddress | undefined {
  const a = addressOf(dev);
  if (a?.type !== 'pci') return undefined;
  // Callers get their own copy, which the address set may move.
  let p = cache?.pci.get(a);
  if (p === undefined) {
    p = { domain: num(a.domain), bus: num(a.bus), slot: num(a.slot), fn: num(a.function), multi: a.multifunction };
    cache?.pci.set(a, p);
  }
  return { domain: p.domain, bus: p.bus, slot: p.slot, fn: p.fn, multi: p.multi };
}

/** virPCIDeviceAddressIsEmpty: the function does not count. */
const isEmpty = (a: PciAddress) => a.domain === 0 && a.bus === 0 && a.slot === 0;

/** virDeviceInfoPCIAddressIsPresent. */
export function pciPresent(dev: XmlNode): PciAddress | undefined {
  const a = pciAddressOf(dev);
  return a && !isEmpty(a) ? a : undefined;
}

/** virDeviceInfoPCIAddressIsWanted: no address, or an empty PCI one. */
export function pciWanted(dev: XmlNode): boolean {
  const a = addressOf(dev);
  if (a === undefined) return true;
  const p = pciAddressOf(dev);
  return p !== undefined && isEmpty(p);
}

const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;

export function setPciAddress(dev: XmlNode, a: PciAddress): void {
  const attrs: AddressAttrs = { type: 'pci', domain: hex(a.domain, 4), bus: hex(a.bus, 2), slot: hex(a.slot, 2), function: `0x${a.fn.toString(16)}` };
  if (a.multi !== undefined) attrs.multifunction = a.multi;
  const placed = placeAddress(dev, attrs);
  if (!cache) return;
  // Known without reading it back. An element is taken as canonical only where parseAddress
  // would give these same attributes: not empty, within virPCIDeviceAddressIsValid's limits.
  if (placed.element) {
    const canonical = !(a.domain === 0 && a.bus === 0 && a.slot === 0 && a.fn === 0) && a.bus <= 0xff && a.slot <= 0x1f && a.fn <= 7 &&
      (a.multi === undefined || a.multi === 'on' || a.multi === 'off');
    if (!canonical) return;
    cache.canonical.set(placed.element, placed.attrs);
  }
  cache.pci.set(placed.attrs, { domain: a.domain, bus: a.bus, slot: a.slot, fn: a.fn, multi: a.multi });
}

/** virDomainDeviceInfoIterate's order of device kinds (the first clash found is the one reported). */
export const INFO_ITERATE_ORDER = [
  'disk', 'interface', 'sound', 'hostdev', 'video', 'controller', 'smartcard', 'serial', 'parallel', 'channel', 'console', 'input',
  'filesystem', 'watchdog', 'memballoon', 'rng', 'nvram', 'hub', 'shmem', 'tpm', 'panic', 'memory', 'redirdev', 'iommu', 'vsock',
] as const;

/** The devices in virDomainDeviceInfoIterate's order. */
export function devicesInInfoOrder(d: DomainDraft): XmlNode[] {
  const byKind = new Map<string, XmlNode[]>();
  for (const dev of d.devices) {
    const list = byKind.get(dev.name);
    if (list) list.push(dev);
    else byKind.set(dev.name, [dev]);
  }
  const out: XmlNode[] = [];
  for (const kind of INFO_ITERATE_ORDER) {
    const list = byKind.get(kind);
    if (list) for (const dev of list) out.push(dev);
  }
  return out;
}

export const devicesOf = (d: DomainDraft, kind: string) => d.devices.filter((n) => n.name === kind);
