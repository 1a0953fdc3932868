/**
 * What happens to a parsed `<disk>` after the parse: the QEMU driver's and the common post-parse
 * (qemuDomainDeviceDiskDefPostParse, virDomainDiskDefPostParse: driver and format defaults, the bus
 * from the target name, the drive address from the target index) and validation
 * (virDomainDiskDefValidate, then qemuValidateDomainDeviceDefDisk), with libvirt's texts.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import type { XmlNode } from '../../xml-tree.ts';
import { child } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { confError, domainXmlError, internalError, unsupported } from './device-info.ts';
import { controllerModelOf } from './controller.ts';
import { diskModelOf, formatDisk, type DiskModel } from './disk.ts';
import { requireSharedMemory } from './filesystem.ts';
import { iothreadsOf } from '../iothreads.ts';
import { ruleApplies } from '../since.ts';

const qemuError = (code: VirErrorNumber, message: string) => LibvirtError.of(code, VirErrorDomain.QEMU, message);
const qemuUnsupported = (message: string) => qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, message);
const qemuInternal = (message: string) => qemuError(VirErrorNumber.INTERNAL_ERROR, message);

/** virErrorNumber values the shared table does not name. */
const VIR_ERR_NO_SOURCE = 19 as VirErrorNumber;
const VIR_ERR_NO_TARGET = 20 as VirErrorNumber;

/** libvirt's text when two disks share a target (`a` is the earlier disk); hot-plug uses it too. */
export function duplicateDiskTargetError(dst: string, sourceA: string | undefined, sourceB: string | undefined): LibvirtError {
  return domainXmlError(`target '${dst}' duplicated for disk sources '${sourceA ?? '<null>'}' and '${sourceB ?? '<null>'}'`);
}

/**
 * virDiskNameParse: fd/hd/vd/sd/xvd/ubd, lower-case letters (base-26 index), then a partition
 * number without a leading zero. Null when the name is not one.
 */
export function diskNameParse(name: string): { index: number; partition: number } | null {
  const prefix = ['fd', 'hd', 'vd', 'sd', 'xvd', 'ubd'].find((p) => name.startsWith(p));
  if (prefix === undefined) return null;
  const m = /^([a-z]+)(\d*)$/.exec(name.slice(prefix.length));
  if (!m) return null;
  let idx = 0;
  [...m[1]!].forEach((ch, i) => {
    idx = (idx + (i < 1 ? 0 : 1)) * 26 + (ch.charCodeAt(0) - 97);
  });
  const digits = m[2]!;
  if (digits.length > 1 && digits.startsWith('0')) return null;
  const partition = digits === '' ? 0 : Number(digits);
  if (partition > 0x7fffffff) return null;
  return { index: idx, partition };
}

/** Post-parse of every disk in the draft, in document order (libvirt's device iteration). */
export function postParseDisks(d: DomainDraft): void {
  d.devices.forEach((n, i) => {
    const m = diskModelOf(n);
    if (!m) return;
    postParseDisk(m);
    d.devices[i] = formatDisk(m);
  });
}

export function postParseDisk(m: DiskModel): void {
  // qemuDomainDeviceDiskDefPostParse
  m.driverName ??= 'qemu';
  if (m.format === undefined && m.type !== 'volume') m.format = 'raw';
  // virDomainDiskDefPostParse
  if (m.dst?.startsWith('ioemu:')) m.dst = m.dst.slice('ioemu:'.length);
  if (m.device === 'cdrom') m.readonly = true;
  if (m.bus === undefined) m.bus = defaultBus(m);
  if (m.snapshot === undefined && m.readonly) m.snapshot = 'no';
  if (m.addressType === undefined && m.dst !== undefined) assignDriveAddress(m);
}

function defaultBus(m: DiskModel): string {
  if (m.device === 'floppy') return 'fdc';
  const dst = m.dst ?? '';
  if (dst.startsWith('hd')) return 'ide';
  if (dst.startsWith('sd')) return 'scsi';
  if (dst.startsWith('vd')) return 'virtio';
  if (dst.startsWith('xvd')) return 'xen';
  if (dst.startsWith('ubd')) return 'uml';
  return 'ide';
}

