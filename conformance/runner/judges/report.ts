/** Judges of what the driver reports about a host: detection, SEV facts, traits, inventory, warnings. */
import { inventoryKey, MODEL_TRAITS, warningCode, warningMessage, type HostReport, type MemEncryptionModel, type Warning } from '../../contract.ts';
import { fail, PASS, type Verdict } from '../outcomes.ts';
import type { Judge } from './types.ts';

/** Whether the report says a model is usable: its `models` entry when given, else its trait. */
export function detected(report: HostReport, model: MemEncryptionModel): boolean {
  return report.models?.[model]?.supported ?? report.traits.includes(MODEL_TRAITS[model]);
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

export const judgeDetection: Judge<'detection'> = async (exp, ctx) => {
  const report = await ctx.report();
  const checks: Array<[string, boolean | undefined, MemEncryptionModel]> = [
    ['SEV', exp.sev, 'amd-sev'],
    ['SEV-ES', exp.sevEs, 'amd-sev-es'],
    ['SEV-SNP', exp.snp, 'amd-sev-snp'],
  ];
  const wrong = checks.filter(([, want, m]) => want !== undefined && detected(report, m) !== want);
  if (wrong.length === 0) return PASS;
  return fail(wrong.map(([what, want, m]) => `expected ${what} detected: ${yesNo(want!)}, driver reported ${yesNo(detected(report, m))}`).join('; '));
};

export const judgeSevFacts: Judge<'sev-facts'> = async (exp, ctx) => {
  const sev = (await ctx.report()).sev;
  if (!sev) return fail(`expected cbitpos ${exp.cbitpos} and reducedPhysBits ${exp.reducedPhysBits}, driver reported no SEV facts`);
  if (sev.cbitpos === exp.cbitpos && sev.reducedPhysBits === exp.reducedPhysBits) return PASS;
  return fail(`expected cbitpos ${exp.cbitpos}, reducedPhysBits ${exp.reducedPhysBits}; driver reported ${sev.cbitpos}, ${sev.reducedPhysBits}`);
};

export function judgeTraitSets(traits: readonly string[], includes: readonly string[], excludes: readonly string[], what: string): Verdict {
  const missing = includes.filter((t) => !traits.includes(t));
  const extra = excludes.filter((t) => traits.includes(t));
  if (!missing.length && !extra.length) return PASS;
  const parts = [...(missing.length ? [`missing ${missing.join(', ')}`] : []), ...(extra.length ? [`unexpected ${extra.join(', ')}`] : [])];
  return fail(`${what}: ${parts.join('; ')} (driver reported [${traits.join(', ')}])`);
}

export const judgeTraits: Judge<'traits'> = async (exp, ctx) => judgeTraitSets((await ctx.report()).traits, exp.includes, exp.excludes, 'traits');

export const judgeInventory: Judge<'inventory'> = async (exp, ctx) => {
  const key = inventoryKey(exp.model);
  const inv = (await ctx.report()).inventories[key];
  if (exp.total === null) return inv ? fail(`expected no ${key} inventory, driver reported total ${inv.total}`) : PASS;
  const totals = exp.total === 'present' ? null : ([] as number[]).concat(exp.total);
  const wanted = totals ? ` total ${totals.join(' or ')}` : '';
  if (!inv) return fail(`expected ${key} inventory${wanted}, driver reported none`);
  if (totals && !totals.includes(inv.total)) return fail(`expected ${key}${wanted}, driver reported ${inv.total}`);
  const shape = exp.shape;
  if (shape) {
    const off = (Object.keys(shape) as Array<keyof typeof shape>).filter((k) => inv[k] !== shape[k]);
    if (off.length) return fail(`${key} inventory shape: ${off.map((k) => `${k} ${inv[k]}, expected ${shape[k]}`).join(', ')}`);
  }
  return PASS;
};

const listWarnings = (ws: readonly Warning[]): string => (ws.length ? ws.map((w) => `"${warningMessage(w)}"`).join(', ') : 'nothing');

export const judgeWarning: Judge<'warning'> = async (exp, ctx) => {
  const warnings = (await ctx.report()).warnings;
  if (warnings.some((w) => warningCode(w) === exp.code)) return PASS;
  const uncoded = warnings.some((w) => warningCode(w) === undefined) ? ' (plain-text warnings carry no code; the suite matches codes only)' : '';
  return fail(`expected a warning with code ${exp.code}, driver warned ${listWarnings(warnings)}${uncoded}`);
};

export const judgeNoWarning: Judge<'no-warning'> = async (exp, ctx) => {
  const hit = (await ctx.report()).warnings.find((w) => warningCode(w) === exp.code);
  return hit === undefined ? PASS : fail(`expected no warning with code ${exp.code}, driver warned "${warningMessage(hit)}"`);
};
