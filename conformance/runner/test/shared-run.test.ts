/**
 * Shared runs (catalogue `continues`): slots.reuse-after-delete begins with every step of
 * slots.sev-exhaustion, so a run of both fills the host's SEV slots once; each verdict must equal
 * the one the case gets when judged alone, for a conforming driver and for one that runs out early.
 */
import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../../adapters/reference.ts';
import { isRefusal, type SevDriver } from '../../contract.ts';
import { runConformance } from '../run.ts';

const PAIR = ['slots.sev-exhaustion', 'slots.reuse-after-delete'];

/** The reference driver, counting its spawns; with `refuseAfter`, it refuses every spawn past that many successes. */
function counted(refuseAfter?: number) {
  const stats = { spawns: 0, booted: 0 };
  const factory = async (): Promise<SevDriver> => {
    const d = createReferenceDriver();
    const spawn = d.spawn!.bind(d);
    return {
      ...d,
      describe: d.describe.bind(d),
      reportHost: d.reportHost!.bind(d),
      lifecycle: d.lifecycle!.bind(d),
      close: d.close?.bind(d),
      spawn: async (p) => {
        stats.spawns++;
        if (refuseAfter !== undefined && stats.booted >= refuseAfter) return { code: 'NO_SLOTS', message: 'toy limit' };
        const r = await spawn(p);
        if (!isRefusal(r)) stats.booted++;
        return r;
      },
    };
  };
  return { factory, stats };
}

const verdicts = (r: Awaited<ReturnType<typeof runConformance>>) => r.results.map((x) => [x.caseId, x.status, x.reason]);

describe('shared runs', () => {
  it('both slot cases judged from one fill of naples-7001 (15 slots): 17 spawns instead of 33, the same verdicts as alone', async () => {
    const both = counted();
    const r = await runConformance({ driver: both.factory, profiles: ['naples-7001'], cases: PAIR });
    expect(verdicts(r)).toEqual([[PAIR[0], 'pass', undefined], [PAIR[1], 'pass', undefined]]);
    // 15 fill the slots, the 16th is refused, one more boots after a delete.
    expect(both.stats.spawns).toBe(17);

    const alone = [];
    for (const c of PAIR) alone.push(...verdicts(await runConformance({ driver: counted().factory, profiles: ['naples-7001'], cases: [c] })));
    expect(verdicts(r)).toEqual(alone);
  });

  it('a driver that runs out of slots early fails both, each with the reason it gets alone', async () => {
    const short = counted(9);
    const r = await runConformance({ driver: short.factory, profiles: ['naples-7001'], cases: PAIR });
    expect(r.results.map((x) => x.status)).toEqual(['fail', 'fail']);
    expect(r.results[0]!.reason).toBe('sev guest 10 of 15 was refused: NO_SLOTS (toy limit)');
    expect(short.stats.spawns).toBe(10);
    const alone = [];
    for (const c of PAIR) alone.push(...verdicts(await runConformance({ driver: counted(9).factory, profiles: ['naples-7001'], cases: [c] })));
    expect(verdicts(r)).toEqual(alone);
  });

  it('a driver whose delete does not free the slot passes exhaustion and fails reuse, as alone', async () => {
    // Counting booted guests without ever releasing them: the guest after the delete is refused.
    const leaky = counted(15);
    const r = await runConformance({ driver: leaky.factory, profiles: ['naples-7001'], cases: PAIR });
    expect(r.results.map((x) => x.status)).toEqual(['pass', 'fail']);
    expect(r.results[1]!.reason).toMatch(/^after deleting one of 15 guests, the next sev guest was refused: NO_SLOTS/);
    const alone = [];
    for (const c of PAIR) alone.push(...verdicts(await runConformance({ driver: counted(15).factory, profiles: ['naples-7001'], cases: [c] })));
    expect(verdicts(r)).toEqual(alone);
  });
});