/** virDomainDiskDefAssignAddress: the drive address the target name implies (narrow SCSI bus). */
function assignDriveAddress(m: DiskModel): void {
  const parsed = diskNameParse(m.dst!);
  if (!parsed) throw domainXmlError(`Unknown disk name '${m.dst}' and no address specified`);
  const idx = parsed.index;
  const perBus: Partial<Record<string, [number, number, number]>> = {
    scsi: [Math.floor(idx / 7), 0, idx % 7],
    ide: [Math.floor(idx / 4), Math.floor((idx % 4) / 2), idx % 2],
    sata: [Math.floor(idx / 6), 0, idx % 6],
    fdc: [Math.floor(idx / 2), 0, idx % 2],
  };
  const a = perBus[m.bus!];
  if (!a) return;
  m.addressType = 'drive';
  m.info = [...m.info, node('address', { type: 'drive', controller: a[0], bus: a[1], target: 0, unit: a[2] })];
}

const sourceOf = (m: DiskModel) => m.path;

/** virDomainDiskDefValidate (common), then qemuValidateDomainDeviceDefDisk. */
export function validateDisk(m: DiskModel, d: DomainDraft): void {
  if (m.dst === undefined) {
    const detail = m.pool ? `pool = '${m.pool.pool}', volume = '${m.pool.volume}'` : m.path;
    throw confError(VIR_ERR_NO_TARGET, detail === undefined ? 'missing target information for device' : `missing target information for device ${detail}`);
  }
  const dst = m.dst;
  // virDomainDiskDefValidateSourceChainOne (newer than 9.0): sheepdog is gone from every driver.
  if (m.type === 'network' && m.protocol === 'sheepdog' && ruleApplies('sheepdogRefused', d.ctx)) {
    throw unsupported("'sheepdog' protocol is no longer supported by any hypervisor driver");
  }
  if (m.sgio === 'unfiltered') throw unsupported('unfiltered sgio is no longer supported');
  if (m.device === 'lun') {
    if (m.type === 'network') {
      if (m.protocol !== 'iscsi') throw unsupported(`disk device='lun' is not supported for protocol='${m.protocol}'`);
    } else if (m.type !== 'block' && m.type !== 'volume') {
      throw unsupported("disk device='lun' is only valid for block type disk source");
    }
    if (m.format !== 'raw' && m.format !== undefined) throw unsupported("disk device 'lun' must use 'raw' format");
  } else {
    if (m.rawio !== undefined) throw unsupported("rawio can be used only with device='lun'");
    if (m.sgio !== undefined) throw unsupported("sgio can be used only with device='lun'");
  }
  const io = m.iotune;
  const both = (t: string, r: string, w: string) => io.has(t) && (io.has(r) || io.has(w));
  for (const [suffix, what] of [['bytes_sec', 'bytes_sec'], ['iops_sec', 'iops_sec'], ['bytes_sec_max', 'bytes_sec_max'], ['iops_sec_max', 'iops_sec_max']]) {
    if (both(`total_${suffix}`, `read_${suffix}`, `write_${suffix}`)) throw domainXmlError(`total and read/write ${what} cannot be set at the same time`);
  }
  const driveBus = m.bus === 'ide' || m.bus === 'fdc' || m.bus === 'scsi' || m.bus === 'sata';
  if (m.addressType !== undefined && driveBus && m.addressType !== 'drive') {
    throw unsupported(`Invalid address type '${m.addressType}' for the disk '${dst}' with the bus type '${m.bus}'`);
  }
  if (m.bus !== 'virtio') {
    if (m.model !== undefined) throw unsupported(`disk model '${m.model}' not supported for bus '${m.bus}'`);
    if (m.queues) throw unsupported('queues attribute in disk driver element is only supported by virtio-blk');
    if (m.eventIdx !== undefined) throw unsupported('disk event_idx mode supported only for virtio bus');
    if (m.ioeventfd !== undefined) throw unsupported('disk ioeventfd mode supported only for virtio bus');
    for (const [k, v] of Object.entries(m.virtio)) {
      if (v !== undefined) throw unsupported(k === 'page_per_vq' ? 'page_per_vq option is only supported for virtio devices' : `${k} driver option is only supported for virtio devices`);
    }
  }
  if (m.tray !== undefined && m.device !== 'floppy' && m.device !== 'cdrom') throw unsupported('tray is only valid for cdrom and floppy');
  if (m.vendor !== undefined) {
    if (!printable(m.vendor)) throw domainXmlError('disk vendor is not printable string');
    if (m.vendor.length > 8) throw unsupported('disk vendor is more than 8 characters');
  }
  if (m.product !== undefined) {
    if (!printable(m.product)) throw domainXmlError('disk product is not printable string');
    if (m.product.length > 16) throw unsupported('disk product is more than 16 characters');
  }
  if (m.device === 'floppy' && m.bus !== 'fdc') throw internalError(`Invalid bus type '${m.bus}' for floppy disk`);
  if (m.device !== 'floppy' && m.bus === 'fdc') throw internalError(`Invalid bus type '${m.bus}' for disk`);
  if (m.removable !== undefined && m.bus !== 'usb') throw domainXmlError('removable is only valid for usb disks');
  validateStartupPolicy(m);
  if ((m.device === 'disk' || m.device === 'lun') && !['hd', 'sd', 'vd', 'xvd', 'ubd'].some((p) => dst.startsWith(p))) {
    throw internalError(`Invalid harddisk device name: ${dst}`);
  }
  if (m.device === 'floppy' && !dst.startsWith('fd')) throw internalError(`Invalid floppy device name: ${dst}`);
  if (isEmptySource(m) && m.device === 'disk') throw confError(VIR_ERR_NO_SOURCE, `missing source information for device ${dst}`);
  validateDriveAddress(m, d);
  validateQemuDisk(m, d);
}

