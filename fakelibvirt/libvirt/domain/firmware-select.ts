/**
 * Firmware autoselection at define (libvirt 9.2+ "Make firmware selection persistent";
 * qemu_firmware.c qemuFirmwareFillDomain / qemuFirmwareMatchDomain): `<os firmware='…'>` must match
 * one of the host's firmware descriptors (/usr/share/qemu/firmware/*.json) or the define fails.
 * Older libvirt selects only when the guest starts. The descriptors are derived from the profile's
 * OVMF images as Debian packages them (bullseye, bookworm and trixie ship the same three, read in
 * the containers): every build declares `amd-sev` only (no `amd-sev-es`, no `amd-sev-snp`), the
 * Secure Boot builds need SMM and q35, and no BIOS descriptor exists. An AMD SEV build
 * (OVMF.amdsev.fd, stateless, as QEMU's own descriptor gives it) declares all three SEV features.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { HardwareProfile } from '../../profile/schema.ts';
import { getTop, type DomainDraft, type DraftStep } from './draft.ts';
import { featuresOf } from './features.ts';
import { stateOf } from './lifecycle.ts';
import { osOf } from './os.ts';
import { validateOsCommon } from './os-validate.ts';
import { ruleApplies } from './since.ts';

interface FirmwareDescriptor {
  readonly interface: 'uefi' | 'bios';
  /** flash: pflash with a separate varstore (split) or none (stateless); memory: a ROM image. */
  readonly device: 'flash' | 'memory';
  readonly flashMode: 'split' | 'stateless';
  readonly arch: string;
  readonly machines: readonly string[];
  readonly features: ReadonlySet<string>;
}

const shared = new WeakMap<HardwareProfile, readonly FirmwareDescriptor[]>();

/** The descriptors a host with these OVMF images has, as its distribution ships them. */
export function firmwareDescriptors(profile: HardwareProfile): readonly FirmwareDescriptor[] {
  let out = shared.get(profile);
  if (!out) shared.set(profile, (out = profile.qemu.ovmf.map((o) => descriptorOf(o.code, profile.arch))));
  return out;
}

function descriptorOf(code: string, arch: string): FirmwareDescriptor {
  if (arch !== 'x86_64') return { interface: 'uefi', device: 'flash', flashMode: 'split', arch, machines: ['virt-*'], features: new Set() };
  if (/amdsev/i.test(code)) {
    return { interface: 'uefi', device: 'memory', flashMode: 'stateless', arch, machines: ['pc-q35-*'], features: new Set(['amd-sev', 'amd-sev-es', 'amd-sev-snp']) };
  }
  const secure = /secboot|\.ms\./i.test(code);
  const features = ['acpi-s3', 'amd-sev', ...(secure ? ['requires-smm', 'secure-boot'] : []), ...(/\.ms\./i.test(code) ? ['enrolled-keys'] : [])];
  return { interface: 'uefi', device: 'flash', flashMode: 'split', arch, machines: secure ? ['pc-q35-*'] : ['pc-i440fx-*', 'pc-q35-*'], features: new Set(features) };
}

/** g_pattern_match_simple: `*` any run, `?` one character. */
const globMatch = (pattern: string, s: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(s);

/** SEV-ES guests are SEV guests with policy bit 2 to libvirt (VIR_QEMU_FIRMWARE_AMD_SEV_ES_POLICY). */
const SEV_ES_POLICY = 0x4;

/** qemuFirmwareMatchDomain for the parts a define can carry under autoselection. */
function matches(d: DomainDraft, fw: FirmwareDescriptor): boolean {
  const os = osOf(d);
  const loader = os.loader;
  if (fw.interface !== (os.firmware === 'bios' ? 'bios' : 'uefi')) return false;
  if (fw.arch !== os.arch || !fw.machines.some((m) => globMatch(m, os.machine ?? ''))) return false;
  const pm = stateOf(d);
  if (pm.s3 === 'yes' && !fw.features.has('acpi-s3')) return false;
  if (pm.s4 === 'yes' && !fw.features.has('acpi-s4')) return false;
  const want = os.firmwareFeatures;
  for (const f of ['secure-boot', 'enrolled-keys']) {
    const w = want?.get(f);
    if ((w === 'yes' && !fw.features.has(f)) || (w === 'no' && fw.features.has(f))) return false;
  }
  if (fw.features.has('requires-smm')) {
    if (featuresOf(d).smm === 'off' || loader?.secure === 'no') return false;
  } else if (loader?.secure === 'yes') return false;
  if (fw.device === 'flash') {
    if (loader?.type !== undefined && loader.type !== 'pflash') return false;
    if ((loader?.stateless === 'yes') !== (fw.flashMode === 'stateless')) return false;
    if (loader?.readonly === 'no') return false;
  } else {
    if (loader?.type !== undefined && loader.type !== 'rom') return false;
    if (loader?.readonly === 'no') return false;
  }
  const ls = getTop(d, 'launchSecurity');
  if (ls?.attrs.type === 'sev') {
    if (!fw.features.has('amd-sev')) return false;
    const policy = Number.parseInt(ls.children.find((c) => c.name === 'policy')?.text ?? '0', 16);
    if (policy & SEV_ES_POLICY && !fw.features.has('amd-sev-es')) return false;
  } else if (ls?.attrs.type === 'sev-snp' && !fw.features.has('amd-sev-snp')) return false;
  return true;
}

/** qemuDomainDefBootPostParse → qemuFirmwareFillDomain with abiUpdate (a define): no match, no domain. */
export const selectFirmware: DraftStep = (d) => {
  if (!ruleApplies('firmwareSelectedAtDefine', d.ctx)) return;
  // qemuFirmwareFillDomain validates the OS part first, validation may not have run yet.
  validateOsCommon(d);
  const os = osOf(d);
  if (os.firmware === undefined) return;
  if (firmwareDescriptors(d.ctx.profile).some((fw) => matches(d, fw))) return;
  throw LibvirtError.of(VirErrorNumber.OPERATION_FAILED, VirErrorDomain.QEMU,
    `Unable to find '${os.firmware}' firmware that is compatible with the current configuration`);
};
