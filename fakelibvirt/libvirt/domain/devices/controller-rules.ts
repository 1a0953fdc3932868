/**
 * qemuValidateDomainDeviceDefController for a QEMU 7.2 host: the SCSI model's availability, the
 * virtio-scsi-only driver attributes, then the per-type rules (IDE, SCSI, PCI; SATA's AHCI is always
 * there). The PCI rules are libvirt's per-option tables over the controller models, checked option by
 * option in its order (modelName, index, targetIndex, pcihole64, busNr, numaNode, chassisNr,
 * chassis/port, hotplug).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child } from '../../xml-tree.ts';
import { getTop, type DomainDraft } from '../draft.ts';
import { iothreadsOf } from '../iothreads.ts';
import type { ControllerModel } from './controller.ts';

const qemuError = (code: VirErrorNumber, message: string) => LibvirtError.of(code, VirErrorDomain.QEMU, message);
const qemuUnsupported = (message: string) => qemuError(VirErrorNumber.CONFIG_UNSUPPORTED, message);

/** The guest's arch and canonical machine, as written in `<os><type>` after post-parse. */
function osType(d: DomainDraft): { arch: string; machine: string } {
  const os = getTop(d, 'os');
  const type = os ? child(os, 'type') : undefined;
  return { arch: type?.attrs.arch ?? '', machine: type?.attrs.machine ?? '' };
}

const isPSeries = (machine: string) => machine === 'pseries' || machine.startsWith('pseries-');
const isQ35 = (machine: string) => machine === 'q35' || machine.startsWith('pc-q35-');
const isI440fx = (machine: string) =>
  machine === 'pc' || machine.startsWith('pc-0.') || machine.startsWith('pc-1.') || machine.startsWith('pc-i440fx-') || machine.startsWith('rhel');

/** qemuDomainHasBuiltinESP: the machines whose board has an ncr53c90. */
function hasBuiltinESP(d: DomainDraft): boolean {
  const { arch, machine } = osType(d);
  if (arch === 'sparc') return true;
  if ((arch === 'mips64' || arch === 'mips64el') && (machine === 'magnum' || machine === 'pica61')) return true;
  return arch === 'm68k' && machine === 'q800';
}

const VIRTIO_SCSI = ['virtio-scsi', 'virtio-transitional', 'virtio-non-transitional'];

/** qemuValidateCheckSCSIControllerModel: QEMU 7.2 (x86) has every SCSI device libvirt knows but these. */
function checkScsiModel(c: ControllerModel): void {
  // auto and buslogic never have a QEMU device; the ESP family's missing capability is only logged.
  if (c.model === 'auto' || c.model === 'buslogic') throw qemuUnsupported(`Unsupported controller model: ${c.model}`);
}

/** qemuValidateDomainDeviceDefControllerAttributes. */
function checkAttributes(c: ControllerModel): void {
  if (c.type === 'scsi' && VIRTIO_SCSI.includes(c.model ?? '')) return;
  const drv = c.driver;
  for (const k of ['queues', 'cmd_per_lun', 'max_sectors', 'ioeventfd']) {
    if (drv[k] !== undefined) throw qemuUnsupported(`'${k}' is only supported by virtio-scsi controller`);
  }
  if (drv.iothread !== undefined) throw qemuUnsupported("'iothread' is only supported for virtio-scsi controller");
}

/** qemuValidateDomainDeviceDefControllerSCSI (with qemuValidateCheckSCSIControllerIOThreads). */
function checkScsi(c: ControllerModel, d: DomainDraft): void {
  if (VIRTIO_SCSI.includes(c.model ?? '')) {
    const iothread = c.driver.iothread;
    if (iothread === undefined) return;
    const type = c.address?.type;
    if (type !== undefined && type !== 'pci' && type !== 'ccw') {
      throw qemuUnsupported('virtio-scsi IOThreads only available for virtio pci and virtio ccw controllers');
    }
    if (!iothreadsOf(d).some((t) => t.id === Number(iothread))) throw qemuUnsupported(`controller iothread '${iothread}' not defined in iothreadid`);
  } else if (c.model === 'ncr53c90') {
    if (c.idx !== 0) throw qemuUnsupported('ncr53c90 can only be used as first SCSI controller');
    if (!hasBuiltinESP(d)) throw qemuUnsupported('ncr53c90 SCSI controller is not a built-in for this machine');
  }
}

/** The one modelName (or none) each PCI controller model accepts; pci-root's depends on pSeries. */
const PCI_MODEL_NAME: Record<string, string | undefined> = {
  'pci-bridge': 'pci-bridge', 'dmi-to-pci-bridge': 'i82801b11-bridge', 'pcie-switch-upstream-port': 'x3130-upstream',
  'pcie-switch-downstream-port': 'xio3130-downstream', 'pci-expander-bus': 'pxb', 'pcie-expander-bus': 'pxb-pcie',
  'pcie-to-pci-bridge': 'pcie-pci-bridge', 'pcie-root': undefined,
};
const ROOTS = ['pci-root', 'pcie-root'];
const EXPANDERS = ['pci-expander-bus', 'pcie-expander-bus'];
const PORTS = ['pcie-root-port', 'pcie-switch-downstream-port'];

