/**
 * SNP_GUEST_REQUEST with MSG_REPORT_REQ, as the AMD-SP answers a running SNP guest (the guest's
 * /dev/sev-guest SNP_GET_REPORT): an ATTESTATION_REPORT over the guest's launch, its policy, the
 * platform's TCB and chip id, and the 64 bytes of REPORT_DATA the guest chose, signed with the VCEK
 * for the reported TCB.
 */
import { createHmac } from 'node:crypto';
import type { LaunchSecurity } from '../../libvirt/domain-def.ts';
import type { HardwareProfile } from '../../profile/schema.ts';
import type { CpuSignature } from '../vmsa.ts';
import { encodeReport, PlatformInfo, signReport, SigningKey, SIG_ALGO_ECDSA_P384_SHA384, type AttestationReport } from './attestation-report.ts';
import { snpLaunchMeasurement } from './guest-measurement.ts';
import { ID_AUTH, ID_BLOCK, keyDigest } from './id-block.ts';
import { encodeTcb, type TcbVersion } from './product.ts';
import { snpChipOf, vcekKeyPair } from './vcek.ts';

export const REPORT_DATA_SIZE = 64;

/** Why a report cannot be had; each text names the rule that refuses it. */
export const SNP_REPORT_ERRORS = {
  notSnp: (name: string) => `domain '${name}' is not an SEV-SNP guest: only SNP guests can request an attestation report (SNP_GUEST_REQUEST MSG_REPORT_REQ)`,
  notRunning: (name: string) => `domain '${name}' is not running: the guest itself requests its attestation report (SNP_GUEST_REQUEST MSG_REPORT_REQ)`,
  paused: (name: string) => `domain '${name}' is paused: its vCPUs cannot issue SNP_GUEST_REQUEST until it is resumed`,
  reportDataSize: (got: number) => `REPORT_DATA must be exactly ${REPORT_DATA_SIZE} bytes (got ${got})`,
  vmpl: (vmpl: number) => `VMPL ${vmpl} is out of range: a report is requested for VMPL 0-3`,
  noTcb: (profile: string) => `profile '${profile}' states no SNP TCB (firmware.snpTcb), so the fake cannot derive a VCEK for its reports`,
  vcekDisabled: (name: string) => `domain '${name}' was launched with vcek='no' and the fake platform has no VLEK loaded: the firmware has no key to sign its report with`,
} as const;

/** A refusal of SNP_GUEST_REQUEST; `message` is one of SNP_REPORT_ERRORS. */
export class SnpGuestRequestError extends Error {
  override readonly name = 'SnpGuestRequestError';
}

/** What the host knows about the guest asking. */
export interface SnpGuestView {
  readonly name: string;
  readonly uuid: string;
  readonly launchSecurity: LaunchSecurity | null | undefined;
  readonly state: 'running' | 'paused' | 'inactive';
  readonly vcpus: number;
  /** The firmware bytes its launch measured. */
  readonly firmware: Buffer;
  /** The CPU signature its vCPUs were given (the VMSAs' RDX). */
  readonly cpu: CpuSignature;
  /** The kernel-hashes table its launch measured (kernelHashes='yes' with `<kernel>`), if any. */
  readonly kernelHashes?: Buffer;
  /** Distinguishes launches of the same domain: REPORT_ID is fresh per launch. */
  readonly launchId: number;
}

export interface SnpReportRequest {
  /** The VMPL the report is requested for (MSG_REPORT_REQ VMPL); 0 unless given. */
  readonly vmpl?: number;
}

const zeros = (n: number) => Buffer.alloc(n);

function launchIdentity(ls: Extract<LaunchSecurity, { type: 'sev-snp' }>) {
  const block = ls.idBlock ? Buffer.from(ls.idBlock, 'base64') : null;
  const auth = ls.idAuth ? Buffer.from(ls.idAuth, 'base64') : null;
  const hostData = ls.hostData ? Buffer.from(ls.hostData, 'base64') : null;
  // Only blobs of the ABI's sizes are read; QEMU passes anything else on for the firmware to refuse.
  const id = block?.length === ID_BLOCK.SIZE ? block : null;
  const authOk = auth?.length === ID_AUTH.SIZE ? auth : null;
  const authorKeyEn = !!(authOk && ls.authorKey);
  return {
    familyId: id ? Buffer.from(id.subarray(ID_BLOCK.FAMILY_ID, ID_BLOCK.FAMILY_ID + 16)) : zeros(16),
    imageId: id ? Buffer.from(id.subarray(ID_BLOCK.IMAGE_ID, ID_BLOCK.IMAGE_ID + 16)) : zeros(16),
    guestSvn: id ? id.readUInt32LE(ID_BLOCK.GUEST_SVN) : 0,
    idKeyDigest: authOk ? keyDigest(authOk, 'id') : zeros(48),
    authorKeyDigest: authorKeyEn ? keyDigest(authOk!, 'author') : zeros(48),
    authorKeyEn,
    hostData: hostData?.length === 32 ? hostData : zeros(32),
  };
}

