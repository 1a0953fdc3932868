/**
 * virDomainAttachDeviceFlags / virDomainDetachDeviceFlags in libvirt's QEMU driver: which
 * definition a call changes (AFFECT_LIVE / AFFECT_CONFIG / AFFECT_CURRENT), the checks made on
 * the persistent copy and on the running guest, and the new definitions. Pure functions over
 * DomainDef; FakeHost applies the result and tells QEMU about live devices.
 *
 * Texts marked "measured" were read from libvirt 9.0 + QEMU 7.2 (Debian) driving a real TCG guest
 * (`virsh attach-device` and the RPC call); the rest follow libvirt 9.0's qemu_driver.c /
 * qemu_hotplug.c wording and are marked [inference] where no run confirmed them.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { DeviceModifyFlags } from '../../src/libvirt/flags.ts';
import { checkFlags } from './check-flags.ts';
import { duplicateDiskTargetError, implicitVirtioSerialController, parseDevice, type DeviceDef, type DomainDef, type ParsedDevice } from './domain-def.ts';
import type { XmlNode } from './xml-tree.ts';


/** VIR_ERR_DEVICE_MISSING and its message template (the shared table does not carry it). */
const VIR_ERR_DEVICE_MISSING = 99;

const qemuErr = (code: VirErrorNumber, detail: string) => LibvirtError.of(code, VirErrorDomain.QEMU, detail);

export const hotplugText = {
  /** measured */
  notRunning: 'domain is not running',
  /** measured */
  transientNoConfig: 'transient domains do not have any persistent config',
  /** measured (config) */
  targetExists: (dev: string) => `target ${dev} already exists`,
  /** measured: video, memballoon, graphics */
  liveAttachUnsupported: (kind: string) => `live attach of device '${kind}' is not supported`,
  /** measured: video, memballoon */
  persistentAttachUnsupported: (kind: string) => `persistent attach of device '${kind}' is not supported`,
  /** [inference] by analogy with the attach texts */
  liveDetachUnsupported: (kind: string) => `live detach of device '${kind}' is not supported`,
  /** [inference] */
  persistentDetachUnsupported: (kind: string) => `persistent detach of device '${kind}' is not supported`,
  /** measured: QEMU's AHCI (and PIIX IDE) buses refuse device_add */
  busNoHotplug: (bus: string) => `unable to execute QEMU command 'device_add': Bus '${bus}' does not support hotplugging`,
  /** measured: sata on a controller index the guest lacks, ide on q35 */
  noController: (type: string, index: number) => `Could not find ${type} controller with index ${index} required for device`,
  /** libvirt's refusal for buses its hot-plug code does not handle (fdc, xen, uml, sd) */
  diskBusNoHotplug: (bus: string) => `disk bus '${bus}' cannot be hotplugged.`,
  /** measured */
  noVirtioSerial: 'no virtio-serial controllers are available',
  /** [inference] only SCSI controllers are hot-pluggable in libvirt's QEMU driver */
  controllerNoHotplug: (type: string) => `'${type}' controller cannot be hot plugged.`,
  /** real text of libvirt's hot-unplug refusal for disks on buses without hot-unplug */
  diskNoHotUnplug: 'This type of disk cannot be hot unplugged',
  /** [inference] device-missing texts of the disk and NIC lookups */
  diskNotFound: (dev: string) => `disk ${dev} not found`,
  nicNotFoundByMac: (mac: string) => `no device matching MAC address ${mac} found`,
  nicNotFound: 'no matching network device was found',
  nicAmbiguous: 'multiple matching network devices found',
} as const;

/** Which definitions a call touches, after libvirt's virDomainObjUpdateModificationImpact. */
export interface ModificationImpact {
  readonly live: boolean;
  readonly config: boolean;
}

export function modificationImpact(flags: number, state: { active: boolean; persistent: boolean }, fn: string): ModificationImpact {
  const known = DeviceModifyFlags.AFFECT_LIVE | DeviceModifyFlags.AFFECT_CONFIG;
  checkFlags(flags, known, fn, VirErrorDomain.QEMU);
  let live = (flags & DeviceModifyFlags.AFFECT_LIVE) !== 0;
  let config = (flags & DeviceModifyFlags.AFFECT_CONFIG) !== 0;
  if (!live && !config) {
    live = state.active;
    config = !state.active;
  }
  if (live && !state.active) throw LibvirtError.of(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.DOMAIN, hotplugText.notRunning);
  if (config && !state.persistent) throw LibvirtError.of(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.DOMAIN, hotplugText.transientNoConfig);
  return { live, config };
}

