/**
 * QEMU's sev-guest start, step by step as QEMU, KVM and the firmware run it: the init checks in
 * QEMU's order (target/i386/sev.c), KVM's ASID allocation, LAUNCH_START/ACTIVATE, RAM
 * registration against RLIMIT_MEMLOCK, LAUNCH_UPDATE of the firmware image, LAUNCH_MEASURE.
 * A failure is a `QemuExit` carrying the lines QEMU printed before exiting; partial state
 * (ASID, firmware context, pinned pages) is released as the kernel releases it when QEMU dies.
 */
import { SevFirmwareError, SevStatus, qemuFwErrorString } from '../firmware/status.ts';
import type { LaunchMeasureResult, SevFirmware } from '../firmware/sev-firmware.ts';
import { kernelHashesTable, type DirectKernelBoot, type SecretEntry } from '../firmware/guid-tables.ts';
import { ovmfImage, type FirmwareImage, type OvmfArea } from '../firmware/ovmf.ts';
import { sharedLaunchVmsas, type CpuSignature } from '../firmware/vmsa.ts';
import { snpLaunchMeasurement } from '../firmware/snp/guest-measurement.ts';
import { idBlockRefusal } from '../firmware/snp/id-block.ts';
import { SnpGuestPolicy } from '../firmware/policy.ts';
import { KvmError } from '../kvm/errno.ts';
import type { LaunchSecurity } from '../libvirt/domain-def.ts';
import type { CpuidSev, KernelSevState } from '../profile/derive.ts';
import { GUEST_REDUCED_PHYS_BITS } from '../profile/derive.ts';
import { versionAtLeast } from '../profile/version.ts';
import { accelPrefix, qemuSevText, sevInitFunction } from './messages.ts';

export type AsidKind = 'sev' | 'sev-es' | 'sev-snp';

/** A secret the firmware wrote into the guest: where, and what the guest reads there. */
export interface InjectedSecret {
  readonly gpa: number;
  readonly plaintext: Buffer;
  /** OVMF's secret table decoded, when the plaintext is one (what the validator injects). */
  readonly entries: readonly SecretEntry[] | null;
}

export interface SevGuestRuntime {
  readonly kind: AsidKind;
  readonly asid: number;
  readonly handle: number;
  readonly policy: number | bigint;
  readonly cbitpos: number;
  readonly reducedPhysBits: number;
  /** LAUNCH_MEASURE's blob, MEASURE(32) ‖ MNONCE(16). */
  readonly measurement: Buffer;
  /** SHA-256 of the firmware image that was measured (what a guest owner compares). */
  readonly firmwareSha256: string;
  /** OVMF's launch-secret area, where an injected secret goes by default (none without the block). */
  readonly secretArea: OvmfArea | null;
  /** Secrets injected by LAUNCH_SECRET, in order. */
  readonly launchSecrets: InjectedSecret[];
}

/** A guest whose launch went through; what the firmware measured is read through when asked for. */
class LaunchedGuest implements SevGuestRuntime {
  readonly secretArea: OvmfArea | null;
  readonly launchSecrets: InjectedSecret[] = [];

  constructor(
    readonly kind: AsidKind,
    readonly asid: number,
    readonly handle: number,
    readonly policy: number | bigint,
    readonly cbitpos: number,
    readonly reducedPhysBits: number,
    private readonly measured: LaunchMeasureResult,
    private readonly image: FirmwareImage,
  ) {
    this.secretArea = image.table?.secretArea ?? null;
  }

  /** The firmware computes it when first asked (DeferredMeasurement says why that is the same). */
  get measurement(): Buffer {
    return this.measured.measurement;
  }

  get firmwareSha256(): string {
    return this.image.sha256;
  }
}

/** QEMU exited during start; `lines` are its stderr, `kernelLog` what the host kernel logged. */
export class QemuExit extends Error {
  constructor(
    readonly lines: readonly string[],
    readonly kernelLog: readonly string[] = [],
  ) {
    super(lines.join('\n'));
    this.name = 'QemuExit';
  }
}

