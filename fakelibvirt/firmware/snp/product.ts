/**
 * SEV-SNP product lines as the attestation report and AMD's Key Distribution Service name them: the
 * KDS product in the URL, the TCB_VERSION byte layout, the hwid length, and the report version the
 * profile's firmware emits. One row per generation that runs SNP.
 *
 * Facts: SNP ABI (AMD publication 56860) TCB_VERSION; the VCEK/KDS interface (57230) as go-sev-guest
 * `kds` and snpguest `fetch` implement it (Turin: FMC SPL at byte 0, 8-byte hwid, `fmcSPL` in the
 * URL; Bergamo and Siena certificates live under Genoa).
 */
import type { Generation, HardwareProfile } from '../../profile/schema.ts';

export type KdsProduct = 'Milan' | 'Genoa' | 'Turin';
export type TcbLayout = 'zen3-4' | 'turin';

export interface SnpProduct {
  readonly kds: KdsProduct;
  readonly tcbLayout: TcbLayout;
  /** Bytes of CHIP_ID the KDS keys the VCEK by (the `{hwid}` in its URL, hex). */
  readonly hwidBytes: number;
  /**
   * ATTESTATION_REPORT version the profiles' firmware writes. Version 3 adds CPUID family, model and
   * stepping at 0x188; Genoa firmware 1.55.40 writes it (go-sev-guest#162), so build 24 is taken to
   * write version 2 [inference].
   */
  readonly reportVersion: 2 | 3;
  /**
   * The productName extension (1.3.6.1.4.1.3704.1.2) of its VCEK: Milan's names the stepping
   * ("Milan-B0"); Genoa's is the bare "Genoa" (go-sev-guest#103, #162); Turin's is taken to be bare
   * too [inference].
   */
  productName(stepping: number): string;
}

const PRODUCTS: Partial<Record<Generation, SnpProduct>> = {
  milan: { kds: 'Milan', tcbLayout: 'zen3-4', hwidBytes: 64, reportVersion: 2, productName: (s) => `Milan-B${s}` },
  genoa: { kds: 'Genoa', tcbLayout: 'zen3-4', hwidBytes: 64, reportVersion: 2, productName: () => 'Genoa' },
  turin: { kds: 'Turin', tcbLayout: 'turin', hwidBytes: 8, reportVersion: 3, productName: () => 'Turin' },
};

export const KDS_PRODUCTS: readonly KdsProduct[] = ['Milan', 'Genoa', 'Turin'];

/** The SNP product line of a profile's CPU, or null for generations without SNP. */
export function snpProductOf(profile: HardwareProfile): SnpProduct | null {
  return PRODUCTS[profile.generation] ?? null;
}

export function snpProductByKds(name: KdsProduct): SnpProduct {
  const p = Object.values(PRODUCTS).find((x) => x.kds === name);
  if (!p) throw new Error(`no SNP product ${name}`);
  return p;
}

/** Security patch levels of one TCB (SNP ABI TCB_VERSION); `fmc` only on Turin. */
export interface TcbVersion {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
}

/** Byte positions of each SPL in the 8-byte little-endian TCB_VERSION. */
const TCB_BYTES: Record<TcbLayout, Partial<Record<keyof TcbVersion, number>>> = {
  'zen3-4': { bootloader: 0, tee: 1, snp: 6, microcode: 7 },
  turin: { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 },
};

export function encodeTcb(layout: TcbLayout, tcb: TcbVersion): Buffer {
  const b = Buffer.alloc(8);
  for (const [k, at] of Object.entries(TCB_BYTES[layout]) as [keyof TcbVersion, number][]) b[at] = tcb[k] ?? 0;
  return b;
}

export function decodeTcb(layout: TcbLayout, bytes: Uint8Array): TcbVersion {
  const at = TCB_BYTES[layout];
  const get = (k: keyof TcbVersion) => bytes[at[k]!]!;
  const base = { bootloader: get('bootloader'), tee: get('tee'), snp: get('snp'), microcode: get('microcode') };
  return layout === 'turin' ? { ...base, fmc: get('fmc') } : base;
}

/**
 * The KDS query for a TCB, in the order and spelling clients send it (snpguest pads to two digits;
 * go-sev-guest does not; the KDS reads both). Turin puts fmcSPL first.
 */
export function tcbQuery(layout: TcbLayout, tcb: TcbVersion): string {
  const parts = [`blSPL=${tcb.bootloader}`, `teeSPL=${tcb.tee}`, `snpSPL=${tcb.snp}`, `ucodeSPL=${tcb.microcode}`];
  return (layout === 'turin' ? [`fmcSPL=${tcb.fmc ?? 0}`, ...parts] : parts).join('&');
}

/** The query parameter names a product's VCEK URL must carry, each exactly once. */
export function tcbQueryNames(layout: TcbLayout): readonly string[] {
  return layout === 'turin' ? ['fmcSPL', 'blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL'] : ['blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL'];
}
