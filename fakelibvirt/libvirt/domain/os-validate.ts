/**
 * Validation of the OS part and its neighbours, in libvirt 9.0's order: first the QEMU driver's
 * rules (qemu_validate.c qemuValidateDomainDef: the emulator must offer the OS type, arch, virt type
 * and machine; UEFI needs ACPI on x86; lifecycle actions; timers; PM; secure boot; features; fw_cfg
 * names), then the common ones (domain_validate.c: lifecycle actions per event, firmware
 * autoselection and the loader, boot menu and reboot timeouts, idmap).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { DomainDraft, DraftStep } from './draft.ts';
import { isQ35Machine, isX86 } from './machine.ts';
import { featuresOf, qemuValidateFeatures } from './features.ts';
import { qemuValidateClockTimers, qemuValidateLifecycle, qemuValidatePm, validateLifecycleActions } from './lifecycle.ts';
import { osOf } from './os.ts';
import { fwcfgNamesOf, validateIdmap } from './sysinfo.ts';

const qemuUnsupported = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, t);
const unsupported = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, t);
const detail = (t: string) => LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.DOMAIN, t);

export const validate: DraftStep = (d) => {
  qemuValidateOs(d);
  validateLifecycleActions(d);
  validateOsCommon(d);
  validateBootCommon(d);
  validateIdmap(d);
};

/** The OS-related steps of qemuValidateDomainDef, in its order. */
function qemuValidateOs(d: DomainDraft): void {
  const os = osOf(d);
  const emulator = d.emulator ?? '';
  const guest = d.ctx.arches.find((a) => a.arch === os.arch);
  if (os.type !== 'hvm') throw qemuUnsupported(`Emulator '${emulator}' does not support os type '${os.type}'`);
  if (!guest) throw qemuUnsupported(`Emulator '${emulator}' does not support arch '${os.arch}'`);
  const virtOk = os.virtType === 'qemu' || (os.virtType === 'kvm' && guest.kvm);
  if (!virtOk) throw qemuUnsupported(`Emulator '${emulator}' does not support virt type '${os.virtType}'`);
  if (!d.ctx.machines.some((m) => m.name === os.machine || m.alias === os.machine)) {
    throw qemuUnsupported(`Emulator '${emulator}' does not support machine type '${os.machine}'`);
  }
  const feats = featuresOf(d);
  const uefi = os.firmware === 'efi' || os.loader?.type === 'pflash';
  if (uefi && isX86(os.arch) && feats.acpi !== 'on') throw qemuUnsupported('UEFI requires ACPI on this architecture');
  if (feats.acpi === 'on' && os.arch === 'aarch64' && !uefi) throw qemuUnsupported('ACPI requires UEFI on this architecture');
  if (os.biosUseserial === 'yes') {
    if (!isX86(os.arch)) throw qemuUnsupported('BIOS serial console only supported on x86 architectures');
    if (!d.devices.some((n) => n.name === 'serial')) {
      throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.QEMU, 'need at least one serial port to use BIOS serial output');
    }
  }
  qemuValidateLifecycle(d);
  qemuValidateClockTimers(d);
  qemuValidatePm(d);
  qemuValidateBoot(d);
  qemuValidateFeatures(d);
  for (const name of fwcfgNamesOf(d)) {
    if (!name.startsWith('opt/')) throw qemuUnsupported('Invalid firmware name');
    if (name.startsWith('opt/ovmf/') || name.startsWith('opt/org.qemu/')) throw qemuUnsupported('That firmware name is reserved');
  }
}

/** qemuValidateDomainDefBoot: secure boot's machine, arch and SMM; the NVRAM's storage type. */
function qemuValidateBoot(d: DomainDraft): void {
  const os = osOf(d);
  const l = os.loader;
  if (!l) return;
  if (l.secure === 'yes') {
    if (!isQ35Machine(os.machine, os.arch)) throw qemuUnsupported('Secure boot is supported with q35 machine types only');
    if (os.arch !== 'x86_64') throw qemuUnsupported('Secure boot is supported for x86_64 architecture only');
    if (os.firmware === undefined && featuresOf(d).smm !== 'on') throw qemuUnsupported('Secure boot requires SMM feature enabled');
  }
  const type = l.nvram?.type;
  if (type === 'dir' || type === 'volume' || type === 'nvme' || type === 'vhostuser') {
    throw qemuUnsupported(`unsupported nvram disk type '${type}'`);
  }
}

/** virDomainDefOSValidate: firmware autoselection excludes a hand-picked loader, and the reverse. */
export function validateOsCommon(d: DomainDraft): void {
  const os = osOf(d);
  const l = os.loader;
  if (os.firmware !== undefined) {
    if (l) {
      if (l.readonly !== undefined) throw detail("loader attribute 'readonly' cannot be specified when firmware autoselection is enabled");
      if (l.type !== undefined) throw detail("loader attribute 'type' cannot be specified when firmware autoselection is enabled");
      if (l.path !== undefined) throw detail('loader path cannot be specified when firmware autoselection is enabled');
      if (l.nvramTemplate !== undefined) throw detail("nvram attribute 'template' cannot be specified when firmware autoselection is enabled");
      if (l.secure === 'no') throw detail("loader attribute 'secure' cannot be specified when firmware autoselection is enabled");
      if (l.nvram !== undefined && os.firmware !== 'efi') throw detail(`firmware type '${os.firmware}' does not support nvram`);
    }
  } else {
    if (os.firmwareFeatures) throw detail('cannot use feature-based firmware autoselection when firmware autoselection is disabled');
    if (!l) return;
    if (l.path === undefined) throw detail('no loader path specified and firmware auto selection disabled');
  }
  if (!l) return;
  if (l.stateless === 'yes') {
    if (l.nvramTemplate !== undefined) throw detail('NVRAM template is not permitted when loader is stateless');
    if (l.nvram !== undefined) throw detail('NVRAM is not permitted when loader is stateless');
  } else if (l.stateless === 'no') {
    if (os.firmware === undefined) {
      if (l.type !== 'pflash') throw detail('Only pflash loader type permits NVRAM');
    } else if (os.firmware !== 'efi') {
      throw detail('Only EFI firmware permits NVRAM');
    }
  }
}

/** virDomainDefBootValidate. */
function validateBootCommon(d: DomainDraft): void {
  const os = osOf(d);
  if (os.bootmenuTimeout !== undefined && os.bootmenuTimeout > 65535) {
    throw unsupported('invalid value for boot menu timeout, must be in range [0,65535]');
  }
  const rt = os.biosRebootTimeout;
  if (rt !== undefined && (rt < -1 || rt > 65535)) throw unsupported('invalid value for rebootTimeout, must be in range [-1,65535]');
}
