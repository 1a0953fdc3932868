import { describe, expect, it } from 'vitest';
import { HOST_EVENT_LOG_MAX, HostEventLog } from '../../fakelibvirt/host/host-events.ts';

describe('host event log', () => {
  it('keeps the most recent events in order, whenever it is read, however many were recorded', () => {
    const log = new HostEventLog();
    const total = 2 * HOST_EVENT_LOG_MAX + 123;
    for (let i = 1; i <= total; i++) {
      log.record(i % 2 ? 'kernel' : 'qemu', `line ${i}`, `d${i % 3}`);
      // Read now and then, between the batch trims, and at the very end.
      if (i === HOST_EVENT_LOG_MAX + 7 || i === total) {
        const all = log.all();
        expect(all.length).toBe(HOST_EVENT_LOG_MAX);
        expect(all[0]!.seq).toBe(i - HOST_EVENT_LOG_MAX + 1);
        expect(all.at(-1)).toEqual({ seq: i, source: i % 2 ? 'kernel' : 'qemu', message: `line ${i}`, domain: `d${i % 3}` });
        expect(all.every((e, k) => k === 0 || e.seq === all[k - 1]!.seq + 1)).toBe(true);
      }
    }
    expect(log.lastSeq).toBe(total);
    expect(log.since(total - 3).map((e) => e.seq)).toEqual([total - 2, total - 1, total]);
    // Events older than the kept window are gone for `since` too.
    expect(log.since(0).length).toBe(HOST_EVENT_LOG_MAX);
  });

  it('records an event without a domain as such', () => {
    const log = new HostEventLog();
    expect(log.record('harness', 'kvm_amd reloaded')).toEqual({ seq: 1, source: 'harness', message: 'kvm_amd reloaded' });
    expect('domain' in log.all()[0]!).toBe(false);
  });
});