const printable = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** virStorageSourceIsEmpty: a local source without a path, or a network/volume source without a name. */
function isEmptySource(m: DiskModel): boolean {
  if (m.type === 'network') return false;
  if (m.type === 'volume') return m.pool === undefined;
  if (m.type === 'nvme' || m.type === 'vhostuser') return false;
  return m.path === undefined;
}

function validateStartupPolicy(m: DiskModel): void {
  if (m.startupPolicy === undefined) return;
  const local = m.type === 'file' || m.type === 'block' || m.type === 'dir';
  if (m.type !== 'volume' && !local) {
    throw domainXmlError(`disk startupPolicy '${m.startupPolicy}' is not allowed for disk of '${m.type}' type`);
  }
  if (m.device !== 'cdrom' && m.device !== 'floppy' && m.startupPolicy === 'requisite') {
    throw domainXmlError("disk startupPolicy 'requisite' is allowed only for cdrom or floppy");
  }
}

/** qemuValidateDomainDeviceDefAddressDrive: what QEMU's controllers can address. */
function validateDriveAddress(m: DiskModel, d: DomainDraft): void {
  const a = driveAddress(m);
  if (!a) return;
  const [controller, bus, target, unit] = [Number(a.controller), Number(a.bus), Number(a.target), Number(a.unit)];
  switch (m.bus) {
    case 'scsi': {
      if (bus !== 0) throw qemuInternal('SCSI controller only supports 1 bus');
      const c = d.devices.map(controllerModelOf).find((x) => x?.type === 'scsi' && x.idx === controller);
      if (c?.model === 'lsilogic' && target !== 0) throw qemuUnsupported("target must be 0 for controller model 'lsilogic'");
      void unit;
      break;
    }
    case 'ide':
      if (controller !== 0) throw qemuInternal('Only 1 IDE controller is supported');
      if (target !== 0) throw qemuUnsupported('target must be 0 for ide controller');
      break;
    case 'fdc':
      if (controller !== 0) throw qemuInternal('Only 1 fdc controller is supported');
      if (bus !== 0) throw qemuInternal('Only 1 fdc bus is supported');
      if (target !== 0) throw qemuUnsupported('target must be 0 for controller fdc');
      break;
    case 'sata':
      if (bus !== 0) throw qemuUnsupported('bus must be 0 for sata controller');
      if (target !== 0) throw qemuUnsupported('target must be 0 for sata controller');
      break;
  }
}

