/** What a conformance run produces: one result per case × profile, and the run around them. */
import type { DriverDescription } from '../contract.ts';
import type { Area } from '../catalogue/types.ts';

export const CASE_STATUSES = ['pass', 'fail', 'not-applicable', 'not-implemented', 'error'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export interface CaseResult {
  readonly caseId: string;
  readonly area: Area;
  readonly title: string;
  readonly profile: string;
  readonly status: CaseStatus;
  /** Why it failed, errored, did not apply or was not implemented; for a pass, an advisory note. */
  readonly reason?: string;
  readonly durationMs: number;
  /** What the driver logged while this case ran (process drivers' stderr; a cut start shows as `…`). */
  readonly driverLog?: string;
}

export interface RunReport {
  readonly driver: DriverDescription;
  /** 'fake', or the real host's URI. */
  readonly target: string;
  readonly profiles: readonly string[];
  readonly results: readonly CaseResult[];
  readonly wallMs: number;
  readonly counts: Readonly<Record<CaseStatus, number>>;
}

export function countStatuses(results: readonly CaseResult[]): Record<CaseStatus, number> {
  const counts = Object.fromEntries(CASE_STATUSES.map((s) => [s, 0])) as Record<CaseStatus, number>;
  for (const r of results) counts[r.status]++;
  return counts;
}
