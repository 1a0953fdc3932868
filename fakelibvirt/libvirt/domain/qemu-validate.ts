/**
 * The QEMU driver's domain-wide validation (qemu_validate.c, qemuValidateDomainDef) for the rules
 * no other part owns: cachetune, panic models, and — its last rule — the launch security against
 * QEMU's capabilities. The others sit beside their parts: the emulator, OS, firmware, lifecycle,
 * timers, PM and features in os-validate.ts; the vCPU topology and machine limit in tunables.ts;
 * memory in memory.ts; IDE and the other implicit controllers in implicit-devices.ts. Rules QEMU 7.2
 * always satisfies (IOThread pools, NUMA HMAT, genid) are not modelled. Measured on libvirt 9.0.
 */
import { validateCpuQemu } from './cpu.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import { getTop, type DomainDraft, type DraftStep } from './draft.ts';
import { launchSecurityOf, validateLaunchSecurity } from './launch-security.ts';
import { osOf } from './os.ts';
import { isX86 } from './machine.ts';
import { validateTpmSet } from './devices/tpm.ts';

const unsupported = (message: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, message);

/** Resource control (`<cachetune>`, `<memorytune>`) needs KVM. */
function validateCachetune(d: DomainDraft): void {
  const resctrl = getTop(d, 'cputune')?.children.some((c) => c.name === 'cachetune' || c.name === 'memorytune');
  if (resctrl && d.rootAttrs.type !== 'kvm') throw unsupported('cachetune is only supported for KVM domains');
}

/** qemuValidateDomainDefPanic: which guests each panic model belongs to; no address where it has none. */
function validatePanics(d: DomainDraft): void {
  const os = osOf(d);
  for (const panic of d.devices.filter((n) => n.name === 'panic')) {
    const model = panic.attrs.model;
    const address = panic.children.find((c) => c.name === 'address')?.attrs.type;
    const noAddress = (m: string) => {
      if (address !== undefined) throw unsupported(`setting the panic device address is not supported for model '${m}'`);
    };
    if (model === 's390') {
      if (os.arch !== 's390' && os.arch !== 's390x') throw unsupported("only S390 guests support panic device of model 's390'");
      noAddress('s390');
    } else if (model === 'hyperv') {
      if (!isX86(os.arch)) throw unsupported("only i686 and x86_64 guests support panic device of model 'hyperv'");
      noAddress('hyperv');
    } else if (model === 'pseries') {
      if (!(os.machine ?? '').startsWith('pseries')) throw unsupported("only pSeries guests support panic device of model 'pseries'");
      noAddress('pseries');
    } else if (model === 'isa' && address !== undefined && address !== 'isa') {
      throw unsupported('panic is supported only with ISA address type');
    }
  }
}

/** These rules in qemuValidateDomainDef's order (cachetune after the vCPU topology, panic after sysinfo). */
export const validate: DraftStep = (d) => {
  validateCpuQemu(d);
  validateCachetune(d);
  validatePanics(d);
  validateTpmSet(d);
  validateLaunchSecurity(launchSecurityOf(d), d.ctx);
};
