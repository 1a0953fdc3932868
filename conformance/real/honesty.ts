/**
 * The real target's safety net: which expectations can only be met on a host with SEV. On a host
 * without SEV a case carrying one must be not applicable ("host has no SEV …"); it may never pass.
 * The catalogue's guards already say so; the runner (and real-mode tests) use this to make sure.
 */
import { MODEL_TRAITS } from '../contract.ts';
import type { Expectation } from '../catalogue/types.ts';

const SEV_TRAITS = new Set<string>(Object.values(MODEL_TRAITS));

/** True when meeting the expectation needs a host that runs encrypted guests. */
export function needsSevToPass(e: Expectation): boolean {
  switch (e.kind) {
    case 'all':
      return e.of.some(needsSevToPass);
    case 'detection':
      return e.sev || e.sevEs === true || e.snp === true;
    case 'traits':
      return e.includes.some((t) => SEV_TRAITS.has(t));
    case 'inventory':
      return e.total !== null;
    case 'xml':
      return e.rules.some((r) => r.path.startsWith('launchSecurity') && r.present === true);
    case 'schedule':
      return e.steps.some((s) => 'boot' in s && s.boot !== 'plain' && 'hostIn' in s.expect);
    // The standing fleet has SEV hosts of its own: only a free slot on the case's host needs SEV there.
    case 'fleet-schedule':
      return e.hostSevSlotsFree > 0;
    // Every lifecycle case acts on an encrypted guest it booted first.
    case 'lifecycle':
    case 'sev-facts':
    case 'boot':
    case 'slots':
    case 'memory':
    case 'host-unharmed':
      return true;
    // Request validation is the same on every host; refusals and warnings are what a no-SEV host gives.
    case 'request':
    case 'refusal':
    case 'warning':
    case 'no-warning':
      return false;
  }
}

/** The catalogue's phrase for a host without SEV (truth.ts noSevReason and the SEV-ES/SNP guards). */
export const NO_SEV_REASON = /^host has no SEV/;
