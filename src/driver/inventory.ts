/**
 * Placement view of a host: traits and MEM_ENCRYPTION_CONTEXT inventory per encryption model. Each
 * model is its own provider (nova 32+'s `<node>_amd_sev` / `<node>_amd_sev_es` children), so a
 * request's required trait decides which pool its one context comes from.
 */

export const TRAIT_SEV = 'HW_CPU_X86_AMD_SEV';
export const TRAIT_SEV_ES = 'HW_CPU_X86_AMD_SEV_ES';
export const TRAIT_SEV_SNP = 'HW_CPU_X86_AMD_SEV_SNP';
export const RC_MEM_ENCRYPTION_CONTEXT = 'MEM_ENCRYPTION_CONTEXT';

/** What the host offers for one encryption model (detection's finding, the inventory's input). */
export interface ModelReport {
  readonly available: boolean;
  readonly slots: number;
  readonly reason?: string;
}

export type EncryptionModel = 'amd-sev' | 'amd-sev-es' | 'amd-sev-snp';

/** The model table: trait, child-provider suffix and launch policy per model. */
export const MODELS: Readonly<Record<EncryptionModel, { trait: string; provider: string; policy: number }>> = {
  // NODBG | NOKS | DOMAIN | SEV: debugging and key sharing off, the guest stays on this platform.
  'amd-sev': { trait: TRAIT_SEV, provider: 'amd_sev', policy: 0x0033 },
  // The same plus ES: the register state is encrypted too.
  'amd-sev-es': { trait: TRAIT_SEV_ES, provider: 'amd_sev_es', policy: 0x0037 },
  // SNP's 64-bit policy: SMT allowed | the reserved must-be-one bit; no debugging, no migration agent.
  'amd-sev-snp': { trait: TRAIT_SEV_SNP, provider: 'amd_sev_snp', policy: 0x30000 },
};

export interface InventoryRecord {
  readonly provider: string;
  readonly model: EncryptionModel;
  readonly trait: string;
  readonly resourceClass: typeof RC_MEM_ENCRYPTION_CONTEXT;
  readonly total: number;
  readonly reserved: 0;
  readonly min_unit: 1;
  readonly max_unit: 1;
  readonly step_size: 1;
  readonly allocation_ratio: 1.0;
}

function record(model: EncryptionModel, total: number): InventoryRecord {
  const m = MODELS[model];
  return { provider: m.provider, model, trait: m.trait, resourceClass: RC_MEM_ENCRYPTION_CONTEXT, total, reserved: 0, min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1.0 };
}

/** Placement forbids total = 0, so a model without slots gets no record at all. */
export function hostInventory(sev: ModelReport, sevEs: ModelReport, snp?: ModelReport): InventoryRecord[] {
  const out: InventoryRecord[] = [];
  if (sev.available && sev.slots > 0) out.push(record('amd-sev', sev.slots));
  if (sevEs.available && sevEs.slots > 0) out.push(record('amd-sev-es', sevEs.slots));
  if (snp?.available && snp.slots > 0) out.push(record('amd-sev-snp', snp.slots));
  return out;
}

/** The SEV trait follows detection (as in nova, even with 0 slots); the ES and SNP traits need slots. */
export function hostTraits(sev: ModelReport, sevEs: ModelReport, snp?: ModelReport): string[] {
  const out: string[] = [];
  if (sev.available) out.push(TRAIT_SEV);
  if (sevEs.available && sevEs.slots > 0) out.push(TRAIT_SEV_ES);
  if (snp?.available && snp.slots > 0) out.push(TRAIT_SEV_SNP);
  return out;
}

/** The scheduler's flat resource key for one model's pool, e.g. `MEM_ENCRYPTION_CONTEXT@amd_sev`. */
export const poolKey = (model: EncryptionModel): string => `${RC_MEM_ENCRYPTION_CONTEXT}@${MODELS[model].provider}`;
