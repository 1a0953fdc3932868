/**
 * QEMU's sev-guest error texts (target/i386/sev.c), by QEMU version. The function name in each
 * message changed over releases, and reduced-phys-bits got a range in 8.0.
 */
import { qemuFwErrorString } from '../firmware/status.ts';
import { versionAtLeast } from '../profile/version.ts';

/** Per-version answers of a small function of the QEMU version (a host has one or two versions). */
function byVersion<T>(of: (qemuVersion: string) => T): (qemuVersion: string) => T {
  const known = new Map<string, T>();
  return (v) => {
    let out = known.get(v);
    if (out === undefined) {
      out = of(v);
      if (known.size >= 64) known.clear();
      known.set(v, out);
    }
    return out;
  };
}

/** `__func__` of the init routine that runs the checks. */
export const sevInitFunction = byVersion((qemuVersion) => {
  if (versionAtLeast(qemuVersion, 9, 0)) return 'sev_common_kvm_init';
  if (versionAtLeast(qemuVersion, 5, 0)) return 'sev_kvm_init';
  return 'sev_guest_init';
});

export const qemuSevText = {
  cbitposMismatch: (fn: string, host: number, requested: number) =>
    `${fn}: cbitpos check failed, host '${host}' requested '${requested}'`,
  reducedPhysBits: (qemuVersion: string, fn: string, requested: number) =>
    versionAtLeast(qemuVersion, 8, 0)
      ? `${fn}: reduced_phys_bits check failed, it should be in the range of 1 to 63, requested '${requested}'`
      : `${fn}: reduced_phys_bits check failed, it should be >=1, requested '${requested}'`,
  openDevice: (fn: string, device: string, strerror: string) => `${fn}: Failed to open ${device} '${strerror}'`,
  platformStatus: (fn: string, ret: number, fwError: number, fwText: string) =>
    `${fn}: failed to get platform status ret=${ret} fw_error='${fwError}: ${fwText}'`,
  esNeedsIrqchip: 'SEV-ES guests require in-kernel irqchip support',
  esUnavailable: (fn: string) => `${fn}: guest policy requires SEV-ES, but host SEV-ES support unavailable`,
  kvmInit: (fn: string, ret: number, fwError: number, fwText: string) =>
    `${fn}: failed to initialize ret=${ret} fw_error=${fwError} '${fwText}'`,
  launchStart: (ret: number, fwError: number, fwText: string) =>
    `sev_launch_start: LAUNCH_START ret=${ret} fw_error=${fwError} '${fwText}'`,
  /** KVM's ioctl failure for SNP_LAUNCH_START (sev-hardware.md §2.4 item 6, the -22 sample). */
  snpLaunchStart: (ret: number, fwError: number) =>
    `sev_snp_launch_start: SNP_LAUNCH_START ret=${ret} fw_error=${fwError} '${fwError === 0 ? '' : qemuFwErrorString(fwError)}'`,
  /**
   * sev_snp_launch_finish (QEMU 9.1+): error_report when the first run ends the launch, so no
   * `-accel kvm:` location and no function name (the pre-merge patches printed `%s:`).
   */
  snpLaunchFinish: (ret: number, fwError: number) =>
    `SNP_LAUNCH_FINISH ret=${ret} fw_error=${fwError} '${qemuFwErrorString(fwError)}'`,
  snpNoSmm: 'SEV-SNP does not support SMM.',
  encryptionContext: (fn: string) => `${fn}: failed to create encryption context`,
  registerRegion: (hostAddr: bigint, size: number, strerror: string) =>
    `sev_ram_block_added: failed to register region (0x${hostAddr.toString(16)}+0x${size.toString(16)}) error '${strerror}'`,
  launchFinish: (ret: number, fwError: number, fwText: string) =>
    `sev_launch_finish: LAUNCH_FINISH ret=${ret} fw_error=${fwError} '${fwText}'`,
  kvmInitFailed: 'failed to initialize kvm: Operation not permitted',
  migrationBlocker: 'SEV: Migration is not implemented',
  notInLaunchSecret: (state: number) => `SEV: Not in correct state. (LSECRET) ${state.toString(16)}`,
  /** sev_add_kernel_loader_hashes (QEMU 7.0+) when OVMF has no hashes-table block, or a zero one. */
  noHashesTable: 'SEV: kernel specified but guest firmware has no hashes table GUID',
  hashesTableInvalid: (base: number, size: number) => `SEV: guest firmware hashes table area is invalid (base=0x${base.toString(16)} size=0x${size.toString(16)})`,
  noSecretArea: 'SEV: no secret area found in OVMF, gpa must be specified.',
} as const;

/** QEMU ≥ 5.2 is started by libvirt with `-accel kvm`, so its init errors carry that prefix. */
export const accelPrefix = byVersion((qemuVersion) => (versionAtLeast(qemuVersion, 5, 2) ? '-accel kvm: ' : ''));
