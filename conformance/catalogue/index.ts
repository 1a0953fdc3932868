/**
 * The whole catalogue: every case by area, the nova scenarios (nova-sev.md §9) the suite does not
 * judge, and the scenario → case index derived from the cases themselves.
 */
import { BOOT } from './boot.ts';
import { DETECT } from './detect.ts';
import { FAULTS } from './faults.ts';
import { INVENTORY } from './inventory.ts';
import { LIFECYCLE } from './lifecycle.ts';
import { MEMORY } from './memory.ts';
import { REQUEST } from './request.ts';
import { SCHEDULING } from './scheduling.ts';
import { SLOTS } from './slots.ts';
import { AREAS, type Area, type Case, type Exclusion } from './types.ts';
import { XML } from './xml.ts';

export * from './types.ts';

export const CASES: readonly Case[] = [
  ...DETECT, ...INVENTORY, ...REQUEST, ...XML, ...BOOT, ...SLOTS, ...MEMORY, ...LIFECYCLE, ...SCHEDULING, ...FAULTS,
];

/** Number of scenarios in nova-sev.md §9. */
export const NOVA_SCENARIO_COUNT = 55;

export const NOVA_EXCLUSIONS: readonly Exclusion[] = [
  {
    novaScenario: 55,
    reason: 'placement reshape on upgrade (root inventory → per-model child provider) is a nova upgrade concern; the contract reports one flat host',
  },
];

export function casesByArea(): Map<Area, Case[]> {
  const m = new Map<Area, Case[]>(AREAS.map((a) => [a, []]));
  for (const c of CASES) m.get(c.area)?.push(c);
  return m;
}

/** nova scenario number → the ids of the cases that cover it. */
export function novaScenarioIndex(): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const c of CASES) for (const n of c.novaScenario ?? []) m.set(n, [...(m.get(n) ?? []), c.id]);
  return m;
}

export function caseById(id: string): Case | undefined {
  return CASES.find((c) => c.id === id);
}
