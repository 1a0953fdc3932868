/**
 * How a judge ends a case other than by a verdict: the three exceptions the run loop turns into
 * statuses. Anything else thrown while a case runs is an `error` (a crash or protocol failure).
 */

/** The driver answered, but not in the contract's shape: the case fails with the schema's complaint. */
export class MalformedAnswer extends Error {
  override readonly name = 'MalformedAnswer';
}

/** The situation a case needs could not be arranged through the driver (e.g. a boot it refused). */
export class ArrangeFailure extends Error {
  override readonly name = 'ArrangeFailure';
}

/** The target cannot show or do what the case needs (a real host cannot inject firmware faults). */
export class NotApplicable extends Error {
  override readonly name = 'NotApplicable';
}

/** A mistake in what the runner was asked to run (unknown profile or case): the caller's fault. */
export class RunnerUsageError extends Error {
  override readonly name = 'RunnerUsageError';
}

/** A judge's verdict: pass (with an optional advisory note) or fail with a one-line reason. */
export type Verdict = { readonly ok: true; readonly note?: string } | { readonly ok: false; readonly reason: string };

export const PASS: Verdict = { ok: true };
export const fail = (reason: string): Verdict => ({ ok: false, reason });
