/**
 * QEMU's sev-guest start, step by step as QEMU, KVM and the firmware run it: the init checks in
 * QEMU's order (target/i386/sev.c), KVM's ASID allocation, LAUNCH_START/ACTIVATE, RAM
 * registration against RLIMIT_MEMLOCK, LAUNCH_UPDATE of the firmware image, LAUNCH_MEASURE.
 * A failure is a `QemuExit` carrying the lines QEMU printed before exiting; partial state
 * (ASID, firmware context, pinned pages) is released as the kernel releases it when QEMU dies.
 */
import { createHash } from 'node:crypto';
import { SevFirmwareError, SevStatus, qemuFwErrorString } from '../firmware/status.ts';
import type { SevFirmware } from '../firmware/sev-firmware.ts';
import { markUnchanging } from '../firmware/measurement.ts';
import { SnpGuestPolicy } from '../firmware/policy.ts';
import { KvmError } from '../kvm/errno.ts';
import type { LaunchSecurity } from '../libvirt/domain-def.ts';
import type { CpuidSev, KernelSevState } from '../profile/derive.ts';
import { GUEST_REDUCED_PHYS_BITS } from '../profile/derive.ts';
import { versionAtLeast } from '../profile/version.ts';
import { accelPrefix, qemuSevText, sevInitFunction } from './messages.ts';

export type AsidKind = 'sev' | 'sev-es' | 'sev-snp';

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
  readonly firmware: SevFirmware;
  /** The host runs with SMT (two threads per core): an SNP policy must then allow SMT. */
  readonly smtActive: boolean;
  allocateAsid(kind: AsidKind): number;
  freeAsid(asid: number): void;
  /** Pins `kib` of guest memory for region `name`; throws KvmError(ENOMEM) past RLIMIT_MEMLOCK. */
  pinRegion(name: string, kib: number): void;
  unpinAll(): void;
}

export interface SevLaunchRequest {
  readonly launchSecurity: LaunchSecurity;
  readonly cbitposFromCaps: number;
  readonly vcpus: number;
  /** Guest memory regions in the order QEMU registers them, KiB each. */
  readonly regions: readonly { readonly name: string; readonly kib: number }[];
  readonly firmwareImage: FirmwareImage;
  /** The domain asks for SMM explicitly (`<features><smm state='on'/>`). */
  readonly smmOn?: boolean;
}

const SNP_CONTEXT_POLICY = 0x4;

const fw = (e: SevFirmwareError) => ({ code: e.status, text: qemuFwErrorString(e.status) });

/** A plausible host virtual address for a RAM block, for QEMU's register-region message. */
function hostAddress(index: number): bigint {
  return 0x7f0000000000n + BigInt(index) * 0x100000000n + 0x6bb000n;
}