/** What the launch needs from the host; each port is the real component's entry point. */
export interface SevLaunchPorts {
  readonly qemuVersion: string;
  readonly cpuid: CpuidSev;
  readonly kernel: KernelSevState;
  readonly devSevPresent: boolean;
  /** Why QEMU (the qemu user) cannot open an existing /dev/sev, e.g. 'Permission denied'; absent when it can. */
  readonly devSevOpenError?: string;
  readonly firmware: SevFirmware;
  /** The host runs with SMT (two threads per core): an SNP policy must then allow SMT. */
  readonly smtActive: boolean;
  /** The host CPU's family/model/stepping: KVM puts it in each vCPU's reset RDX (the SEV-ES VMSA). */
  readonly hostCpu: CpuSignature;
  /** KVM's ASID allocator (kvm/asid-pool.ts). */
  readonly asids: { allocate(kind: AsidKind): number; free(asid: number): void };
  /** The VM's RLIMIT_MEMLOCK account (memory/pinning.ts): a pin past the limit throws KvmError(ENOMEM). */
  readonly memlock: { pin(bytes: number): number; unpin(pages: number): void; readonly pagesLocked: number };
}

export interface SevLaunchRequest {
  readonly launchSecurity: LaunchSecurity;
  readonly cbitposFromCaps: number;
  readonly vcpus: number;
  /** Guest memory regions in the order QEMU registers them, KiB each. */
  readonly regions: readonly { readonly name: string; readonly kib: number }[];
  readonly firmwareImage: FirmwareImage;
  /** `<os><kernel>` boot: with kernelHashes='yes' QEMU measures the hashes table after the firmware. */
  readonly directBoot?: DirectKernelBoot;
  /** The domain asks for SMM explicitly (`<features><smm state='on'/>`). */
  readonly smmOn?: boolean;
}

const SNP_CONTEXT_POLICY = 0x4;

const fw = (e: SevFirmwareError) => ({ code: e.status, text: qemuFwErrorString(e.status) });

/** A plausible host virtual address for a RAM block, for QEMU's register-region message. */
function hostAddress(index: number): bigint {
  return 0x7f0000000000n + BigInt(index) * 0x100000000n + 0x6bb000n;
}

/** QEMU's sev-guest init failed: its line, then KVM's, both under `-accel kvm:` when QEMU prints that. */
function initFailure(prefix: string, line: string): QemuExit {
  return new QemuExit([prefix + line, prefix + qemuSevText.kvmInitFailed]);
}

/** What the kernel releases when QEMU dies mid-launch: the firmware context, the ASID, the pins. */
function releaseLaunch(ports: SevLaunchPorts, handle: number, asid: number): void {
  if (handle >= 0) {
    try { ports.firmware.deactivate(handle); } catch { /* the context may not be active yet */ }
    try { ports.firmware.decommission(handle); } catch { /* already gone */ }
  }
  ports.asids.free(asid);
  ports.memlock.unpin(ports.memlock.pagesLocked);
}