/** Device kinds libvirt's QEMU driver hot-plugs into a running guest (memballoon, video, graphics: no). */
const LIVE_ATTACH: ReadonlySet<string> = new Set(['disk', 'interface', 'controller', 'rng', 'channel', 'input', 'hostdev', 'vsock', 'watchdog', 'shmem', 'redirdev', 'memory', 'filesystem']);
/** Device kinds it adds to a persistent definition. */
const CONFIG_ATTACH: ReadonlySet<string> = new Set([...LIVE_ATTACH, 'serial', 'console', 'parallel', 'lease']);
/** Device kinds the fake can find again for a detach. */
const DETACHABLE: ReadonlySet<string> = new Set(['disk', 'interface']);
/** Disk buses with hot-plug and hot-unplug. */
const HOTPLUG_DISK_BUSES: ReadonlySet<string> = new Set(['virtio', 'scsi', 'usb']);

// ---- tree edits -------------------------------------------------------------------------------

/** The definition with its `<devices>` children replaced; the device list is re-read from them. */
function withDeviceNodes(def: DomainDef, edit: (nodes: readonly XmlNode[]) => XmlNode[]): DomainDef {
  const root = def.tree;
  const has = root.children.some((c) => c.name === 'devices');
  const children = has
    ? root.children.map((c) => (c.name === 'devices' ? { ...c, children: edit(c.children) } : c))
    : [...root.children, { name: 'devices', attrs: {}, children: edit([]), text: '' }];
  const devicesNode = children.find((c) => c.name === 'devices')!;
  return { ...def, tree: { ...root, children }, devices: devicesNode.children.map(parseDevice) };
}

/** After the last device of the same element, as libvirt groups devices by type; else at the end. */
function insertNode(nodes: readonly XmlNode[], node: XmlNode): XmlNode[] {
  let at = -1;
  nodes.forEach((n, i) => {
    if (n.name === node.name) at = i;
  });
  const out = [...nodes];
  out.splice(at < 0 ? out.length : at + 1, 0, node);
  return out;
}

function withDevice(def: DomainDef, dev: ParsedDevice): DomainDef {
  return withDeviceNodes(def, (nodes) => insertNode(nodes, dev.node));
}

// ---- attach -------------------------------------------------------------------------------------

/** qemuDomainAttachDeviceConfig: the persistent definition with the device added. */
export function attachToConfig(def: DomainDef, dev: ParsedDevice): DomainDef {
  const d = dev.def;
  if (!CONFIG_ATTACH.has(dev.node.name)) throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, hotplugText.persistentAttachUnsupported(dev.node.name));
  if (d.kind === 'disk' && def.devices.some((x) => x.kind === 'disk' && x.targetDev === d.targetDev)) {
    throw qemuErr(VirErrorNumber.OPERATION_INVALID, hotplugText.targetExists(d.targetDev!));
  }
  return withDevice(def, dev);
}

/** `sdX` / `hdX` / `vdX` → 0-based index (sda 0, sdz 25, sdaa 26), as libvirt's virDiskNameToIndex. */
export function diskNameIndex(target: string): number {
  const letters = target.replace(/^(sd|hd|vd|xvd|ubd)/, '');
  let idx = 0;
  for (const ch of letters) {
    if (ch < 'a' || ch > 'z') return -1;
    idx = idx * 26 + (ch.charCodeAt(0) - 96);
  }
  return idx - 1;
}

function hasController(devices: readonly DeviceDef[], type: string, index: number, implicitOnQ35: boolean, q35: boolean): boolean {
  if (implicitOnQ35 && q35 && index === 0) return true;
  return devices.some((d) => d.kind === 'controller' && d.controllerType === type && (d.index ?? 0) === index);
}

/** The bus-level part of qemuDomainAttachDeviceDiskLive (the QEMU refusals included). */
function checkDiskHotplug(live: DomainDef, d: DeviceDef, q35: boolean): void {
  const bus = d.bus ?? 'ide';
  const idx = diskNameIndex(d.targetDev ?? '');
  if (HOTPLUG_DISK_BUSES.has(bus)) return;
  switch (bus) {
    case 'sata': {
      // Six ports per AHCI controller; q35 always has controller 0 (QEMU's ICH9 AHCI, buses ide.0–ide.5).
      const ctrl = Math.floor(idx / 6);
      if (!hasController(live.devices, 'sata', ctrl, true, q35)) throw qemuErr(VirErrorNumber.INTERNAL_ERROR, hotplugText.noController('sata', ctrl));
      // [inference] for controllers above 0 the AHCI bus name carries the controller alias.
      throw qemuErr(VirErrorNumber.INTERNAL_ERROR, hotplugText.busNoHotplug(ctrl === 0 ? `ide.${idx % 6}` : `sata${ctrl}.${idx % 6}`));
    }
    case 'ide': {
      // q35 has no IDE controller (measured); on i440fx PIIX's two IDE buses refuse device_add [inference].
      if (q35 && !hasController(live.devices, 'ide', 0, false, q35)) throw qemuErr(VirErrorNumber.INTERNAL_ERROR, hotplugText.noController('ide', 0));
      throw qemuErr(VirErrorNumber.INTERNAL_ERROR, hotplugText.busNoHotplug(`ide.${Math.floor(idx / 2)}`));
    }
    default:
      throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, hotplugText.diskBusNoHotplug(bus));
  }
}

