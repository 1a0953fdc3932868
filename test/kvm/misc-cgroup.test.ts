import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { deriveKernel } from '../../fakelibvirt/profile/derive.ts';
import { KvmError } from '../../fakelibvirt/kvm/errno.ts';
import { MiscCgroup, ROOT_CGROUP } from '../../fakelibvirt/kvm/misc-cgroup.ts';
import { errnoOf as errOf } from './errno-of.ts';

const VM = '/machine.slice';


describe('misc cgroup files', () => {
  it('misc.capacity lists only resources with capacity', () => {
    expect(new MiscCgroup({ sev: 502, sev_es: 7 }).formatCapacity()).toBe('sev 502\nsev_es 7\n');
    expect(new MiscCgroup({ sev: 509 }).formatCapacity()).toBe('sev 509\n');
    expect(new MiscCgroup(null).formatCapacity()).toBeNull();
  });

  it('derives capacities from the kernel state of a profile', () => {
    const cg = MiscCgroup.fromKernel(deriveKernel(loadProfile('milan-7003-es8')));
    expect(cg.formatCapacity()).toBe('sev 502\nsev_es 7\n');
  });

  it('a fresh child reads zeros and "max"', () => {
    const cg = new MiscCgroup({ sev: 502, sev_es: 7 });
    cg.create(VM);
    expect(cg.formatCurrent(VM)).toBe('sev 0\nsev_es 0\n');
    expect(cg.formatPeak(VM)).toBe('sev 0\nsev_es 0\n');
    expect(cg.formatMax(VM)).toBe('sev max\nsev_es max\n');
    expect(cg.formatEvents(VM)).toBe('sev.max 0\nsev_es.max 0\n');
    expect(cg.formatEventsLocal(VM)).toBe('sev.max 0\nsev_es.max 0\n');
  });

  it('the root has misc.current but no misc.max or misc.events', () => {
    const cg = new MiscCgroup({ sev: 15 });
    expect(cg.formatCurrent(ROOT_CGROUP)).toBe('sev 0\n');
    expect(cg.formatMax(ROOT_CGROUP)).toBeNull();
    expect(cg.formatEvents(ROOT_CGROUP)).toBeNull();
    expect(errOf(() => cg.writeMax(ROOT_CGROUP, 'sev 1'))).toBe('ENOENT');
  });
});

