/**
 * The nova Zed conformance report: a run's results as the expected matrix (case × profile →
 * status) and as markdown with every failure explained by the nova finding behind it.
 */
import { AREA_TITLES, AREAS, caseById, type Area } from '../../catalogue/index.ts';
import { countStatuses, type CaseResult, type CaseStatus, type RunReport } from '../../runner/types.ts';
import { NOVA_FINDINGS } from './findings.ts';

/** case id → profile → status. */
export type StatusMatrix = Record<string, Record<string, CaseStatus>>;

export interface MatrixDifference {
  readonly caseId: string;
  readonly profile: string;
  readonly expected: CaseStatus | 'absent';
  readonly actual: CaseStatus | 'absent';
}

export function matrixOf(results: readonly CaseResult[]): StatusMatrix {
  const m: StatusMatrix = {};
  for (const r of [...results].sort((a, b) => a.caseId.localeCompare(b.caseId) || a.profile.localeCompare(b.profile))) {
    (m[r.caseId] ??= {})[r.profile] = r.status;
  }
  return m;
}

export function compareMatrix(expected: StatusMatrix, actual: StatusMatrix): MatrixDifference[] {
  const diffs: MatrixDifference[] = [];
  const ids = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  for (const caseId of ids) {
    const e = expected[caseId] ?? {};
    const a = actual[caseId] ?? {};
    for (const profile of [...new Set([...Object.keys(e), ...Object.keys(a)])].sort()) {
      const want = e[profile] ?? 'absent';
      const got = a[profile] ?? 'absent';
      if (want !== got) diffs.push({ caseId, profile, expected: want, actual: got });
    }
  }
  return diffs;
}

const CELL: Record<CaseStatus, string> = {
  pass: 'pass',
  fail: '**FAIL**',
  'not-applicable': '–',
  'not-implemented': 'n/i',
  error: '**ERROR**',
};

const oneLine = (s: string | undefined, max = 300): string => {
  const t = (s ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
};

function countsLine(results: readonly CaseResult[]): string {
  const c = countStatuses(results);
  return `${c.pass} pass, ${c.fail} fail, ${c.error} error, ${c['not-implemented']} not implemented, ${c['not-applicable']} not applicable`;
}

/** The markdown report of a nova run. `command` is what regenerates it. */
export function renderNovaReport(run: RunReport, command: string): string {
  const out: string[] = [];
  const profiles = [...run.profiles];
  out.push(`# nova Zed against the sevharness conformance suite`, '');
  out.push(
    `Driver: \`${run.driver.name}\` ${run.driver.version} (unmodified Debian python3-nova 26.2.2 through`,
    '`conformance/adapters/nova/driver.py`), target: fake hosts from the hardware profiles.',
    `Regenerate with \`${command}\`; \`expected-matrix.json\` next to this file is asserted by`,
    '`nova.test.ts`. Failures here are findings about nova, not failures of the suite.',
    '',
    `Totals: ${countsLine(run.results)}.`,
    '',
    'Cells: `pass`, `**FAIL**`, `–` not applicable, `n/i` the adapter does not implement what the case needs, `**ERROR**` protocol error (nova crashed: HTTP 500 in a cloud).',
    '',
  );

  const byArea = new Map<Area, CaseResult[]>();
  for (const r of run.results) (byArea.get(r.area) ?? byArea.set(r.area, []).get(r.area)!).push(r);

  out.push('## Summary', '', '| area | results |', '|---|---|');
  for (const a of AREAS) if (byArea.has(a)) out.push(`| ${AREA_TITLES[a]} | ${countsLine(byArea.get(a)!)} |`);
  out.push('');

  for (const a of AREAS) {
    const rows = byArea.get(a);
    if (!rows) continue;
    out.push(`## ${AREA_TITLES[a]}`, '', `| case | ${profiles.join(' | ')} |`, `|---|${profiles.map(() => '---').join('|')}|`);
    const ids = [...new Set(rows.map((r) => r.caseId))].sort();
    for (const id of ids) {
      const cells = profiles.map((p) => {
        const r = rows.find((x) => x.caseId === id && x.profile === p);
        return r ? CELL[r.status] : '';
      });
      out.push(`| \`${id}\` | ${cells.join(' | ')} |`);
    }
    out.push('');
  }

  out.push('## Failures and errors, explained', '');
  const failing = run.results.filter((r) => r.status === 'fail' || r.status === 'error');
  const failingIds = [...new Set(failing.map((r) => r.caseId))].sort();
  if (failingIds.length === 0) out.push('None.', '');
  for (const id of failingIds) {
    const c = caseById(id);
    const rs = failing.filter((r) => r.caseId === id);
    const finding = NOVA_FINDINGS[id];
    out.push(`### \`${id}\` — ${c?.title ?? rs[0]!.title}`, '');
    out.push(`- Profiles: ${rs.map((r) => `${r.profile} (${r.status})`).join(', ')}`);
    if (c?.novaZed) out.push(`- Catalogue: nova Zed is known to ${c.novaZed === 'fails' ? 'fail' : 'differ on'} this case (${c.fact}).`);
    if (finding) {
      out.push(`- nova Zed: ${finding.zed}`);
      out.push(`- Fix: ${finding.fix ?? 'none in any nova release'} (${finding.fact})`);
    } else {
      out.push('- nova Zed: **unexplained** — no known nova finding; check the fake and the adapter.');
    }
    const reasons = new Map<string, string[]>();
    for (const r of rs) {
      const key = oneLine(r.reason);
      (reasons.get(key) ?? reasons.set(key, []).get(key)!).push(r.profile);
    }
    for (const [reason, ps] of reasons) out.push(`- Judged (${ps.join(', ')}): ${reason || '(no reason given)'}`);
    out.push('');
  }

  const ni = run.results.filter((r) => r.status === 'not-implemented');
  if (ni.length > 0) {
    out.push('## Not implemented by the adapter', '');
    for (const id of [...new Set(ni.map((r) => r.caseId))].sort()) {
      out.push(`- \`${id}\`: ${oneLine(ni.find((r) => r.caseId === id)?.reason, 200)}`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
