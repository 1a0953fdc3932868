/**
 * Prints one plain closing line, "tests: N passed, N failed, N skipped", after vitest's own summary,
 * so CI logs state the counts in a form any log reader understands. Skips are split: conformance
 * cases that do not apply to a profile (or that a driver does not implement) are verdicts of the
 * suite, not missing components, and are counted apart from every other skip.
 */
import type { Reporter, TestModule } from 'vitest/node';

/** The reasons conformance/vitest.ts gives when it skips a case. */
const VERDICT_SKIP = /^not (applicable|implemented): /;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let verdicts = 0;
    let skipped = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const r = t.result();
        if (r.state === 'passed') passed++;
        else if (r.state === 'failed') failed++;
        else if (r.state === 'skipped' && VERDICT_SKIP.test(r.note ?? '')) verdicts++;
        else skipped++;
      }
    }
    process.stdout.write(
      `\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped` +
        ` (and ${verdicts} conformance cases not applicable to their profile or not implemented by the driver)\n`,
    );
  }
}
