/**
 * qemuDomainAssignVirtioSerialAddresses (conf/domain_addr.c's virtio-serial address set): every
 * virtio console and channel gets a port on a virtio-serial controller (31 ports by default, port 0
 * only for consoles), a controller being added when all are full. As libvirt 9.0 does, a console's
 * port is reserved but never written back to the console.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import type { DomainDraft } from '../draft.ts';
import { controllerModelOf, type ControllerModel } from '../devices/controller.ts';
import { insertController } from '../implicit-devices.ts';
import { addressOf, devicesInInfoOrder, devicesOf, setAddress } from './device-address.ts';

const DEFAULT_PORTS = 31;
const domainError = (code: VirErrorNumber, message: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, message);
const xmlError = (message: string) => domainError(VirErrorNumber.XML_ERROR, message);

interface Controller {
  idx: number;
  ports: boolean[];
}

interface Vioserial {
  controller: number;
  bus: number;
  port: number;
}

const controllers = (d: DomainDraft) =>
  d.devices.map((n) => controllerModelOf(n)).filter((m): m is ControllerModel => m?.type === 'virtio-serial');

function vioserialOf(dev: XmlNode): Vioserial | undefined {
  const a = addressOf(dev);
  if (a?.type !== 'virtio-serial') return undefined;
  return { controller: Number(a.controller ?? 0), bus: Number(a.bus ?? 0), port: Number(a.port ?? 0) };
}

class VioserialSet {
  readonly controllers: Controller[] = [];

  add(m: ControllerModel): void {
    const c: Controller = { idx: m.idx, ports: new Array<boolean>(m.ports ?? DEFAULT_PORTS).fill(false) };
    let at = this.controllers.length;
    for (let i = 0; i < this.controllers.length; i++) {
      const o = this.controllers[i]!;
      if (o.idx === c.idx) throw domainError(VirErrorNumber.INTERNAL_ERROR, `virtio serial controller with index ${c.idx} already exists in the address set`);
      if (o.idx > c.idx) {
        at = i;
        break;
      }
    }
    this.controllers.splice(at, 0, c);
  }

  find(idx: number): Controller | undefined {
    return this.controllers.find((c) => c.idx === idx);
  }

  /** virDomainVirtioSerialAddrReserve. */
  reserve(a: Vioserial): void {
    const c = this.find(a.controller);
    if (!c) throw xmlError(`virtio serial controller ${a.controller} is missing`);
    if (a.port >= c.ports.length) throw xmlError(`virtio serial controller ${a.controller} does not have port ${a.port}`);
    if (c.ports[a.port]) throw xmlError(`virtio serial port ${a.port} on controller ${a.controller} is already occupied`);
    c.ports[a.port] = true;
  }
}

/** The first clear port after `after` (libvirt's virBitmapNextClearBit). */
const nextClear = (ports: boolean[], after: number) => {
  for (let p = after + 1; p < ports.length; p++) if (!ports[p]) return p;
  return -1;
};

/** virDomainVirtioSerialAddrNext: the first free port on any controller, or a new controller. */
function next(d: DomainDraft, set: VioserialSet, allowZero: boolean): Vioserial {
  const start = allowZero ? -1 : 0;
  if (set.controllers.length === 0) throw domainError(VirErrorNumber.INTERNAL_ERROR, 'no virtio-serial controllers are available');
  for (const c of set.controllers) {
    const port = nextClear(c.ports, start);
    if (port >= 0) return { controller: c.idx, bus: 0, port };
  }
  for (let i = 0; ; i++) {
    if (controllers(d).some((c) => c.idx === i)) continue;
    const m: ControllerModel = { type: 'virtio-serial', idx: i, driver: {}, pci: {}, info: [] };
    insertController(d, m);
    set.add(m);
    return { controller: i, bus: 0, port: start + 1 };
  }
}

/** virDomainVirtioSerialAddrAutoAssignFromCache; the address to write, or undefined. */
function autoAssign(d: DomainDraft, set: VioserialSet, dev: XmlNode, allowZero: boolean): Vioserial | undefined {
  const given = vioserialOf(dev);
  let a: Vioserial;
  if (given) {
    // A controller was chosen: the first free port on it.
    const c = set.find(given.controller);
    if (!c) throw domainError(VirErrorNumber.INTERNAL_ERROR, `virtio-serial controller ${given.controller} not available`);
    const port = nextClear(c.ports, 0);
    if (port <= 0) throw xmlError(`Unable to find a free port on virtio-serial controller ${given.controller}`);
    a = { controller: allowZero ? 0 : given.controller, bus: 0, port };
  } else a = next(d, set, allowZero);
  set.reserve(a);
  return allowZero ? undefined : a;
}

export function assignVirtioSerialAddresses(d: DomainDraft): void {
  const set = new VioserialSet();
  for (const m of controllers(d)) set.add(m);
  for (const dev of devicesInInfoOrder(d)) {
    const a = vioserialOf(dev);
    if (a && a.port !== 0) set.reserve(a);
  }
  // Complete addresses were reserved above.
  const isVirtio = (dev: XmlNode) => child(dev, 'target')?.attrs.type === 'virtio' && !vioserialOf(dev)?.port;
  for (const dev of devicesOf(d, 'console')) if (isVirtio(dev)) autoAssign(d, set, dev, true);
  for (const dev of devicesOf(d, 'channel')) {
    if (!isVirtio(dev)) continue;
    const a = autoAssign(d, set, dev, false);
    if (a) setAddress(dev, { type: 'virtio-serial', controller: String(a.controller), bus: String(a.bus), port: String(a.port) });
  }
}