/** qemuValidateDomainDeviceDefDisk (the parts a QEMU 7.2 x86 host decides). */
function validateQemuDisk(m: DiskModel, d: DomainDraft): void {
  const dst = m.dst!;
  if (m.geometry && (m.bus === 'usb' || m.bus === 'sd')) throw qemuUnsupported(`CHS geometry can not be set for '${m.bus}' bus`);
  if (m.geometry?.attrs.trans !== undefined && m.bus !== 'ide') {
    throw qemuUnsupported(`CHS translation mode can only be set for 'ide' bus not '${m.bus}'`);
  }
  if (m.serial !== undefined && m.bus === 'sd') throw qemuInternal(`Serial property not supported for drive bus '${m.bus}'`);
  if (m.device === 'cdrom' && (m.bus === 'virtio' || m.bus === 'sd')) throw qemuUnsupported(`disk type of '${dst}' does not support ejectable media`);
  if (m.driverAttrs.copy_on_read === 'on') {
    if (m.readonly) throw qemuUnsupported(`copy_on_read is not compatible with read-only disk '${dst}'`);
    if (m.device === 'cdrom' || m.device === 'floppy') throw qemuUnsupported(`copy_on_read is not supported with removable disk '${dst}'`);
  }
  if (m.wwn !== undefined && m.bus !== 'ide' && m.bus !== 'scsi') throw qemuUnsupported('Only ide and scsi disk support wwn');
  if ((m.vendor !== undefined || m.product !== undefined) && m.bus !== 'scsi') throw qemuUnsupported('Only scsi disk supports vendor and product');
  if (m.device === 'lun') {
    if (m.bus !== 'virtio' && m.bus !== 'scsi') throw qemuUnsupported(`disk device='lun' is not supported for bus='${m.bus}'`);
    if (m.driverAttrs.copy_on_read === 'on') throw qemuUnsupported(`copy_on_read is not compatible with 'lun' disk '${dst}'`);
    if (m.wwn !== undefined) throw qemuUnsupported('Setting wwn is not supported for lun device');
    if (m.vendor !== undefined || m.product !== undefined) throw qemuUnsupported('Setting vendor or product is not supported for lun device');
  }
  if (m.rotationRate) {
    if (m.bus !== 'scsi' && m.bus !== 'ide' && m.bus !== 'sata') throw qemuInternal('rotation rate is only valid for SCSI/IDE/SATA bus');
    if (m.device !== 'disk') throw qemuInternal('rotation rate is only valid for disk device');
  }
  if (m.bus === 'scsi' || m.bus === 'ide' || m.bus === 'fdc' || m.bus === 'sata') {
    if (m.addressType !== 'drive') throw qemuInternal(`unexpected address type for ${m.bus} disk`);
  }
  if (m.bus === 'usb' && m.addressType !== undefined && m.addressType !== 'usb') throw qemuInternal('unexpected address type for usb disk');
  if (m.readonly && m.device === 'disk') {
    if (m.bus === 'ide') throw qemuUnsupported('readonly ide disks are not supported');
    if (m.bus === 'sata') throw qemuUnsupported('readonly sata disks are not supported');
  }
  if (m.driverAttrs.io === 'native' && m.driverAttrs.cache !== 'directsync' && m.driverAttrs.cache !== 'none') {
    throw qemuUnsupported("io='native' needs either no disk cache or directsync cache mode");
  }
  if (m.serial !== undefined && m.bus === 'scsi' && m.device === 'lun') throw qemuUnsupported("scsi-block 'lun' devices do not support the serial property");
  // qemuValidateDomainDeviceDefDiskSerial: only characters safe on QEMU's command line.
  if (m.serial !== undefined && !/^[A-Za-z0-9\-_ .+]*$/.test(m.serial)) throw qemuInternal(`driver serial '${m.serial}' contains unsafe characters`);
  // qemuValidateDomainDeviceDefDiskIOThreads: only virtio-blk has iothreads, and the id must be defined.
  const iothread = m.driverAttrs.iothread;
  if (iothread !== undefined) {
    if (m.bus !== 'virtio') throw qemuUnsupported(`IOThreads not available for bus ${m.bus} target ${dst}`);
    if (!iothreadsOf(d).some((t) => t.id === Number(iothread))) throw qemuUnsupported(`Disk iothread '${iothread}' not defined in iothreadid`);
  }
  if (m.driverName !== undefined && m.driverName !== 'qemu') throw qemuUnsupported(`unsupported driver name '${m.driverName}' for disk '${dst}'`);
  const parsed = diskNameParse(dst);
  if (!parsed) throw qemuUnsupported(`invalid disk target '${dst}'`);
  if (parsed.partition !== 0) throw qemuUnsupported(`invalid disk target '${dst}', partitions can't appear in disk targets`);
  validateStorageSource(m);
  if (m.type === 'vhostuser') requireSharedMemory(d, 'vhostuser');
}

