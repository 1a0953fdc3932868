/**
 * qemuDomainAssignUSBAddresses (conf/domain_addr.c's USB address set): each USB controller is a hub
 * with its model's number of ports, `<hub>`s add 8 more, hubs are added when the devices outnumber
 * the ports, user-given ports are reserved, then every other USB device takes the first free port,
 * searching the hubs behind full ports.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { controllerModelOf, type ControllerModel } from '../devices/controller.ts';
import { addressOf, devicesOf, setAddress } from './device-address.ts';

const HUB_PORTS = 8;
const MAX_DEPTH = 4;
const xmlError = (message: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, message);

interface Hub {
  used: boolean[];
  hubs: (Hub | undefined)[];
}

const newHub = (n: number): Hub => ({ used: new Array<boolean>(n).fill(false), hubs: new Array<Hub | undefined>(n).fill(undefined) });

/** virDomainUSBAddressControllerModelToPorts (the UHCI companions count through their EHCI). */
function controllerPorts(m: ControllerModel): number {
  switch (m.model) {
    case undefined: case 'piix3-uhci': case 'piix4-uhci': case 'vt82c686b-uhci': return 2;
    case 'ehci': case 'ich9-ehci1': return 6;
    case 'pci-ohci': return 3;
    case 'nec-xhci': case 'qemu-xhci': return m.ports ?? 4;
    case 'qusb1': case 'qusb2': return m.ports ?? 8;
    default: return 0;
  }
}

const usbControllers = (d: DomainDraft) =>
  d.devices.map((n) => controllerModelOf(n)).filter((m): m is ControllerModel => m?.type === 'usb');
const usbHubs = (d: DomainDraft) => devicesOf(d, 'hub').filter((h) => h.attrs.type === 'usb');

/** virDomainUSBDeviceDefForeach's devices, in its order. */
function usbDevices(d: DomainDraft, withHubs: boolean): XmlNode[] {
  const target = (dev: XmlNode) => child(dev, 'target')?.attrs;
  return [
    ...(withHubs ? usbHubs(d) : []),
    ...devicesOf(d, 'hostdev').filter((h) => h.attrs.type === 'usb'),
    ...devicesOf(d, 'disk').filter((x) => target(x)?.bus === 'usb'),
    ...devicesOf(d, 'controller').filter((c) => controllerModelOf(c)?.type === 'ccid'),
    ...devicesOf(d, 'input').filter((i) => i.attrs.bus === 'usb'),
    ...devicesOf(d, 'serial').filter((s) => target(s)?.type === 'usb-serial'),
    ...devicesOf(d, 'sound').filter((s) => s.attrs.model === 'usb'),
    ...devicesOf(d, 'redirdev').filter((r) => r.attrs.bus === 'usb'),
  ];
}

interface UsbAddr {
  bus: number;
  port: number[];
}

/** The USB address when the device has one of type usb; `port` empty when not given. */
function usbAddressOf(dev: XmlNode): UsbAddr | undefined {
  const a = addressOf(dev);
  if (a?.type !== 'usb') return undefined;
  const port = a.port ? a.port.split('.').map(Number) : [];
  return { bus: Number(a.bus ?? 0), port };
}

/** virDomainUSBAddressPortIsValid. */
const portValid = (a: UsbAddr | undefined): a is UsbAddr => a !== undefined && (a.port[0] ?? 0) !== 0;

class UsbSet {
  readonly buses: (Hub | undefined)[] = [];

  /** virDomainUSBAddressFindPort: the hub and port index the address names. */
  private find(a: UsbAddr): [Hub, number] {
    const portStr = a.port.join('.');
    let hub = this.buses[a.bus];
    if (!hub) throw xmlError(`Missing USB bus ${a.bus}`);
    const last = a.port.length - 1;
    for (let i = 0; i < last; i++) {
      const idx = a.port[i]! - 1;
      if (hub.used.length <= idx) throw xmlError(`port ${a.port[i]} out of range in USB address bus: ${a.bus} port: ${portStr}`);
      hub = hub.hubs[idx];
      if (!hub) throw xmlError(`there is no hub at port ${a.port[i]} in USB address bus: ${a.bus} port: ${portStr}`);
    }
    const target = a.port[last]! - 1;
    if (target >= hub.used.length) throw xmlError(`requested USB port ${portStr} not present on USB bus ${a.bus}`);
    return [hub, target];
  }