describe('charging', () => {
  it('charges up to max, then -EBUSY bumps sev.max in events and events.local', () => {
    const cg = new MiscCgroup({ sev: 502, sev_es: 7 });
    cg.create(VM);
    cg.writeMax(VM, 'sev 1\n');
    expect(cg.formatMax(VM)).toBe('sev 1\nsev_es max\n');
    cg.tryCharge(VM, 'sev');
    const e = (() => { try { cg.tryCharge(VM, 'sev'); } catch (x) { return x; } return null; })();
    expect(e).toBeInstanceOf(KvmError);
    expect((e as KvmError).ret).toBe(-16);
    expect(cg.formatCurrent(VM)).toBe('sev 1\nsev_es 0\n');
    expect(cg.formatEvents(VM)).toBe('sev.max 1\nsev_es.max 0\n');
    expect(cg.formatEventsLocal(VM)).toBe('sev.max 1\nsev_es.max 0\n');
    expect(cg.current(ROOT_CGROUP, 'sev')).toBe(1);
    cg.uncharge(VM, 'sev');
    expect(cg.formatCurrent(VM)).toBe('sev 0\nsev_es 0\n');
    expect(cg.formatPeak(VM)).toBe('sev 1\nsev_es 0\n');
    cg.setMax(VM, 'sev', 'max');
    expect(cg.max(VM, 'sev')).toBe('max');
  });

  it('capacity 0 is -EINVAL and counts no event', () => {
    const cg = new MiscCgroup({ sev: 509 });
    cg.create(VM);
    expect(errOf(() => cg.tryCharge(VM, 'sev_es'))).toBe('EINVAL');
    expect(cg.formatEvents(VM)).toBe('sev.max 0\n');
  });

  it('writing misc.max for a resource without capacity, or garbage, is -EINVAL', () => {
    const cg = new MiscCgroup({ sev: 509 });
    cg.create(VM);
    expect(errOf(() => cg.writeMax(VM, 'sev_es 1'))).toBe('EINVAL');
    expect(errOf(() => cg.writeMax(VM, 'tdx 1'))).toBe('EINVAL');
    expect(errOf(() => cg.writeMax(VM, 'sev'))).toBe('EINVAL');
    expect(errOf(() => cg.writeMax(VM, 'sev -1'))).toBe('EINVAL');
    cg.writeMax(VM, 'sev 4');
    expect(cg.max(VM, 'sev')).toBe(4);
  });

  it('the capacity binds even when every max is "max"', () => {
    const cg = new MiscCgroup({ sev: 2 });
    cg.create(VM);
    cg.tryCharge(VM, 'sev');
    cg.tryCharge(VM, 'sev');
    // The child's own count (3) already exceeds the capacity, so the child is where it fails.
    expect(errOf(() => cg.tryCharge(VM, 'sev'))).toBe('EBUSY');
    expect(cg.events(VM, 'sev')).toBe(1);
  });

  it('a failure at a parent is counted there and above, not in the child', () => {
    const cg = new MiscCgroup({ sev: 10 });
    cg.create('/a');
    cg.create('/a/b');
    cg.create('/a/b/c');
    cg.setMax('/a', 'sev', 1);
    cg.tryCharge('/a/b/c', 'sev');
    expect(errOf(() => cg.tryCharge('/a/b/c', 'sev'))).toBe('EBUSY');
    expect(cg.eventsLocal('/a', 'sev')).toBe(1);
    expect(cg.events('/a', 'sev')).toBe(1);
    expect(cg.events('/a/b', 'sev')).toBe(0);
    expect(cg.events('/a/b/c', 'sev')).toBe(0);
    // The failed charge was undone at every level.
    expect(cg.current('/a/b/c', 'sev')).toBe(1);
    expect(cg.current(ROOT_CGROUP, 'sev')).toBe(1);
  });

  it('a failure at the root (capacity) shows in no events file', () => {
    const cg = new MiscCgroup({ sev: 1 });
    cg.create('/x');
    cg.create('/y');
    cg.tryCharge('/x', 'sev');
    expect(errOf(() => cg.tryCharge('/y', 'sev'))).toBe('EBUSY');
    expect(cg.formatEvents('/y')).toBe('sev.max 0\n');
    expect(cg.formatEvents('/x')).toBe('sev.max 0\n');
  });

  it('without the controller, charges always succeed', () => {
    const cg = new MiscCgroup(null);
    for (let i = 0; i < 100; i++) cg.tryCharge(ROOT_CGROUP, 'sev_es');
    expect(cg.formatCurrent(ROOT_CGROUP)).toBeNull();
  });

  it('tree operations: mkdir needs a parent, rmdir refuses a parent', () => {
    const cg = new MiscCgroup({ sev: 1 });
    expect(errOf(() => cg.create('/a/b'))).toBe('ENOENT');
    cg.create('/a');
    expect(errOf(() => cg.create('/a'))).toBe('EEXIST');
    cg.create('/a/b');
    expect(errOf(() => cg.remove('/a'))).toBe('EBUSY');
    cg.remove('/a/b');
    cg.remove('/a');
    expect(cg.has('/a')).toBe(false);
    expect(errOf(() => cg.tryCharge('/a', 'sev'))).toBe('ENOENT');
  });

  it('uncharging below zero is a model bug', () => {
    expect(() => new MiscCgroup({ sev: 1 }).uncharge(ROOT_CGROUP, 'sev')).toThrow('became less than 0');
  });
});
