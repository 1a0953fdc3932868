/** The JSON report: the RunReport as it is, with a format version so readers can tell shapes apart. */
import type { RunReport } from '../types.ts';

export const JSON_REPORT_VERSION = 1;

export function formatJson(r: RunReport): string {
  return `${JSON.stringify({ format: 'sevharness-conformance', version: JSON_REPORT_VERSION, ...r }, null, 2)}\n`;
}
