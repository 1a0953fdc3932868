/** A deliberately broken driver and the failures the suite must report for it, as data. */
import type { SevDriver } from '../contract.ts';

/** These cases fail on these profiles, for this reason. */
export interface FailureGroup {
  readonly cases: readonly string[];
  readonly profiles: readonly string[];
  readonly why: string;
  /** How the README names a long list of cases, instead of listing them. */
  readonly label?: string;
}

export interface BrokenDriverSpec {
  /** Kebab-case; the driver describes itself as `broken:<name>`. */
  readonly name: string;
  /** The one thing it gets wrong, in a sentence. */
  readonly bug: string;
  readonly create: () => SevDriver;
  /** Where the self-test runs it: profiles that must catch it and profiles where it must pass. */
  readonly profiles: readonly string[];
  /** Every (case × profile) that must fail over `profiles`; everything else there must not. */
  readonly expectedFailures: readonly FailureGroup[];
}

/** `case@profile` keys of every expected failure. */
export function expectedKeys(spec: BrokenDriverSpec): Set<string> {
  return new Set(spec.expectedFailures.flatMap((g) => g.cases.flatMap((c) => g.profiles.map((p) => `${c}@${p}`))));
}
