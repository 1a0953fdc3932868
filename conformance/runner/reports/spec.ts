/** `--report junit=FILE,json=FILE`: which report files to write. */
import { RunnerUsageError } from '../outcomes.ts';

export const REPORT_KINDS = ['junit', 'json'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export function parseReportSpec(spec: string): Array<{ kind: ReportKind; file: string }> {
  const parts = spec.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) throw new RunnerUsageError(`--report needs kind=FILE entries (${REPORT_KINDS.join(', ')}), got '${spec}'`);
  return parts.map((p) => {
    const eq = p.indexOf('=');
    const kind = p.slice(0, eq);
    const file = p.slice(eq + 1);
    if (eq <= 0 || file === '') throw new RunnerUsageError(`--report entry '${p}' is not kind=FILE`);
    if (!(REPORT_KINDS as readonly string[]).includes(kind)) throw new RunnerUsageError(`--report kind '${kind}' is unknown (known: ${REPORT_KINDS.join(', ')})`);
    return { kind: kind as ReportKind, file };
  });
}