/** The signed 0x4A0-byte report the firmware returns to the guest. */
export function snpGuestReport(profile: HardwareProfile, guest: SnpGuestView, reportData: Uint8Array, req: SnpReportRequest = {}): Buffer {
  const ls = guest.launchSecurity;
  if (ls?.type !== 'sev-snp') throw new SnpGuestRequestError(SNP_REPORT_ERRORS.notSnp(guest.name));
  if (guest.state === 'inactive') throw new SnpGuestRequestError(SNP_REPORT_ERRORS.notRunning(guest.name));
  if (guest.state === 'paused') throw new SnpGuestRequestError(SNP_REPORT_ERRORS.paused(guest.name));
  if (reportData.length !== REPORT_DATA_SIZE) throw new SnpGuestRequestError(SNP_REPORT_ERRORS.reportDataSize(reportData.length));
  const vmpl = req.vmpl ?? 0;
  if (!Number.isInteger(vmpl) || vmpl < 0 || vmpl > 3) throw new SnpGuestRequestError(SNP_REPORT_ERRORS.vmpl(vmpl));
  if (ls.vcek === false) throw new SnpGuestRequestError(SNP_REPORT_ERRORS.vcekDisabled(guest.name));
  const chip = snpChipOf(profile);
  const fw = profile.firmware;
  const tcbFacts = fw?.snpTcb;
  if (!chip || !fw || !tcbFacts) throw new SnpGuestRequestError(SNP_REPORT_ERRORS.noTcb(profile.name));

  // No SNP_CONFIG or SNP_COMMIT is modelled: reported, committed, launch and current TCB are the same.
  const tcb: TcbVersion = tcbFacts;
  const tcbBytes = encodeTcb(chip.product.tcbLayout, tcb);
  const id = launchIdentity(ls);
  const v3 = chip.product.reportVersion >= 3;
  const report: AttestationReport = {
    version: chip.product.reportVersion,
    guestSvn: id.guestSvn,
    policy: ls.policy,
    familyId: id.familyId,
    imageId: id.imageId,
    vmpl,
    signatureAlgo: SIG_ALGO_ECDSA_P384_SHA384,
    currentTcb: tcbBytes,
    platformInfo: profile.cpu.threadsPerCore > 1 ? PlatformInfo.SMT_EN : 0n,
    flags: (id.authorKeyEn ? 1 : 0) | (SigningKey.VCEK << 2),
    reportData: Buffer.from(reportData),
    measurement: snpLaunchMeasurement({ firmware: guest.firmware, vcpus: guest.vcpus, cpu: guest.cpu, ...(guest.kernelHashes && { kernelHashes: guest.kernelHashes }) }),
    hostData: id.hostData,
    idKeyDigest: id.idKeyDigest,
    authorKeyDigest: id.authorKeyDigest,
    // REPORT_ID: chosen by the firmware at launch and kept for the guest's lifetime.
    reportId: createHmac('sha256', chip.secret).update(`report-id\0${guest.uuid}\0${guest.launchId}`).digest(),
    // No migration agent: all ones (SNP ABI).
    reportIdMa: Buffer.alloc(32, 0xff),
    reportedTcb: tcbBytes,
    cpuidFamId: v3 ? profile.cpu.family : 0,
    cpuidModId: v3 ? profile.cpu.model : 0,
    cpuidStep: v3 ? profile.cpu.stepping : 0,
    chipId: chip.chipId,
    committedTcb: tcbBytes,
    currentBuild: fw.build,
    currentMinor: fw.apiMinor,
    currentMajor: fw.apiMajor,
    committedBuild: fw.build,
    committedMinor: fw.apiMinor,
    committedMajor: fw.apiMajor,
    launchTcb: tcbBytes,
    signatureR: zeros(72),
    signatureS: zeros(72),
  };
  return signReport(encodeReport(report), vcekKeyPair(chip, tcb).privateKey);
}