export function launchSevGuest(ports: SevLaunchPorts, req: SevLaunchRequest): SevGuestRuntime {
  const fn = sevInitFunction(ports.qemuVersion);
  const prefix = accelPrefix(ports.qemuVersion);
  const ls = req.launchSecurity;
  const snp = ls.type === 'sev-snp';
  const es = !snp && (ls.policy & 0x4) !== 0;
  const kind: AsidKind = snp ? 'sev-snp' : es ? 'sev-es' : 'sev';

  // 1–3: the property checks, in QEMU's order.
  const cbitpos = ls.cbitpos ?? req.cbitposFromCaps;
  if (cbitpos !== ports.cpuid.cbitpos) throw initFailure(prefix, qemuSevText.cbitposMismatch(fn, ports.cpuid.cbitpos, cbitpos));
  const rpb = ls.reducedPhysBits ?? GUEST_REDUCED_PHYS_BITS;
  const rpbOk = rpb >= 1 && (rpb <= 63 || !versionAtLeast(ports.qemuVersion, 8, 0));
  if (!rpbOk) throw initFailure(prefix, qemuSevText.reducedPhysBits(ports.qemuVersion, fn, rpb));
  if (!ports.devSevPresent || ports.devSevOpenError) {
    throw initFailure(prefix, qemuSevText.openDevice(fn, '/dev/sev', ports.devSevOpenError ?? 'No such file or directory'));
  }

  // SNP cannot run with SMM: QEMU turns an automatic SMM off, an explicit one fails (§4.2 item 9).
  if (snp && req.smmOn) throw initFailure(prefix, qemuSevText.snpNoSmm);

  // 4–5: platform status and the SEV-ES requirements.
  let configEs = false;
  try {
    configEs = (ports.firmware.platformStatus().flags & (1 << 8)) !== 0;
  } catch (e) {
    if (!(e instanceof SevFirmwareError)) throw e;
    const f = fw(e);
    throw initFailure(prefix, qemuSevText.platformStatus(fn, -1, f.code, f.text));
  }
  if ((es || snp) && !configEs) throw initFailure(prefix, qemuSevText.esUnavailable(fn));

  // 6: KVM_SEV_INIT / KVM_SEV_ES_INIT: KVM allocates the ASID here.
  const kvmEnabled = snp ? ports.kernel.snpEnabled : es ? ports.kernel.sevEsEnabled : ports.kernel.sevEnabled;
  if (!kvmEnabled) throw initFailure(prefix, qemuSevText.kvmInit(fn, -25, 0, ''));
  let asid: number;
  try {
    asid = ports.asids.allocate(kind);
  } catch (e) {
    if (!(e instanceof KvmError)) throw e;
    throw initFailure(prefix, qemuSevText.kvmInit(fn, e.ret, 0, ''));
  }

  // 7: LAUNCH_START, then ACTIVATE binds the guest's key to the ASID.
  let handle = -1;
  if (snp) {
    const refusal = snpLaunchStartRefusal(SnpGuestPolicy.parse(ls.policy as bigint), ports);
    if (refusal) {
      releaseLaunch(ports, handle, asid);
      throw new QemuExit([qemuSevText.snpLaunchStart(refusal.ret, refusal.fwError), prefix + qemuSevText.encryptionContext(fn), prefix + qemuSevText.kvmInitFailed]);
    }
  }
  try {
    // SNP contexts use the ES ASID range; the SEV firmware model stands in for SNP_LAUNCH_START
    // with the ES bit, since the SNP firmware's state machine is not modelled separately.
    handle = ports.firmware.launchStart(snp ? SNP_CONTEXT_POLICY : (ls.policy as number), ownerSessionOf(ls));
    ports.firmware.activate(handle, asid, kind !== 'sev');
  } catch (e) {
    releaseLaunch(ports, handle, asid);
    if (!(e instanceof SevFirmwareError)) throw e;
    const f = fw(e);
    throw new QemuExit([
      qemuSevText.launchStart(-5, f.code, f.text),
      prefix + qemuSevText.encryptionContext(fn),
      prefix + qemuSevText.kvmInitFailed,
    ]);
  }

  // 8: every RAM block is registered (and pinned) as QEMU creates it. SNP guest memory is
  // guest_memfd: nothing is registered or pinned (sev-hardware.md §5.1).
  for (let i = 0; !snp && i < req.regions.length; i++) {
    const r = req.regions[i]!;
    try {
      ports.memlock.pin(r.kib * 1024);
    } catch (e) {
      releaseLaunch(ports, handle, asid);
      if (!(e instanceof KvmError)) throw e;
      throw new QemuExit([qemuSevText.registerRegion(hostAddress(i), r.kib * 1024, e.message.replace(/^.*?: /, ''))], e.kernelLog);
    }
  }

  // 9: with kernel-hashes, QEMU places the hashes table in OVMF's reserved area; an image without
  // one makes QEMU exit while loading the kernel (x86_load_linux, error_fatal: no accel prefix).
  const img = req.firmwareImage;
  const hashes = !snp && ls.kernelHashes && req.directBoot ? kernelHashesTable(req.directBoot) : null;
  if (hashes) {
    const area = img.table?.hashTableArea;
    const refusal = !area
      ? qemuSevText.noHashesTable
      : area.base === 0 || area.size < hashes.length ? qemuSevText.hashesTableInvalid(area.base, area.size) : null;
    if (refusal) {
      releaseLaunch(ports, handle, asid);
      throw new QemuExit([refusal]);
    }
  }

  // 10–11: encrypt and measure the firmware, the hashes table and, for ES, each vCPU's register state.
  try {
    ports.firmware.launchUpdateData(handle, img.bytes);
    if (hashes) ports.firmware.launchUpdateData(handle, hashes);
    if (es || snp) {
      // No SEV-ES reset block (not an OVMF image): the APs keep the architectural reset vector.
      const apReset = img.table?.sevEsResetAddr ?? 0xfffffff0;
      for (const vmsa of sharedLaunchVmsas(req.vcpus, ports.hostCpu, apReset)) ports.firmware.launchUpdateVmsa(handle, vmsa);
    }
    const m = ports.firmware.launchMeasure(handle);
    if (snp) checkSnpIdBlock(ls, { firmware: img.bytes, vcpus: req.vcpus, cpu: ports.hostCpu, directBoot: req.directBoot });
    return new LaunchedGuest(kind, asid, handle, ls.policy, cbitpos, rpb, m, img);
  } catch (e) {
    // A refused ID block (QemuExit) releases the context like a failed update does.
    releaseLaunch(ports, handle, asid);
    if (!(e instanceof SevFirmwareError)) throw e;
    const f = fw(e);
    throw new QemuExit([`sev_launch_update_data: LAUNCH_UPDATE ret=-5 fw_error=${f.code} '${f.text}'`, 'SEV: Failed to encrypt pflash rom']);
  }
}