/**
 * qemuDomainAttachDeviceLive up to QEMU's device_add: the running definition with the device
 * added, or libvirt's / QEMU's refusal. `q35` is the guest's machine family.
 */
export function attachToLive(live: DomainDef, dev: ParsedDevice, q35: boolean): DomainDef {
  const d = dev.def;
  if (!LIVE_ATTACH.has(dev.node.name)) throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, hotplugText.liveAttachUnsupported(dev.node.name));
  if (d.kind === 'disk') {
    // The new definition is validated as a whole: a taken target is the domain validator's text (measured).
    const taken = live.devices.find((x) => x.kind === 'disk' && x.targetDev === d.targetDev);
    if (taken) throw duplicateDiskTargetError(taken, d);
    checkDiskHotplug(live, d, q35);
  }
  if (d.kind === 'controller' && d.controllerType !== 'scsi') {
    throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, hotplugText.controllerNoHotplug(d.controllerType ?? ''));
  }
  if (d.kind === 'channel' && d.model === 'virtio') {
    const serial = live.devices.some((x) => x.kind === 'controller' && x.controllerType === 'virtio-serial') || implicitVirtioSerialController(live.devices) !== null;
    if (!serial) throw qemuErr(VirErrorNumber.INTERNAL_ERROR, hotplugText.noVirtioSerial);
  }
  return withDevice(live, dev);
}

// ---- detach -------------------------------------------------------------------------------------

function deviceMissing(detail: string): LibvirtError {
  return new LibvirtError({ code: VIR_ERR_DEVICE_MISSING, domain: VirErrorDomain.DOMAIN, message: `device not found: ${detail}` });
}

/** Index in `<devices>` of the node matching the detach request (disk by target, NIC by MAC or uniquely). */
function findDeviceNode(nodes: readonly XmlNode[], dev: ParsedDevice): number {
  const d = dev.def;
  const parsed = nodes.map((n) => (n.name === dev.node.name ? parseDevice(n) : null));
  if (d.kind === 'disk') {
    const i = parsed.findIndex((x) => x?.targetDev === d.targetDev);
    if (i < 0) throw deviceMissing(hotplugText.diskNotFound(d.targetDev ?? ''));
    return i;
  }
  const hits = parsed.flatMap((x, i) => (x && (d.mac === undefined || x.mac === d.mac) && (d.model === undefined || x.model === d.model) ? [i] : []));
  if (hits.length === 0) throw deviceMissing(d.mac ? hotplugText.nicNotFoundByMac(d.mac) : hotplugText.nicNotFound);
  if (hits.length > 1) throw qemuErr(VirErrorNumber.OPERATION_FAILED, hotplugText.nicAmbiguous);
  return hits[0]!;
}

/** The definition without the matching device, and that device as the definition had it. */
function withoutDevice(def: DomainDef, dev: ParsedDevice): { def: DomainDef; removed: DeviceDef } {
  let removed: DeviceDef | undefined;
  const out = withDeviceNodes(def, (nodes) => {
    const at = findDeviceNode(nodes, dev);
    removed = parseDevice(nodes[at]!);
    return nodes.filter((_, i) => i !== at);
  });
  return { def: out, removed: removed! };
}

export function detachFromConfig(def: DomainDef, dev: ParsedDevice): DomainDef {
  if (!DETACHABLE.has(dev.node.name)) throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, hotplugText.persistentDetachUnsupported(dev.node.name));
  return withoutDevice(def, dev).def;
}

export function detachFromLive(live: DomainDef, dev: ParsedDevice): DomainDef {
  if (!DETACHABLE.has(dev.node.name)) throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, hotplugText.liveDetachUnsupported(dev.node.name));
  const { def, removed } = withoutDevice(live, dev);
  if (removed.kind === 'disk' && !HOTPLUG_DISK_BUSES.has(removed.bus ?? 'ide')) {
    throw qemuErr(VirErrorNumber.OPERATION_UNSUPPORTED, hotplugText.diskNoHotUnplug);
  }
  return def;
}
