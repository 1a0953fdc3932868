import { describe, expect, it } from 'vitest';
import { RuleList } from '../../fakelibvirt/faults/rule-list.ts';

interface Rule {
  readonly on: string;
  readonly tag: string;
  readonly times?: number;
}

describe('RuleList: the rules behind the fault hooks', () => {
  it('consults the newest rule first and uses a rule up after its times', () => {
    const l = new RuleList<Rule>(1);
    l.use([{ on: 'a', tag: 'old', times: 2 }]);
    l.use([{ on: 'a', tag: 'new' }, { on: 'b', tag: 'b' }]);
    const take = (on: string) => l.take((r) => r.on === on)?.tag ?? null;
    expect([take('a'), take('a'), take('a'), take('a')]).toEqual(['new', 'old', 'old', null]);
    expect(take('b')).toBe('b');
    expect(l.pending).toBe(0);
  });

  it('a default of Infinity never expires; reset drops every rule', () => {
    const l = new RuleList<Rule>(Infinity);
    l.use([{ on: 'x', tag: 'x' }]);
    for (let i = 0; i < 1000; i++) expect(l.take((r) => r.on === 'x')).not.toBeNull();
    l.reset();
    expect(l.take(() => true)).toBeNull();
  });

  it('refuses times that are not a positive integer or Infinity, and keeps the rules it had', () => {
    const l = new RuleList<Rule>(1);
    l.use([{ on: 'a', tag: 'kept' }]);
    for (const times of [0, -1, 1.5, Number.NaN]) {
      expect(() => l.use([{ on: 'a', tag: 'bad', times }])).toThrow(/positive integer or Infinity/);
    }
    expect(l.pending).toBe(1);
  });
});
