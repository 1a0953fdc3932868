/** `--report junit=FILE,json=FILE,html=FILE`: which report files to write. */
import { RunnerUsageError } from '../outcomes.ts';
import type { RunReport } from '../types.ts';

export const REPORT_KINDS = ['junit', 'json', 'html'] as const;
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

/** The report of one kind as text. */
export async function formatReport(kind: ReportKind, report: RunReport): Promise<string> {
  switch (kind) {
    case 'junit':
      return (await import('./junit.ts')).formatJunit(report);
    case 'json':
      return (await import('./json.ts')).formatJson(report);
    case 'html': {
      const [{ formatHtml }, { profileFacts }] = await Promise.all([import('./html.ts'), import('./html-facts.ts')]);
      return formatHtml(report, profileFacts(report.profiles));
    }
  }
}
