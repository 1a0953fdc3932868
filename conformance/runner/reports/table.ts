/**
 * The terminal report: one row per case, one column per profile (numbered, with a legend), a mark
 * per result, then the failures and errors with their reasons (and, verbose, the n/a reasons).
 */
import type { CaseResult, CaseStatus, RunReport } from '../types.ts';

export const MARKS: Record<CaseStatus, string> = {
  pass: '✓', fail: '✗', 'not-applicable': '–', 'not-implemented': '?', error: '!',
};

export function formatSummary(r: RunReport): string {
  const c = r.counts;
  const cases = new Set(r.results.map((x) => x.caseId)).size;
  return `${cases} cases × ${r.profiles.length} profiles on ${r.target}: ${c.pass} passed, ${c.fail} failed, ${c.error} errors, ` +
    `${c['not-applicable']} not applicable, ${c['not-implemented']} not implemented — wall time ${(r.wallMs / 1000).toFixed(1)} s`;
}

/** Results sharing one status and reason beyond this many are listed once (a driver that never starts). */
const GROUP_FROM = 4;

function reasonLines(results: readonly CaseResult[], statuses: readonly CaseStatus[]): string[] {
  const groups = new Map<string, CaseResult[]>();
  for (const x of results.filter((y) => statuses.includes(y.status))) {
    const key = `${x.status}\u0000${x.reason ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), x]);
  }
  return [...groups.values()].flatMap((g) => {
    const at = (x: CaseResult) => `${x.caseId} [${x.profile}]`;
    const reason = g[0]!.reason ?? '(no reason given)';
    if (g.length < GROUP_FROM) return g.map((x) => `  ${MARKS[x.status]} ${at(x)}: ${reason}`);
    return [`  ${MARKS[g[0]!.status]} ${g.length} results (${g.slice(0, 2).map(at).join(', ')}, …): ${reason}`];
  });
}

/** SGR colours of the marks on a terminal that wants them. */
const COLOURS: Record<CaseStatus, string> = { pass: '32', fail: '31', error: '35', 'not-applicable': '2', 'not-implemented': '33' };

/**
 * Whether to colour the table: only on a terminal, and never when NO_COLOR is set to anything
 * non-empty (no-color.org); FORCE_COLOR (non-empty, not '0') colours even a pipe.
 */
export function colourWanted(stream: { readonly isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function formatTable(r: RunReport, opts: { verbose?: boolean; colour?: boolean } = {}): string {
  const mark = (s: CaseStatus): string => (opts.colour ? `\x1b[${COLOURS[s]}m${MARKS[s]}\x1b[0m` : MARKS[s]);
  const out: string[] = [];
  out.push(`driver: ${r.driver.name} ${r.driver.version} (ops: ${r.driver.ops.join(', ') || 'none'})`);
  out.push('profiles:');
  r.profiles.forEach((p, i) => out.push(`  ${String(i + 1).padStart(2)} ${p}`));
  const byCase = new Map<string, Map<string, CaseResult>>();
  for (const x of r.results) {
    if (!byCase.has(x.caseId)) byCase.set(x.caseId, new Map());
    byCase.get(x.caseId)!.set(x.profile, x);
  }
  const width = Math.max(4, ...[...byCase.keys()].map((k) => k.length));
  out.push(`${'case'.padEnd(width)}  ${r.profiles.map((_, i) => String(i + 1).padStart(2)).join(' ')}`);
  for (const [id, row] of byCase) {
    out.push(`${id.padEnd(width)}  ${r.profiles.map((p) => ` ${row.get(p) ? mark(row.get(p)!.status) : ' '}`).join(' ')}`);
  }
  out.push(`legend: ${(Object.entries(MARKS) as Array<[CaseStatus, string]>).map(([s, m]) => `${m} ${s}`).join(', ')}`);
  const problems = reasonLines(r.results, ['fail', 'error']);
  if (problems.length) out.push('', 'failures and errors:', ...problems);
  if (opts.verbose) {
    const unimplemented = reasonLines(r.results, ['not-implemented']);
    if (unimplemented.length) out.push('', 'not implemented:', ...unimplemented);
    const na = reasonLines(r.results, ['not-applicable']);
    if (na.length) out.push('', 'not applicable:', ...na);
    const notes = r.results.filter((x) => x.status === 'pass' && x.reason).map((x) => `  ${MARKS.pass} ${x.caseId} [${x.profile}]: ${x.reason}`);
    if (notes.length) out.push('', 'notes on passing cases:', ...notes);
  }
  out.push('', formatSummary(r));
  return `${out.join('\n')}\n`;
}
