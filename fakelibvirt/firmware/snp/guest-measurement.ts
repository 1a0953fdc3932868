/**
 * What the fake's SNP launch measures, as a guest owner would recompute it: the firmware image QEMU
 * maps just below 4 GiB, added page by page as NORMAL pages (SNP_LAUNCH_UPDATE), then one VMSA page
 * per vCPU at KVM's VMSA address. Not covered, unlike a real OVMF.amdsev launch: the zero, secrets,
 * CPUID and kernel-hashes pages that OVMF's SEV metadata section lists (the fake's firmware bytes
 * carry no such section), and the real VMSA register values (the fake writes a stand-in per vCPU).
 */
import { SNP_PAGE_SIZE, SNP_VMSA_GPA, SnpLaunchDigest, SnpPageType } from './launch-digest.ts';

const FOUR_GIB = 0x1_0000_0000n;

/** VMSA fields the stand-in sets (AMD APM vol. 2, "VMSA layout"). */
const VMSA = { CS_SELECTOR: 0x10, CS_BASE: 0x18, RIP: 0x178, SEV_FEATURES: 0x3b0 } as const;
/** SEV_FEATURES bit 0: SNPActive. */
const SNP_ACTIVE = 1n;

/**
 * A vCPU's initial VMSA: real mode at the reset vector; the BSP starts at F000:FFF0 and the APs at
 * the AP reset block below it. Only these fields are set; the fake does not model the rest.
 */
export function snpVmsaStandIn(vcpu: number): Buffer {
  const page = Buffer.alloc(SNP_PAGE_SIZE);
  page.writeUInt16LE(0xf000, VMSA.CS_SELECTOR);
  page.writeBigUInt64LE(vcpu === 0 ? 0xffff0000n : 0xfffff000n, VMSA.CS_BASE);
  page.writeBigUInt64LE(vcpu === 0 ? 0xfff0n : 0x0n, VMSA.RIP);
  page.writeBigUInt64LE(SNP_ACTIVE, VMSA.SEV_FEATURES);
  return page;
}

export interface SnpLaunchInput {
  /** The firmware image's bytes, as the domain's `<loader>` names it. */
  readonly firmware: Uint8Array;
  readonly vcpus: number;
}

const CACHE = new WeakMap<Uint8Array, Map<number, Buffer>>();

/** MEASUREMENT (48 bytes) of an SNP launch of `firmware` with `vcpus` vCPUs. */
export function snpLaunchMeasurement(input: SnpLaunchInput): Buffer {
  let byVcpus = CACHE.get(input.firmware);
  const hit = byVcpus?.get(input.vcpus);
  if (hit) return Buffer.from(hit);
  const ld = new SnpLaunchDigest();
  const size = BigInt(Math.ceil(input.firmware.length / SNP_PAGE_SIZE) * SNP_PAGE_SIZE);
  ld.addNormalPages(FOUR_GIB - size, input.firmware);
  for (let v = 0; v < input.vcpus; v++) ld.addPage(SnpPageType.VMSA, SNP_VMSA_GPA, snpVmsaStandIn(v));
  const m = ld.value();
  if (!byVcpus) CACHE.set(input.firmware, (byVcpus = new Map()));
  byVcpus.set(input.vcpus, m);
  return Buffer.from(m);
}
