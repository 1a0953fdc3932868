/**
 * JUnit XML: a testsuite per profile, a testcase per case; not-applicable and not-implemented are
 * skipped with their reason, a fail is a <failure>, an error an <error>, the driver's log goes to
 * <system-err>.
 */
import type { CaseResult, RunReport } from '../types.ts';

export function xmlEscape(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest escaped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[<>&'"]/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' } as const)[c as '<']};`);
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(x: CaseResult): string {
  const open = `    <testcase classname="conformance.${xmlEscape(x.profile)}" name="${xmlEscape(x.caseId)}" time="${seconds(x.durationMs)}">`;
  const reason = xmlEscape(x.reason ?? '');
  const body: string[] = [];
  if (x.status === 'fail') body.push(`      <failure message="${reason}" type="fail">${reason}</failure>`);
  if (x.status === 'error') body.push(`      <error message="${reason}" type="error">${reason}</error>`);
  if (x.status === 'not-applicable') body.push(`      <skipped message="${xmlEscape(`not applicable: ${x.reason ?? ''}`)}"/>`);
  if (x.status === 'not-implemented') body.push(`      <skipped message="${xmlEscape(`not implemented: ${x.reason ?? ''}`)}"/>`);
  if (x.driverLog) body.push(`      <system-err>${xmlEscape(x.driverLog)}</system-err>`);
  return body.length ? `${open}\n${body.join('\n')}\n    </testcase>` : open.replace(/>$/, '/>');
}

export function formatJunit(r: RunReport): string {
  const suites = r.profiles.map((p) => {
    const rs = r.results.filter((x) => x.profile === p);
    const n = (s: CaseResult['status'][]) => rs.filter((x) => s.includes(x.status)).length;
    const time = rs.reduce((t, x) => t + x.durationMs, 0);
    return `  <testsuite name="${xmlEscape(p)}" tests="${rs.length}" failures="${n(['fail'])}" errors="${n(['error'])}" skipped="${n(['not-applicable', 'not-implemented'])}" time="${seconds(time)}">\n${rs.map(testcase).join('\n')}\n  </testsuite>`;
  });
  const c = r.counts;
  const name = xmlEscape(`sevharness conformance: ${r.driver.name} ${r.driver.version}`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${name}" tests="${r.results.length}" failures="${c.fail}" errors="${c.error}" skipped="${c['not-applicable'] + c['not-implemented']}" time="${seconds(r.wallMs)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