/**
 * Why SNP_LAUNCH_START fails for this policy, as KVM (-EINVAL, sev-hardware.md §3.2) or the SNP
 * firmware (-EIO with POLICY_FAILURE) refuses it; null when the launch may start. The firmware rules
 * — SMT must be allowed on an SMT host, the policy's ABI minimum must not exceed the firmware's —
 * come from the SEV-SNP firmware ABI's SNP_LAUNCH_START, not from the shared reference.
 */
function snpLaunchStartRefusal(policy: SnpGuestPolicy, ports: Pick<SevLaunchPorts, 'smtActive' | 'firmware'>): { ret: number; fwError: number } | null {
  if (policy.kvmValidity() !== null) return { ret: -22, fwError: 0 };
  const fwTooOld = policy.abiMajor > ports.firmware.apiMajor || (policy.abiMajor === ports.firmware.apiMajor && policy.abiMinor > ports.firmware.apiMinor);
  if ((ports.smtActive && !policy.smt) || fwTooOld) return { ret: -5, fwError: SevStatus.POLICY_FAILURE };
  return null;
}

/**
 * SNP_LAUNCH_FINISH with the owner's ID block (`<idBlock>`, `<idAuth>`, authorKey='yes', passed by
 * libvirt as sev-snp-guest's id-block, id-auth, author-key-enabled): the firmware checks it against
 * the launch digest it computed, the same digest the attestation report carries. Without an ID
 * block the firmware checks nothing. QEMU exits on a refusal (-EIO from KVM).
 */
function checkSnpIdBlock(
  ls: LaunchSecurity,
  launch: { firmware: Buffer; vcpus: number; cpu: CpuSignature; directBoot: DirectKernelBoot | undefined },
): void {
  if (ls.type !== 'sev-snp' || ls.idBlock === undefined) return;
  const hashes = ls.kernelHashes && launch.directBoot ? kernelHashesTable(launch.directBoot) : null;
  const measurement = snpLaunchMeasurement({ firmware: launch.firmware, vcpus: launch.vcpus, cpu: launch.cpu, ...(hashes && { kernelHashes: hashes }) });
  const refusal = idBlockRefusal({
    idBlock: Buffer.from(ls.idBlock, 'base64'),
    idAuth: Buffer.from(ls.idAuth ?? '', 'base64'),
    authorKeyEnabled: ls.authorKey === true,
    measurement,
    policy: ls.policy,
  });
  if (refusal) throw new QemuExit([qemuSevText.snpLaunchFinish(-5, refusal.status)]);
}

/**
 * `<dhCert>` and `<session>` as QEMU hands them to LAUNCH_START: libvirt writes each to a file,
 * QEMU base64-decodes the file (leniently, as g_base64_decode does). Either alone still goes to the
 * firmware, which then refuses the launch.
 */
function ownerSessionOf(ls: LaunchSecurity): { ownerSession?: { dhCert: Buffer; session: Buffer } } {
  if (ls.type !== 'sev' || (ls.dhCert === undefined && ls.session === undefined)) return {};
  return { ownerSession: { dhCert: Buffer.from(ls.dhCert ?? '', 'base64'), session: Buffer.from(ls.session ?? '', 'base64') } };
}

export type { FirmwareImage } from '../firmware/ovmf.ts';

/** The firmware image QEMU maps for a loader path (this machine's file, else synthesized). */
export function firmwareImageOf(path: string): FirmwareImage {
  return ovmfImage(path);
}
