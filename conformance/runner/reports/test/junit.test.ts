/**
 * The JUnit report against our XSD of the common JUnit format (junit.xsd), checked by libxml2's
 * xmllint as CI servers' parsers would read it, and read back: newlines in attributes survive,
 * <testsuites> carries no `skipped`, each testcase has its own driver log.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { requireRealStack } from '../../../../containers/real-stack.ts';
import { formatJunit, xmlAttr } from '../junit.ts';
import { REPORT, TRACEBACK } from './fixture.ts';

const XSD = fileURLToPath(new URL('../junit.xsd', import.meta.url));
const stack = requireRealStack(['/usr/bin/xmllint']);
const dir = mkdtempSync(join(tmpdir(), 'sevharness-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** xmllint's verdict on a document: null when valid, else its complaint. */
function validate(xml: string): string | null {
  const file = join(dir, `doc-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  try {
    execFileSync('/usr/bin/xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
}

describe('JUnit report', () => {
  const xml = formatJunit(REPORT);

  it.runIf(stack.available)('validates against the JUnit schema, and the schema can fail', () => {
    expect(existsSync(XSD)).toBe(true);
    expect(validate(xml)).toBeNull();
    // The old report's mistake: a skipped count on <testsuites>.
    expect(validate(xml.replace('<testsuites name=', '<testsuites skipped="2" name='))).toMatch(/skipped.*not allowed/);
    expect(validate(xml.replace(/<testcase [^>]*name="detect.sev-es"/, '<testcase classname="x"'))).toMatch(/name.*required/);
  });

  it('keeps newlines in attributes as character references, and reads back what it wrote', () => {
    expect(xmlAttr('a\nb\tc')).toBe('a&#10;b&#9;c');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', processEntities: true, htmlEntities: true, trimValues: false }).parse(xml) as {
      testsuites: Record<string, unknown> & { testsuite: Array<{ name: string; testcase: Array<Record<string, unknown>> }> };
    };
    expect(doc.testsuites.skipped).toBeUndefined();
    expect(doc.testsuites.tests).toBe('6');
    const milan = doc.testsuites.testsuite.find((s) => s.name === 'milan-7003-es8')!;
    const failed = milan.testcase.find((t) => t.name === 'xml.launch-security')!;
    const failure = failed.failure as { message: string };
    // A control character XML cannot carry is dropped; the newline stays a newline.
    expect(failure.message).toBe("launchSecurity is missing\nsecond line with <tags> & 'quotes'");
    expect(failed['system-err']).toBe('building xml\n');
  });

  it('attaches each case its own driver log, the crash traceback in full', () => {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', trimValues: false }).parse(xml) as {
      testsuites: { testsuite: Array<{ name: string; testcase: Array<Record<string, unknown>> }> };
    };
    const intel = doc.testsuites.testsuite.find((s) => s.name === 'intel-xeon')!;
    expect(intel.testcase.find((t) => t.name === 'xml.launch-security')!['system-err']).toBe(TRACEBACK);
    // The passing case logged nothing and gets no <system-err>; logs are per case, not cumulative.
    expect(xml.match(/<system-err>/g)).toHaveLength(2);
  });
});
