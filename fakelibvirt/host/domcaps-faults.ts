/**
 * msw-style faults for virConnectGetDomainCapabilities: `use()` makes queries for one guest
 * architecture fail as libvirt does when that arch's QEMU binary cannot be examined (removed or
 * broken after libvirtd listed it in `<capabilities>`), `reset()` restores normal answers.
 */
import type { LibvirtError } from '../../src/libvirt/errors.ts';
import { RuleList } from '../faults/rule-list.ts';

export interface DomcapsFault {
  /** The guest architecture whose queries fail (e.g. i686, armv7l). */
  readonly arch: string;
  /** How many matching queries fail before the rule is used up; default every one. */
  readonly times?: number;
}

export class DomcapsFaults {
  /** A missing binary stays missing: a rule fails every matching query unless `times` limits it. */
  private readonly rules = new RuleList<DomcapsFault>(Infinity);

  /** Prepends the rules; newer rules are consulted first. */
  use(...faults: DomcapsFault[]): void {
    for (const f of faults) {
      if (typeof f.arch !== 'string' || f.arch === '') throw new TypeError('a domcaps fault needs an architecture name');
    }
    this.rules.use(faults);
  }

  reset(): void {
    this.rules.reset();
  }

  /** Throws `error()` when a rule matches this query's arch, consuming one use of it. */
  check(arch: string, error: () => LibvirtError): void {
    if (this.rules.take((r) => r.arch === arch)) throw error();
  }

  get pending(): number {
    return this.rules.pending;
  }

  /** Uses left of a rule given to `use()` (by identity); 0 once used up. */
  remaining(rule: DomcapsFault): number {
    return this.rules.remaining(rule);
  }

  remove(rule: DomcapsFault): void {
    this.rules.remove(rule);
  }
}
