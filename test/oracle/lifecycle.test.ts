/**
 * Lifecycle answers on a plain guest, held to what real libvirt 9.0 answered
 * (oracle/records/libvirt-9.0.0-lifecycle.json, re-recorded by `node bin/run-ts.js
 * oracle/lifecycle/record.ts`). Needs no libvirt: the records are committed.
 * Of an XML answer only the sizes the scenarios change are compared (memory, currentMemory,
 * vcpu): the rest of the inactive XML is the define pipeline's, judged by the golden test.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import type { StepAnswer } from '../../oracle/oracle-process.ts';
import { LIFECYCLE_RECORDS, type LifecycleRecord } from '../../oracle/lifecycle/record.ts';
import { runScenarioOnFake } from '../../oracle/lifecycle/run-fake.ts';
import { SCENARIOS } from '../../oracle/lifecycle/scenarios.ts';

const records = JSON.parse(readFileSync(LIFECYCLE_RECORDS, 'utf8')) as LifecycleRecord[];

/** An answer as compared: XML reduced to its size elements. */
function comparable(a: StepAnswer): StepAnswer {
  if (a.outcome !== 'ok' || typeof a.ret !== 'string') return a;
  const sizes = a.ret.split('\n').filter((l) => /^\s*<(memory|currentMemory|vcpu)\b/.test(l)).map((l) => l.trim());
  return { outcome: 'ok', ret: sizes };
}

describe('lifecycle on a plain guest against libvirt 9.0 (milan-7003-es8)', () => {
  it('the records cover the scenario list as it stands', () => {
    expect(records.map((r) => [r.id, 'steps' in r.answer ? r.answer.steps.length : -1])).toEqual(SCENARIOS.map((s) => [s.id, s.steps.length]));
  });

  for (const s of SCENARIOS) {
    it(s.id, () => {
      const rec = records.find((r) => r.id === s.id);
      if (rec?.answer.outcome !== 'ok' || !('steps' in rec.answer)) throw new Error(`no usable record for ${s.id}`);
      const recorded = rec.answer.steps;
      const fake = runScenarioOnFake(new FakeHost(loadProfile('milan-7003-es8')), s);
      const rows = s.steps.map((step, i) => ({ step: JSON.stringify(step), libvirt: comparable(recorded[i] as StepAnswer), fake: comparable(fake[i] as StepAnswer) }));
      expect(rows.map((r) => ({ step: r.step, answer: r.fake }))).toEqual(rows.map((r) => ({ step: r.step, answer: r.libvirt })));
    });
  }
});