  reserve(a: UsbAddr): void {
    const [hub, i] = this.find(a);
    if (hub.used[i]) throw xmlError(`Duplicate USB address bus ${a.bus} port ${a.port.join('.')}`);
    hub.used[i] = true;
  }

  addHub(a: UsbAddr): void {
    const [hub, i] = this.find(a);
    if (hub.hubs[i]) throw xmlError(`Duplicate USB hub on bus ${a.bus} port ${a.port.join('.')}`);
    hub.used[i] = true;
    hub.hubs[i] = newHub(HUB_PORTS);
  }

  /** virDomainUSBAddressAssign. */
  assign(requested: UsbAddr | undefined): UsbAddr {
    const buses = requested ? [requested.bus] : this.buses.map((_, i) => i);
    if (requested && !this.buses[requested.bus]) throw xmlError(`USB bus ${requested.bus} requested but no controller with that index is present`);
    for (const bus of buses) {
      const hub = this.buses[bus];
      const path = hub && freePort(hub, 0);
      if (path) {
        const a = { bus, port: path };
        this.reserve(a);
        return a;
      }
    }
    throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.DOMAIN, 'No free USB ports');
  }
}

/** virDomainUSBAddressFindFreePort: a free port on this hub, else behind its hubs (depth-first). */
function freePort(hub: Hub, level: number): number[] | undefined {
  const free = hub.used.indexOf(false);
  if (free >= 0) return [free + 1];
  if (level >= MAX_DEPTH - 1) return undefined;
  for (let i = 0; i < hub.hubs.length; i++) {
    const sub = hub.hubs[i];
    const rest = sub && freePort(sub, level + 1);
    if (rest) return [i + 1, ...rest];
  }
  return undefined;
}

const write = (dev: XmlNode, a: UsbAddr) => setAddress(dev, { type: 'usb', bus: String(a.bus), port: a.port.join('.') });

export function assignUsbAddresses(d: DomainDraft): void {
  // qemuDomainUSBAddressAddHubs.
  const count = usbDevices(d, true).length;
  const available = usbControllers(d).reduce((n, m) => n + controllerPorts(m), 0) + usbHubs(d).length * HUB_PORTS;
  if (count > 0 && !usbControllers(d).some((m) => m.model !== 'none')) {
    throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'USB is disabled for this domain, but USB devices are present in the domain XML');
  }
  if (count > available) {
    const needed = Math.ceil((count - available + 1) / (HUB_PORTS - 1));
    for (let i = 0; i < needed; i++) d.devices.push(node('hub', { type: 'usb' }));
  }
  const set = new UsbSet();
  for (const m of usbControllers(d)) {
    const n = controllerPorts(m);
    if (n === 0) continue;
    if (set.buses[m.idx]) throw xmlError(`Duplicate USB controllers with index ${m.idx}`);
    set.buses[m.idx] = newHub(n);
  }
  for (const hub of usbHubs(d)) {
    const a = usbAddressOf(hub);
    if (portValid(a)) set.addHub(a);
  }
  for (const dev of usbDevices(d, false)) {
    const a = usbAddressOf(dev);
    if (portValid(a)) set.reserve(a);
  }
  for (const hub of usbHubs(d)) {
    const a = usbAddressOf(hub);
    if (portValid(a)) continue;
    const given = set.assign(a);
    write(hub, given);
    plugHub(set, given);
  }
  for (const dev of usbDevices(d, false)) {
    const type = addressOf(dev)?.type;
    if (type !== undefined && type !== 'usb') continue;
    const a = usbAddressOf(dev);
    if (portValid(a)) continue;
    write(dev, set.assign(a));
  }
}

/** A newly placed hub: its port was reserved by the assignment; it becomes a hub of 8 ports there. */
function plugHub(set: UsbSet, a: UsbAddr): void {
  let hub = set.buses[a.bus]!;
  for (let i = 0; i < a.port.length - 1; i++) hub = hub.hubs[a.port[i]! - 1]!;
  const i = a.port[a.port.length - 1]! - 1;
  hub.hubs[i] = newHub(HUB_PORTS);
}
