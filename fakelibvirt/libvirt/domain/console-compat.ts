/**
 * The first `<console>` of an HVM guest and its first `<serial>` are one device to libvirt
 * (virDomainDefAddConsoleCompat in conf/domain_conf.c, and the console loop of
 * virDomainDefFormatInternal): a serial-type console without a serial becomes the serial, a serial
 * without such a console gets a console stub, and a serial-type console is always formatted as a
 * copy of the serial at its index, with `<target type='serial' port='N'/>`.
 */
import { child, type XmlNode } from '../xml-tree.ts';
import { getTop, node, type DomainDraft } from './draft.ts';

/** The device-info children, which virDomainChrDefFormat writes after the target. */
const INFO = new Set(['boot', 'alias', 'master', 'rom', 'acpi', 'address']);

/** Serial target types that have a console alias (isa, spapr-vio, system, sclp, or none written). */
const ALIASED_SERIAL_TARGETS = new Set([undefined, 'isa-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial']);

const isHvm = (d: DomainDraft) => {
  const os = getTop(d, 'os');
  return (os ? child(os, 'type')?.text : 'hvm') === 'hvm';
};

const ofKind = (d: DomainDraft, kind: string) => d.devices.filter((n) => n.name === kind);
const targetType = (n: XmlNode) => child(n, 'target')?.attrs.type;
/** A console's target is 'serial' or unset (which post-parse turns into 'serial'). */
const isSerialConsole = (n: XmlNode) => {
  const t = targetType(n);
  return t === undefined || t === 'serial';
};

/** The chardev with its target replaced (and placed where libvirt formats it: before device info). */
function withTarget(n: XmlNode, name: string, target: XmlNode): XmlNode {
  const body = n.children.filter((c) => c.name !== 'target' && !INFO.has(c.name));
  const info = n.children.filter((c) => INFO.has(c.name));
  return node(name, n.attrs, [...body, target, ...info]);
}

const deep = (n: XmlNode): unknown => [n.name, n.attrs, n.text, n.children.map(deep)];
/** The host-side source, for virDomainChrSourceDefIsEqual (stricter than it: every attribute counts). */
const sourceKey = (n: XmlNode) =>
  JSON.stringify([n.attrs.type ?? 'pty', n.children.filter((c) => c.name === 'source' || c.name === 'protocol').map(deep)]);

const stubConsole = () => node('console', { type: 'pty' }, [node('target', { type: 'serial', port: 0 })]);

/** virDomainDefAddConsoleCompat (post-parse, after the chardevs' own post-parse). */
export function addConsoleCompat(d: DomainDraft): void {
  if (!isHvm(d)) return;
  const consoles = ofKind(d, 'console');
  const serials = ofKind(d, 'serial');
  const first = consoles[0];
  if (first && isSerialConsole(first)) {
    const at = d.devices.indexOf(first);
    if (serials.length === 0) {
      // The console moves over to become serial 0 (its QEMU post-parse runs again: ISA on x86).
      const serial = withTarget(first, 'serial', node('target', { type: 'isa-serial', port: 0 }, [node('model', { name: 'isa-serial' })]));
      d.devices.splice(at, 1, serial, stubConsole());
    } else if (sourceKey(serials[0]!) !== sourceKey(first)) {
      d.devices.splice(at, 1, stubConsole());
    }
    return;
  }
  const serial = serials[0];
  if (serial && ALIASED_SERIAL_TARGETS.has(targetType(serial))) {
    const at = first ? d.devices.indexOf(first) : d.devices.length;
    d.devices.splice(at, 0, stubConsole());
  }
}

/**
 * The serial ports' target ports as post-parse assigns them when a document leaves them out:
 * ISA serials take the lowest free of 0–3 first, then the others max+1, in document order.
 */
function serialPorts(serials: readonly XmlNode[]): number[] {
  const written = serials.map((s) => {
    const p = child(s, 'target')?.attrs.port;
    return p === undefined ? -1 : Number(p);
  });
  const used = new Set(written.filter((p) => p >= 0));
  serials.forEach((s, i) => {
    if (written[i] !== -1 || targetType(s) !== 'isa-serial') return;
    for (let p = 0; p < 4; p++) {
      if (!used.has(p)) {
        written[i] = p;
        used.add(p);
        break;
      }
    }
  });
  serials.forEach((_, i) => {
    if (written[i] === -1) written[i] = Math.max(-1, ...written) + 1;
  });
  return written;
}

/** How virDomainDefFormatInternal writes a serial-type console: as the serial at the same index. */
export function formatConsoleAliases(d: DomainDraft): void {
  if (!isHvm(d)) return;
  const serials = ofKind(d, 'serial');
  const ports = serialPorts(serials);
  ofKind(d, 'console').forEach((c, n) => {
    if (!isSerialConsole(c) || n >= serials.length) return;
    const twin = withTarget(serials[n]!, 'console', node('target', { type: 'serial', port: ports[n] }));
    d.devices[d.devices.indexOf(c)] = twin;
  });
}
