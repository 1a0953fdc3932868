/**
 * The rule list behind the fake's msw-style fault hooks (firmware statuses, domcaps failures):
 * `use()` prepends rules, so the newest is consulted first, like `server.use(a, b)`; a matching call
 * consumes one use of the first rule that matches; `reset()` drops them all. What a rule matches and
 * what it injects belong to the hook that owns the list.
 */
export interface CountedRule {
  /** How many matching calls the rule answers before it is used up; `Infinity` never expires. */
  readonly times?: number;
}

interface LiveRule<R> {
  readonly rule: R;
  remaining: number;
}

export class RuleList<R extends CountedRule> {
  private rules: LiveRule<R>[] = [];

  /** @param defaultTimes uses of a rule that names no `times` */
  constructor(private readonly defaultTimes: number) {}

  use(rules: readonly R[]): void {
    const added = rules.map((rule) => ({ rule, remaining: rule.times ?? this.defaultTimes }));
    for (const { rule, remaining } of added) {
      if (!(remaining >= 1) || (Number.isFinite(remaining) && !Number.isInteger(remaining))) {
        throw new RangeError(`a fault rule's times must be a positive integer or Infinity (got ${rule.times})`);
      }
    }
    this.rules = [...added, ...this.rules];
  }

  reset(): void {
    this.rules = [];
  }

  /** The first rule that matches, with one of its uses consumed; null when none does. */
  take(matches: (rule: R) => boolean): R | null {
    const i = this.rules.findIndex((l) => matches(l.rule));
    if (i < 0) return null;
    const live = this.rules[i]!;
    live.remaining -= 1;
    if (live.remaining <= 0) this.rules.splice(i, 1);
    return live.rule;
  }

  get pending(): number {
    return this.rules.length;
  }

  /** Uses left of a rule given to `use()` (by identity); 0 once it is used up or reset away. */
  remaining(rule: R): number {
    return this.rules.find((l) => l.rule === rule)?.remaining ?? 0;
  }

  /** Drops one rule (by identity), used or not: how a scoped fault is taken back. */
  remove(rule: R): void {
    this.rules = this.rules.filter((l) => l.rule !== rule);
  }
}
