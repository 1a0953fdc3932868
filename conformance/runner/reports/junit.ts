/**
 * JUnit XML as the common JUnit schema has it (the Jenkins / JUnit 5 reporters' format; our own
 * XSD of it is `junit.xsd` beside this file): a testsuite per profile, a testcase per case;
 * not-applicable and not-implemented are <skipped> with the reason, a fail is a <failure>, an error
 * an <error>, and what the driver logged during that case goes to the testcase's <system-err>.
 * `skipped` is counted per testsuite only: <testsuites> has no such attribute in the schema.
 */
import type { CaseResult, RunReport } from '../types.ts';

// Characters XML 1.0 cannot carry at all are dropped.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const ENTITIES = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' } as const;

/** Element text: markup characters escaped, characters XML cannot carry dropped. */
export function xmlEscape(s: string): string {
  return s.replace(NOT_XML, '').replace(/[<>&'"]/g, (c) => ENTITIES[c as keyof typeof ENTITIES]);
}

/**
 * An attribute value: as element text, plus newlines, carriage returns and tabs as character
 * references, which attribute-value normalisation would otherwise turn into spaces.
 */
export function xmlAttr(s: string): string {
  return xmlEscape(s).replace(/[\n\r\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(x: CaseResult): string {
  const open = `    <testcase classname="conformance.${xmlAttr(x.profile)}" name="${xmlAttr(x.caseId)}" time="${seconds(x.durationMs)}">`;
  const reason = x.reason ?? '';
  const body: string[] = [];
  if (x.status === 'fail') body.push(`      <failure message="${xmlAttr(reason)}" type="fail">${xmlEscape(reason)}</failure>`);
  if (x.status === 'error') body.push(`      <error message="${xmlAttr(reason)}" type="error">${xmlEscape(reason)}</error>`);
  if (x.status === 'not-applicable') body.push(`      <skipped message="${xmlAttr(`not applicable: ${reason}`)}"/>`);
  if (x.status === 'not-implemented') body.push(`      <skipped message="${xmlAttr(`not implemented: ${reason}`)}"/>`);
  if (x.driverLog) body.push(`      <system-err>${xmlEscape(x.driverLog)}</system-err>`);
  return body.length ? `${open}\n${body.join('\n')}\n    </testcase>` : open.replace(/>$/, '/>');
}

export function formatJunit(r: RunReport): string {
  const suites = r.profiles.map((p) => {
    const rs = r.results.filter((x) => x.profile === p);
    const n = (s: CaseResult['status'][]) => rs.filter((x) => s.includes(x.status)).length;
    const time = rs.reduce((t, x) => t + x.durationMs, 0);
    const attrs = `name="${xmlAttr(p)}" tests="${rs.length}" failures="${n(['fail'])}" errors="${n(['error'])}" skipped="${n(['not-applicable', 'not-implemented'])}" time="${seconds(time)}"`;
    return rs.length ? `  <testsuite ${attrs}>\n${rs.map(testcase).join('\n')}\n  </testsuite>` : `  <testsuite ${attrs}/>`;
  });
  const c = r.counts;
  const name = xmlAttr(`sevharness conformance: ${r.driver.name} ${r.driver.version}`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${name}" tests="${r.results.length}" failures="${c.fail}" errors="${c.error}" time="${seconds(r.wallMs)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
