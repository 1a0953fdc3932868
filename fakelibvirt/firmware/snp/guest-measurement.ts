/**
 * What an SNP launch under QEMU measures, as a guest owner recomputes it (sev-snp-measure's
 * `--mode snp` for QEMU does the same steps): the firmware image as NORMAL pages ending at 4 GiB;
 * then the pages OVMF's SEV metadata lists — zero pages for SNP_SEC_MEM, the secrets and CPUID pages
 * by type, the kernel-hashes page (the hashes table at its offset in the page for
 * kernelHashes='yes' direct boot, else zero pages); then one VMSA per vCPU at KVM's VMSA address.
 * An SNP VMSA is the SEV-ES reset VMSA (../vmsa.ts: RDX carries the CPU signature, APs start at
 * OVMF's SEV-ES reset address) with SEV_FEATURES = SNPActive and QEMU's FPU reset values (MXCSR
 * 0x1F80, x87 FCW 0x37F).
 */
import { createHash } from 'node:crypto';
import { parseOvmfTable } from '../ovmf.ts';
import { resetVmsa, type CpuSignature } from '../vmsa.ts';
import { SNP_PAGE_SIZE, SNP_VMSA_GPA, SnpLaunchDigest, SnpPageType } from './launch-digest.ts';
import { OVMF_SEV_METADATA_GUID, SevMetadataSection, sevMetadataItems, type SevMetadataItem } from './ovmf-metadata.ts';

const FOUR_GIB = 0x1_0000_0000n;

/** SNP fields of the save area beyond the SEV-ES reset state (Linux `struct sev_es_save_area`). */
const SNP_VMSA = { SEV_FEATURES: 0x3b0, MXCSR: 0x408, X87_FCW: 0x410 } as const;
/** SEV_FEATURES bit 0: SNPActive, the only feature QEMU's default sev-snp-guest sets. */
const SNP_ACTIVE = 1n;

/** The VMSA of one vCPU of an SNP guest (the BSP when `apResetAddr` is null). */
export function snpVmsa(cpu: CpuSignature, apResetAddr: number | null): Buffer {
  const page = resetVmsa(cpu, apResetAddr);
  page.writeBigUInt64LE(SNP_ACTIVE, SNP_VMSA.SEV_FEATURES);
  page.writeUInt32LE(0x1f80, SNP_VMSA.MXCSR);
  page.writeUInt16LE(0x37f, SNP_VMSA.X87_FCW);
  return page;
}

export interface SnpLaunchInput {
  /** The firmware image's bytes, as the domain's `<loader>` names it. */
  readonly firmware: Buffer;
  readonly vcpus: number;
  /** The CPU signature QEMU gives the guest's vCPUs (each VMSA's RDX). */
  readonly cpu: CpuSignature;
  /** The kernel-hashes table (kernelHashes='yes' with `<kernel>`), or absent. */
  readonly kernelHashes?: Buffer;
}

function addMetadataSection(ld: SnpLaunchDigest, item: SevMetadataItem, hashesPage: Buffer | null): void {
  const gpa = BigInt(item.gpa);
  const zeroPages = () => {
    for (let off = 0; off < item.size; off += SNP_PAGE_SIZE) ld.addPage(SnpPageType.ZERO, gpa + BigInt(off));
  };
  switch (item.type) {
    case SevMetadataSection.SNP_SECRETS:
      return ld.addPage(SnpPageType.SECRETS, gpa);
    case SevMetadataSection.CPUID:
      return ld.addPage(SnpPageType.CPUID, gpa);
    case SevMetadataSection.SNP_KERNEL_HASHES:
      return hashesPage ? ld.addNormalPages(gpa, hashesPage) : zeroPages();
    default:
      return zeroPages();
  }
}

const CACHE = new WeakMap<Buffer, Map<string, Buffer>>();

/** MEASUREMENT (48 bytes) of an SNP launch of `firmware` with `vcpus` vCPUs. */
export function snpLaunchMeasurement(input: SnpLaunchInput): Buffer {
  const { firmware, vcpus, cpu } = input;
  const key = `${vcpus}:${cpu.family}/${cpu.model}/${cpu.stepping}:${input.kernelHashes ? createHash('sha256').update(input.kernelHashes).digest('hex') : '-'}`;
  let byInput = CACHE.get(firmware);
  const hit = byInput?.get(key);
  if (hit) return Buffer.from(hit);

  const ld = new SnpLaunchDigest();
  const size = BigInt(Math.ceil(firmware.length / SNP_PAGE_SIZE) * SNP_PAGE_SIZE);
  ld.addNormalPages(FOUR_GIB - size, firmware);
  const table = parseOvmfTable(firmware);
  let hashesPage: Buffer | null = null;
  if (input.kernelHashes) {
    hashesPage = Buffer.alloc(SNP_PAGE_SIZE);
    input.kernelHashes.copy(hashesPage, (table?.hashTableArea?.base ?? 0) % SNP_PAGE_SIZE);
  }
  for (const item of sevMetadataItems(firmware, table?.entries.get(OVMF_SEV_METADATA_GUID))) addMetadataSection(ld, item, hashesPage);
  // No SEV-ES reset block (not an OVMF image): the APs keep the architectural reset vector.
  const apReset = table?.sevEsResetAddr ?? 0xfffffff0;
  const bsp = snpVmsa(cpu, null);
  const ap = vcpus > 1 ? snpVmsa(cpu, apReset) : bsp;
  for (let v = 0; v < vcpus; v++) ld.addPage(SnpPageType.VMSA, SNP_VMSA_GPA, v === 0 ? bsp : ap);

  const m = ld.value();
  if (!byInput) CACHE.set(firmware, (byInput = new Map()));
  if (byInput.size >= 64) byInput.clear();
  byInput.set(key, m);
  return Buffer.from(m);
}
