/** Small helpers shared by the area modules: applicability guards and the standard expectations. */
import { MEM_ENCRYPTION_CONTEXT, MODEL_TRAITS } from '../contract.ts';
import { noSevReason, type ProfileTruth } from '../truth.ts';
import type { RefusalCode } from '../refusal-codes.ts';
import type { Applicability, Case, Expectation } from './types.ts';

export const SEV_TRAIT = MODEL_TRAITS['amd-sev'];
export const SEV_ES_TRAIT = MODEL_TRAITS['amd-sev-es'];
export const RC = MEM_ENCRYPTION_CONTEXT;

/** Guest policy bits (sev-hardware.md §3.1). */
export const POLICY = { NODBG: 0x1, NOKS: 0x2, ES: 0x4, NOSEND: 0x8, DOMAIN: 0x10, SEV: 0x20 } as const;

export const always = (): Applicability => true;
export const needsSev = (t: ProfileTruth): Applicability => noSevReason(t) ?? true;
export const needsNoSev = (t: ProfileTruth): Applicability => {
  if (t.sevUsable || t.sevEsUsable) return 'host has SEV';
  if (t.snpUsable) return 'host has SEV-SNP';
  return t.sevEmptyUnseen ? UNSEEN : true;
};

/** Why a "no SEV" case cannot judge a host whose empty plain-SEV range nothing reveals. */
export const UNSEEN = 'host has no plain-SEV ASIDs, but neither libvirt (< 8.0) nor the kernel (< 5.13) lets a driver see that';

/** Refusals besides NO_SEV_HOST that are honest where libvirt and the kernel have SEV but the BIOS left no plain-SEV ASIDs. */
export function noPlainAsidAlternatives(t: ProfileTruth): RefusalCode[] {
  return t.sev !== null && t.kernel.sevEnabled && t.maxGuests === 0 ? ['NO_SLOTS'] : [];
}
export const needsSevEs = (t: ProfileTruth): Applicability =>
  t.sevEsUsable ? true : 'host has no SEV-ES (no ES ASIDs, kernel sev_es off, or SNP on)';
export const needsFreshCacheSev = (t: ProfileTruth): Applicability => {
  const r = noSevReason(t);
  if (r) return r;
  return t.staleCache ? 'libvirt capability cache is stale at start (judged in faults.stale-capability-cache)' : true;
};

/**
 * Refusals besides NO_SEV_HOST that are honest for an SEV request on a host without SEV: on a
 * non-x86_64 host the request's q35 machine is not one its QEMU offers either.
 */
export function noSevHostAlternatives(t: ProfileTruth): RefusalCode[] {
  return [...(t.profile.arch === 'x86_64' ? [] : ['UNKNOWN_MACHINE_TYPE' as const]), ...noPlainAsidAlternatives(t)];
}

/** The inventory nova reports for one model (nova-sev.md §2.2). */
export const SLOT_SHAPE = { min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 } as const;

export function sevRequestExpectation(): Expectation {
  return { kind: 'request', model: 'amd-sev', resources: { [RC]: 1 }, requiredTraits: { includes: [], excludes: [SEV_ES_TRAIT] } };
}

export const plainRequestExpectation: Expectation = {
  kind: 'request', model: null, resources: {}, requiredTraits: { includes: [], excludes: [SEV_TRAIT, SEV_ES_TRAIT] },
};

/** Defines a list of cases of one area, checking at compile time that each names that area. */
export function area<A extends Case['area']>(a: A, cases: ReadonlyArray<Case & { area: A }>): readonly Case[] {
  return cases;
}