/** qemuDomainValidateStorageSource. */
function validateStorageSource(m: DiskModel): void {
  if (m.format === 'cow') throw qemuUnsupported("'cow' storage format is not supported");
  if (m.format === 'dir') throw qemuUnsupported("'directory' storage format is not directly supported by QEMU, use 'dir' disk type instead");
  if (m.format === 'iso') throw qemuUnsupported("storage format 'iso' is not directly supported by QEMU, use 'raw' instead");
  if (m.format === 'fat' && m.type !== 'volume' && m.type !== 'dir') throw qemuUnsupported("storage format 'fat' is supported only with 'dir' storage type");
  if (m.type === 'dir') {
    if (m.format !== undefined && m.format !== 'fat') throw qemuUnsupported("storage type 'dir' requires use of storage format 'fat'");
    if (!m.readonly) throw qemuUnsupported("virtual FAT storage can't be accessed in read-write mode");
  }
  if (m.type !== 'network') return;
  // QEMU dropped its tftp block driver (2.8); no QEMU libvirt 9.0 drives has it.
  if (m.protocol === 'tftp') throw qemuUnsupported("'tftp' protocol is not supported with this QEMU binary");
  if (m.protocol === 'nfs') {
    const hosts = m.sourceKids.filter((k) => k.name === 'host');
    if (hosts.length !== 1) throw qemuUnsupported("'nfs' protocol requires the usage of exactly one host");
    const host = hosts[0]!.attrs;
    if ((host.transport ?? 'tcp') !== 'tcp') throw qemuUnsupported("'nfs' host must use TCP protocol");
    // nfs has no default port, so any port left here was written (port='0' reads as none).
    if (host.port !== undefined) throw qemuUnsupported("port cannot be specified in 'nfs' protocol host");
  }
}

/** virDomainDefDuplicateDiskInfoValidate, then the drive-address half of virDomainDefDuplicateDriveAddressesValidate. */
export function validateDiskSet(disks: readonly DiskModel[]): void {
  for (let i = 0; i < disks.length; i++) {
    for (let j = i + 1; j < disks.length; j++) {
      const [a, b] = [disks[i]!, disks[j]!];
      if (a.dst === b.dst) throw duplicateDiskTargetError(a.dst!, sourceOf(a), sourceOf(b));
    }
  }
  for (let i = 0; i < disks.length; i++) {
    const a = disks[i]!;
    const aa = driveAddress(a);
    if (!aa) continue;
    for (let j = i + 1; j < disks.length; j++) {
      const b = disks[j]!;
      const ba = driveAddress(b);
      if (a.bus !== b.bus || !ba) continue;
      if (aa.controller === ba.controller && aa.bus === ba.bus && aa.target === ba.target && aa.unit === ba.unit) {
        throw unsupported(
          `Found duplicate drive address for disk with target name '${a.dst}' controller='${aa.controller}' bus='${aa.bus}' target='${aa.target}' unit='${aa.unit}'`,
        );
      }
    }
  }
}

export function driveAddress(m: DiskModel): Record<string, string> | undefined {
  if (m.addressType !== 'drive') return undefined;
  return m.info.find((n: XmlNode) => n.name === 'address')?.attrs;
}
