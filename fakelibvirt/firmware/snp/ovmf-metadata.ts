/**
 * OVMF's SEV metadata (edk2 OvmfPkg/ResetVector OvmfSevMetadata.asm): the pages an SNP launch adds
 * besides the firmware image itself. The image's GUIDed table holds, under the metadata GUID, the
 * offset from the image's end of a header ("ASEV", size, version 1, item count) followed by items of
 * GPA ‖ size ‖ type (u32 each). QEMU passes each item to SNP_LAUNCH_UPDATE with the matching page
 * type; sev-snp-measure reads the same items the same way.
 */
export const OVMF_SEV_METADATA_GUID = 'dc886566-984a-4798-a75e-5585a7bf67cc';

export const SevMetadataSection = { SNP_SEC_MEM: 1, SNP_SECRETS: 2, CPUID: 3, SVSM_CAA: 4, SNP_KERNEL_HASHES: 0x10 } as const;
export type SevMetadataSection = (typeof SevMetadataSection)[keyof typeof SevMetadataSection];

export interface SevMetadataItem {
  readonly gpa: number;
  readonly size: number;
  readonly type: SevMetadataSection;
}

const HEADER_SIZE = 16;
const ITEM_SIZE = 12;
const KNOWN: ReadonlySet<number> = new Set(Object.values(SevMetadataSection));

/**
 * The items the metadata entry (`entry`, the table data under OVMF_SEV_METADATA_GUID) points to in
 * `image`; [] when the image has no entry or no valid "ASEV" version-1 header there. Items of a type
 * this list does not know are left out [inference: QEMU's own handling of them is not in our sources].
 */
export function sevMetadataItems(image: Uint8Array, entry: Uint8Array | undefined): SevMetadataItem[] {
  if (!entry || entry.length < 4) return [];
  const img = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const start = img.length - Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).readUInt32LE(0);
  if (start < 0 || start + HEADER_SIZE > img.length) return [];
  if (img.toString('latin1', start, start + 4) !== 'ASEV' || img.readUInt32LE(start + 8) !== 1) return [];
  const count = Math.min(img.readUInt32LE(start + 12), Math.floor((img.length - start - HEADER_SIZE) / ITEM_SIZE));
  const items: SevMetadataItem[] = [];
  for (let i = 0; i < count; i++) {
    const off = start + HEADER_SIZE + i * ITEM_SIZE;
    const type = img.readUInt32LE(off + 8);
    if (KNOWN.has(type)) items.push({ gpa: img.readUInt32LE(off), size: img.readUInt32LE(off + 4), type: type as SevMetadataSection });
  }
  return items;
}
