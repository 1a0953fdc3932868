/** A deliberately broken driver and the failures the suite must report for it, as data. */
import type { ReferenceHost } from '../adapters/reference.ts';
import type { ReferenceSevDriver } from '../../src/driver/index.ts';
import type { SevDriver } from '../contract.ts';

/** These cases fail on these profiles, for this reason. */
export interface FailureGroup {
  readonly cases: readonly string[];
  readonly profiles: readonly string[];
  readonly why: string;
  /** How the README names a long list of cases, instead of listing them. */
  readonly label?: string;
}

/** One conformance run of the self-test: these profiles, these cases (ids or areas; all when absent). */
export interface SelfTestRun {
  readonly profiles: readonly string[];
  readonly cases?: readonly string[];
}

export interface BrokenDriverSpec {
  /** Kebab-case; the driver describes itself as `broken:<name>`. */
  readonly name: string;
  /** The one thing it gets wrong, in a sentence. */
  readonly bug: string;
  /**
   * The reference driver with the bug, for one host (a subclass, or the stock class over other
   * doors); `brokenReference` puts it behind the unchanged reference adapter.
   */
  readonly variant: (host: ReferenceHost) => ReferenceSevDriver;
  /**
   * For a bug in what the adapter does itself (placement: schedule and release work on the reports
   * they are handed, no driver involved): the adapter, changed. Absent for most drivers.
   */
  readonly wrap?: (adapter: SevDriver) => SevDriver;
  /**
   * Where the self-test judges it: the profiles and areas that must catch it, the controls where the
   * bug is invisible, and the whole catalogue on at least one SEV and one non-SEV profile, so that
   * "no more failures than expected" covers every area.
   */
  readonly runs: readonly SelfTestRun[];
  /** Every (case × profile) that must fail over `runs`; everything else judged there must not. */
  readonly expectedFailures: readonly FailureGroup[];
}

/** `case@profile` keys of every expected failure. */
export function expectedKeys(spec: BrokenDriverSpec): Set<string> {
  return new Set(spec.expectedFailures.flatMap((g) => g.cases.flatMap((c) => g.profiles.map((p) => `${c}@${p}`))));
}

/** Every profile a spec runs on. */
export function runProfiles(spec: BrokenDriverSpec): string[] {
  return [...new Set(spec.runs.flatMap((r) => r.profiles))];
}