export function launchSevGuest(ports: SevLaunchPorts, req: SevLaunchRequest): SevGuestRuntime {
  const fn = sevInitFunction(ports.qemuVersion);
  const prefix = accelPrefix(ports.qemuVersion);
  const fail = (...lines: string[]): never => {
    throw new QemuExit([...lines.map((l) => prefix + l), prefix + qemuSevText.kvmInitFailed]);
  };
  const ls = req.launchSecurity;
  const snp = ls.type === 'sev-snp';
  const es = !snp && (ls.policy & 0x4) !== 0;
  const kind: AsidKind = snp ? 'sev-snp' : es ? 'sev-es' : 'sev';

  // 1–3: the property checks, in QEMU's order.
  const cbitpos = ls.cbitpos ?? req.cbitposFromCaps;
  if (cbitpos !== ports.cpuid.cbitpos) fail(qemuSevText.cbitposMismatch(fn, ports.cpuid.cbitpos, cbitpos));
  const rpb = ls.reducedPhysBits ?? GUEST_REDUCED_PHYS_BITS;
  const rpbOk = versionAtLeast(ports.qemuVersion, 8, 0) ? rpb >= 1 && rpb <= 63 : rpb >= 1;
  if (!rpbOk) fail(qemuSevText.reducedPhysBits(ports.qemuVersion, fn, rpb));
  if (!ports.devSevPresent) fail(qemuSevText.openDevice(fn, '/dev/sev', 'No such file or directory'));

  // SNP cannot run with SMM: QEMU turns an automatic SMM off, an explicit one fails (§4.2 item 9).
  if (snp && req.smmOn) fail(qemuSevText.snpNoSmm);

  // 4–5: platform status and the SEV-ES requirements.
  let configEs = false;
  try {
    configEs = (ports.firmware.platformStatus().flags & (1 << 8)) !== 0;
  } catch (e) {
    if (!(e instanceof SevFirmwareError)) throw e;
    const f = fw(e);
    fail(qemuSevText.platformStatus(fn, -1, f.code, f.text));
  }
  if ((es || snp) && !configEs) fail(qemuSevText.esUnavailable(fn));

  // 6: KVM_SEV_INIT / KVM_SEV_ES_INIT: KVM allocates the ASID here.
  const kvmEnabled = snp ? ports.kernel.snpEnabled : es ? ports.kernel.sevEsEnabled : ports.kernel.sevEnabled;
  if (!kvmEnabled) fail(qemuSevText.kvmInit(fn, -25, 0, ''));
  let asid: number;
  try {
    asid = ports.allocateAsid(kind);
  } catch (e) {
    if (!(e instanceof KvmError)) throw e;
    return fail(qemuSevText.kvmInit(fn, e.ret, 0, ''));
  }

  // 7: LAUNCH_START, then ACTIVATE binds the guest's key to the ASID.
  let handle = -1;
  const release = () => {
    if (handle >= 0) {
      try { ports.firmware.deactivate(handle); } catch { /* the context may not be active yet */ }
      try { ports.firmware.decommission(handle); } catch { /* already gone */ }
    }
    ports.freeAsid(asid);
    ports.unpinAll();
  };
  if (snp) {
    const refusal = snpLaunchStartRefusal(SnpGuestPolicy.parse(ls.policy as bigint), ports);
    if (refusal) {
      release();
      throw new QemuExit([qemuSevText.snpLaunchStart(refusal.ret, refusal.fwError), prefix + qemuSevText.encryptionContext(fn), prefix + qemuSevText.kvmInitFailed]);
    }
  }
  try {
    // SNP contexts use the ES ASID range; the SEV firmware model stands in for SNP_LAUNCH_START
    // with the ES bit, since the SNP firmware's state machine is not modelled separately.
    handle = ports.firmware.launchStart(snp ? SNP_CONTEXT_POLICY : (ls.policy as number));
    ports.firmware.activate(handle, asid, kind !== 'sev');
  } catch (e) {
    release();
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
  for (const [i, r] of snp ? [] : req.regions.entries()) {
    try {
      ports.pinRegion(r.name, r.kib);
    } catch (e) {
      release();
      if (!(e instanceof KvmError)) throw e;
      throw new QemuExit([qemuSevText.registerRegion(hostAddress(i), r.kib * 1024, e.message.replace(/^.*?: /, ''))], e.kernelLog);
    }
  }

  // 9–10: encrypt and measure the firmware (and, for ES, each vCPU's register state).
  try {
    ports.firmware.launchUpdateData(handle, req.firmwareImage.bytes);
    if (es || snp) for (let v = 0; v < req.vcpus; v++) ports.firmware.launchUpdateVmsa(handle, vmsaFor(v));
    const m = ports.firmware.launchMeasure(handle);
    return {
      kind,
      asid,
      handle,
      policy: ls.policy,
      cbitpos,
      reducedPhysBits: rpb,
      measurement: m.measurement,
      firmwareSha256: req.firmwareImage.sha256,
    };
  } catch (e) {
    release();
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

/** A stand-in VMSA: the BSP and APs differ only in their reset vector, as in a real launch. */
function vmsaFor(vcpu: number): Buffer {
  const b = Buffer.alloc(4096);
  b.writeUInt32LE(vcpu === 0 ? 0xfffffff0 : 0xfffff000, 0x168);
  return b;
}

/** A firmware image and its SHA-256. The launch only reads the bytes (it measures them). */
export interface FirmwareImage {
  readonly bytes: Buffer;
  readonly sha256: string;
}
const FIRMWARE_IMAGES = new Map<string, FirmwareImage>();
const MAX_CACHED_IMAGES = 64;

/**
 * The firmware bytes QEMU would map for a loader path: deterministic per path, so measurements
 * repeat; made once per path (a host has a handful of firmware files) and never written to.
 */
export function firmwareImageOf(path: string): FirmwareImage {
  let img = FIRMWARE_IMAGES.get(path);
  if (!img) {
    const seed = createHash('sha256').update(`ovmf:${path}`).digest();
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0; i < bytes.length; i += seed.length) seed.copy(bytes, i);
    img = { bytes: markUnchanging(bytes), sha256: createHash('sha256').update(bytes).digest('hex') };
    if (FIRMWARE_IMAGES.size >= MAX_CACHED_IMAGES) FIRMWARE_IMAGES.clear();
    FIRMWARE_IMAGES.set(path, img);
  }
  return img;
}
