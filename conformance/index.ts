/**
 * `sevharness/conformance`: the SEV driver conformance suite. A driver implements the contract
 * (`SevDriver`, in TypeScript or over the JSON-lines process protocol of PROTOCOL.md); the runner
 * judges it case by case on hosts built from hardware profiles, and the reports say why.
 *
 *   import { runConformance, createReferenceDriver, formatTable } from 'sevharness/conformance';
 *   const report = await runConformance({ driver: async () => createReferenceDriver(), profiles: ['milan-7003-es8'] });
 *   console.log(formatTable(report));
 *
 * Inside your own vitest run: `describeConformance` from `sevharness/vitest`.
 */

// Running the suite.
export { runConformance, type RunOptions } from './runner/run.ts';
/** The same run over worker threads, one profile per worker; the driver given as a `--driver` spec. */
export { runConformanceParallel, type ParallelRunOptions } from './runner/parallel.ts';
export { CASE_STATUSES, countStatuses, type CaseStatus, type CaseResult, type RunReport } from './runner/types.ts';
/** A `--driver` value (`ref`, a module path, a command line) as a driver factory. */
export { resolveDriverSpec, isSevDriver, type DriverFactory } from './runner/driver-spec.ts';
export { RunnerUsageError } from './runner/outcomes.ts';

// Where the cases run: fake hosts from profiles (default), or one real libvirt host.
export type { Target, TargetHost } from './runner/target.ts';
export { FakeTarget } from './runner/fake-target.ts';
export { RealTarget, type RealTargetOptions } from './real/target.ts';
export { profileTruth, type ProfileTruth } from './truth.ts';

// The contract a driver implements; the refusal codes belong to it.
export * from './contract.ts';
export { REFUSAL_CODES, REFUSAL_CODE_LIST, isRefusalCode, type RefusalCode, type RefusalCodeInfo, type NovaEquivalent } from './refusal-codes.ts';

// The catalogue: each case's fact, expectation and the profiles it applies to.
export { CASES, caseById, casesByArea, AREAS, AREA_TITLES, type Case, type Area } from './catalogue/index.ts';

// Drivers ready to judge.
/** The reference driver (`sevharness/driver`) behind the contract. */
export { createReferenceDriver, REFERENCE_DRIVER_NAME, type ReferenceDriverOptions, type ReferenceHost } from './adapters/reference.ts';
/** The reference driver's `LibvirtSource` over a FakeHost in the same process (no socket). */
export { FakeHostSource } from './fake-host-source.ts';
/** A driver in any language, as a child process speaking PROTOCOL.md. */
export { startProcessDriver, ProcessDriverError, type ProcessDriver, type ProcessDriverOptions, type ProcessTimeouts } from './adapters/process.ts';

// Reports.
export { formatTable, formatSummary } from './runner/reports/table.ts';
export { formatJunit } from './runner/reports/junit.ts';
export { formatJson, JSON_REPORT_VERSION } from './runner/reports/json.ts';
export { formatHtml, type ProfileFacts } from './runner/reports/html.ts';
export { profileFacts } from './runner/reports/html-facts.ts';
/** One report by kind (`junit`, `json`, `html`), as `--report KIND=FILE` writes it. */
export { formatReport, parseReportSpec, REPORT_KINDS, type ReportKind } from './runner/reports/spec.ts';
