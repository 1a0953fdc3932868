/**
 * msw-style fault injection for the firmware: `use()` prepends "which command" + "what status"
 * rules, the next matching command answers with that status instead of running, and
 * `reset()` restores normal behaviour. Kept apart from the firmware so the rule matching is
 * one small, separately tested thing.
 */
import type { FirmwareCommand } from './commands.ts';
import { RuleList } from '../faults/rule-list.ts';

export interface FirmwareOverride {
  readonly command: FirmwareCommand;
  /** The firmware status to answer with (non-zero). */
  readonly status: number;
  /** How many matching calls fail before the rule is used up; default 1. `Infinity` never expires. */
  readonly times?: number;
  /** Only calls for this guest handle match; default any. */
  readonly handle?: number;
}

export class OverrideList {
  private readonly rules = new RuleList<FirmwareOverride>(1);

  /** Prepends the rules; like `server.use(a, b)`, `a` is consulted before `b` and before older rules. */
  use(...rules: FirmwareOverride[]): void {
    for (const r of rules) {
      if (!Number.isInteger(r.status) || r.status <= 0) throw new RangeError(`override status must be a non-zero firmware status (got ${r.status})`);
    }
    this.rules.use(rules);
  }

  reset(): void {
    this.rules.reset();
  }

  /** The status a matching rule injects for this call, consuming one use of it; null if none. */
  take(command: FirmwareCommand, handle: number | null): number | null {
    if (this.rules.pending === 0) return null;
    return this.rules.take((r) => r.command === command && (r.handle === undefined || r.handle === handle))?.status ?? null;
  }

  get pending(): number {
    return this.rules.pending;
  }

  /** Uses left of a rule given to `use()` (by identity); 0 once used up. */
  remaining(rule: FirmwareOverride): number {
    return this.rules.remaining(rule);
  }

  remove(rule: FirmwareOverride): void {
    this.rules.remove(rule);
  }
}
