/**
 * The SEV-SNP launch digest (SNP ABI 56860, SNP_LAUNCH_UPDATE and "PAGE_INFO"): every page the
 * hypervisor adds at launch extends a SHA-384 chain, DIGEST = SHA-384(PAGE_INFO), where PAGE_INFO
 * (0x70 bytes) holds the previous digest, the page's CONTENTS digest, its type and its guest
 * physical address. The final digest is the report's MEASUREMENT. sev-snp-measure and virtee's
 * `measurement::snp` compute the same chain.
 */
import { createHash } from 'node:crypto';

export const SnpPageType = { NORMAL: 1, VMSA: 2, ZERO: 3, UNMEASURED: 4, SECRETS: 5, CPUID: 6 } as const;
export type SnpPageType = (typeof SnpPageType)[keyof typeof SnpPageType];

export const SNP_PAGE_SIZE = 4096;
export const SNP_DIGEST_SIZE = 48;
const PAGE_INFO_SIZE = 0x70;
/** Where KVM places each vCPU's VMSA for the measurement (sev-snp-measure's VMSA_GPA). */
export const SNP_VMSA_GPA = 0xfffffffff000n;
/** Pages whose CONTENTS is their SHA-384; every other type contributes 48 zero bytes. */
const HASHED: ReadonlySet<number> = new Set([SnpPageType.NORMAL, SnpPageType.VMSA]);

export class SnpLaunchDigest {
  private digest: Buffer = Buffer.alloc(SNP_DIGEST_SIZE);

  /** Adds one 4 KiB page (`contents` only for NORMAL and VMSA pages). */
  addPage(type: SnpPageType, gpa: bigint, contents?: Uint8Array): void {
    if (gpa % BigInt(SNP_PAGE_SIZE) !== 0n) throw new RangeError(`GPA 0x${gpa.toString(16)} is not page aligned`);
    const info = Buffer.alloc(PAGE_INFO_SIZE);
    this.digest.copy(info, 0x00);
    if (HASHED.has(type)) {
      if (!contents || contents.length !== SNP_PAGE_SIZE) throw new RangeError(`a page of type ${type} needs its ${SNP_PAGE_SIZE} bytes`);
      createHash('sha384').update(contents).digest().copy(info, 0x30);
    }
    info.writeUInt16LE(PAGE_INFO_SIZE, 0x60);
    info.writeUInt8(type, 0x62);
    // 0x63 IMI_PAGE and 0x64–0x66 VMPL3/2/1 permissions stay zero for a launch without an IMI or VMPLs.
    info.writeBigUInt64LE(gpa, 0x68);
    this.digest = createHash('sha384').update(info).digest();
  }

  /** Adds `bytes` page by page from `gpa` as NORMAL pages; the last page is zero-padded. */
  addNormalPages(gpa: bigint, bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; off += SNP_PAGE_SIZE) {
      let page = bytes.subarray(off, off + SNP_PAGE_SIZE);
      if (page.length < SNP_PAGE_SIZE) {
        const padded = Buffer.alloc(SNP_PAGE_SIZE);
        padded.set(page);
        page = padded;
      }
      this.addPage(SnpPageType.NORMAL, gpa + BigInt(off), page);
    }
  }

  value(): Buffer {
    return Buffer.from(this.digest);
  }
}