/** qemuValidateDomainDeviceDefControllerPCI. */
function checkPci(c: ControllerModel, d: DomainDraft): void {
  const model = c.model ?? '';
  const p = c.pci;
  const name = p.modelName ?? 'none';
  const where = `for PCI controller with index '${c.idx}', model '${model}' and modelName '${name}'`;
  const missing = (opt: string) => qemuError(VirErrorNumber.INTERNAL_ERROR, `Required option '${opt}' is not set ${where}`);
  const invalid = (opt: string) => qemuUnsupported(`Option '${opt}' is not valid ${where}`);
  const badValue = (opt: string) => qemuUnsupported(`Option '${opt}' has invalid value ${where}`);
  const { machine } = osType(d);
  const root = ROOTS.includes(model);
  const phb = model === 'pci-root' && p.modelName === 'spapr-pci-host-bridge';

  // modelName: filled in by post-parse for the non-root models; only pSeries' pci-root (a PHB) has one.
  if (!root && p.modelName === undefined) throw missing('modelName');
  if (model === 'pci-root') {
    if (isPSeries(machine) && p.modelName === undefined) throw missing('modelName');
    if (!isPSeries(machine) && p.modelName !== undefined) throw invalid('modelName');
  }
  if (model === 'pcie-root' && p.modelName !== undefined) throw invalid('modelName');
  if (model === 'pci-root') {
    if (p.modelName !== undefined && !phb) throw badValue('modelName');
  } else if (model === 'pcie-root-port') {
    if (p.modelName !== 'ioh3420' && p.modelName !== 'pcie-root-port') throw badValue('modelName');
  } else if (p.modelName !== PCI_MODEL_NAME[model]) {
    throw badValue('modelName');
  }
  // index: only the roots sit at 0 (pSeries PHBs excepted).
  if (!root && c.idx === 0) throw qemuUnsupported(`Index for '${model}' controllers must be > 0`);
  if (root && !phb && c.idx !== 0) throw qemuUnsupported(`Index for '${model}' controllers must be 0`);
  // targetIndex: PHBs only, and they need one.
  if (model === 'pci-root' && phb && p.targetIndex === undefined) throw missing('targetIndex');
  if (!phb && p.targetIndex !== undefined) throw invalid('targetIndex');
  // pcihole64: the i440fx root and the q35 root only.
  if (p.pcihole64KiB !== undefined) {
    if (model === 'pci-root' && !isI440fx(machine)) throw qemuUnsupported(`Setting the 64-bit PCI hole size is not supported for machine '${machine}'`);
    if (model === 'pcie-root' && !isQ35(machine)) throw qemuUnsupported(`Setting the 64-bit PCI hole size is not supported for machine '${machine}'`);
    if (!root) throw invalid('pcihole64');
  }
  // busNr: the expander buses need one, nobody else takes one.
  if (EXPANDERS.includes(model)) {
    if (p.busNr === undefined) throw missing('busNr');
  } else if (p.busNr !== undefined) throw invalid('busNr');
  // numaNode: expander buses and PHBs other than the default one (targetIndex 0).
  if (p.numaNode !== undefined && !EXPANDERS.includes(model)) {
    if (!phb) throw invalid('numaNode');
    if (p.targetIndex === 0) throw invalid('numaNode');
  }
  // chassisNr: pci-bridge only (and it needs one).
  if (model === 'pci-bridge') {
    if (p.chassisNr === undefined) throw missing('chassisNr');
  } else if (p.chassisNr !== undefined) throw invalid('chassisNr');
  // chassis and port: the root and downstream ports only (and they need both).
  if (PORTS.includes(model)) {
    if (p.chassis === undefined) throw missing('chassis');
    if (p.port === undefined) throw missing('port');
  } else {
    if (p.chassis !== undefined) throw invalid('chassis');
    if (p.port !== undefined) throw invalid('port');
  }
  // hotplug: pci-root (QEMU 7.2's PIIX4 has the switch) and the ports (so does pcie-root-port).
  if (p.hotplug !== undefined && model !== 'pci-root' && !PORTS.includes(model)) throw invalid('hotplug');
  // Every PCI controller device x86 QEMU 7.2 could be asked for here exists (spapr's PHB cannot pass the rules above).
}

/** qemuValidateDomainDeviceDefControllerIDE. */
function checkIde(c: ControllerModel, d: DomainDraft): void {
  const builtin = isI440fx(osType(d).machine);
  if (c.idx === 0 && builtin) return;
  throw qemuUnsupported(builtin ? 'Only a single IDE controller is supported for this machine type' : 'IDE controllers are unsupported for this QEMU binary or machine type');
}

export function validateController(d: DomainDraft, c: ControllerModel): void {
  if (c.type === 'scsi') checkScsiModel(c);
  checkAttributes(c);
  if (c.type === 'ide') checkIde(c, d);
  else if (c.type === 'scsi') checkScsi(c, d);
  else if (c.type === 'pci') checkPci(c, d);
}
