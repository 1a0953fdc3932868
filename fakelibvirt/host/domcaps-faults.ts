/**
 * msw-style faults for virConnectGetDomainCapabilities: `use()` makes queries for one guest
 * architecture fail as libvirt does when that arch's QEMU binary cannot be examined (removed or
 * broken after libvirtd listed it in `<capabilities>`), `reset()` restores normal answers. A
 * rule fails every matching query unless `times` limits it, since a missing binary stays missing.
 */
import type { LibvirtError } from '../../src/libvirt/errors.ts';

export interface DomcapsFault {
  /** The guest architecture whose queries fail (e.g. i686, armv7l). */
  readonly arch: string;
  /** How many matching queries fail before the rule is used up; default every one. */
  readonly times?: number;
}

interface LiveRule {
  readonly arch: string;
  remaining: number;
}

export class DomcapsFaults {
  private rules: LiveRule[] = [];

  /** Prepends the rules; newer rules are consulted first. */
  use(...faults: DomcapsFault[]): void {
    for (const f of faults) {
      if (typeof f.arch !== 'string' || f.arch === '') throw new TypeError('a domcaps fault needs an architecture name');
      const times = f.times ?? Infinity;
      if (!(times >= 1) || (Number.isFinite(times) && !Number.isInteger(times))) {
        throw new RangeError(`domcaps fault times must be a positive integer or Infinity (got ${f.times})`);
      }
    }
    this.rules = [...faults.map((f) => ({ arch: f.arch, remaining: f.times ?? Infinity })), ...this.rules];
  }

  reset(): void {
    this.rules = [];
  }

  /** Throws `error()` when a rule matches this query's arch, consuming one use of it. */
  check(arch: string, error: () => LibvirtError): void {
    const i = this.rules.findIndex((r) => r.arch === arch);
    if (i < 0) return;
    const live = this.rules[i]!;
    live.remaining -= 1;
    if (live.remaining <= 0) this.rules.splice(i, 1);
    throw error();
  }

  get pending(): number {
    return this.rules.length;
  }
}
