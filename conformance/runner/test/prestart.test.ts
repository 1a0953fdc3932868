/**
 * A slow-to-start driver (a process: `DriverFactory.prestart`) has its next instance started as
 * soon as the last one stopped, never while it runs; the spare is the next driver the runner gets,
 * its start limit counts from its own start, and the end of a run closes it. Other drivers are
 * made only when needed. A lane of a parallel run keeps one slot across its pieces.
 */
import { describe, expect, it } from 'vitest';
import type { SevDriver } from '../../contract.ts';
import { DriverSlot, DriverTimeout } from '../driver-slot.ts';
import type { DriverFactory } from '../driver-spec.ts';
import { FakeTarget } from '../fake-target.ts';
import { pieceRunner } from '../lanes.ts';
import { sysfsDriver } from './toy-drivers.ts';

interface Made {
  readonly driver: SevDriver;
  closed: boolean;
}

/** A factory recording each driver it made, when, and whether it was closed; `live` counts drivers made and not closed. */
function recording(opts: { prestart: boolean; startMs?: number }) {
  const made: Made[] = [];
  let live = 0;
  let maxLive = 0;
  const make = async (): Promise<SevDriver> => {
    if (opts.startMs) await new Promise((r) => setTimeout(r, opts.startMs));
    const entry: Made = { driver: sysfsDriver(), closed: false };
    entry.driver.close = async () => {
      entry.closed = true;
      live -= 1;
    };
    made.push(entry);
    live += 1;
    maxLive = Math.max(maxLive, live);
    return entry.driver;
  };
  const factory: DriverFactory = opts.prestart ? Object.assign(make, { prestart: true }) : make;
  return { factory, made, maxLive: () => maxLive };
}

describe('a driver started ahead (DriverFactory.prestart)', () => {
  it('starts after the last one stopped and is the next one taken; the run end closes it', async () => {
    const r = recording({ prestart: true });
    const slot = new DriverSlot(r.factory);
    const first = await slot.driver();
    await slot.stop();
    await new Promise((res) => setTimeout(res, 0));
    expect(r.made).toHaveLength(2);
    expect(r.made[0]!.closed).toBe(true);
    expect(await slot.driver()).toBe(r.made[1]!.driver);
    expect(await slot.driver()).not.toBe(first);
    await slot.stop();
    await slot.close();
    expect(r.made.every((m) => m.closed)).toBe(true);
    // Never two at once: the spare starts once the last one has closed.
    expect(r.maxLive()).toBe(1);
  });

  it('is not made for a driver without prestart, nor by a stop that asks for none', async () => {
    const plain = recording({ prestart: false });
    const slot = new DriverSlot(plain.factory);
    await slot.driver();
    await slot.stop();
    expect(plain.made).toHaveLength(1);
    const slow = recording({ prestart: true });
    const other = new DriverSlot(slow.factory);
    await other.driver();
    await other.stop({ next: false });
    await other.close();
    expect(slow.made).toHaveLength(1);
  });

  it('has its start limit counted from its own start', async () => {
    const slow: DriverFactory = Object.assign(() => new Promise<SevDriver>(() => undefined), { prestart: true });
    const slot = new DriverSlot(slow, { startMs: 40 });
    await slot.stop();
    await new Promise((res) => setTimeout(res, 60));
    const t0 = performance.now();
    await expect(slot.driver()).rejects.toThrow(DriverTimeout);
    // Already past its limit when taken: it fails at once, not 40 ms later.
    expect(performance.now() - t0).toBeLessThan(30);
  });
});

describe('a lane of a parallel run', () => {
  it('runs each piece on a fresh driver, the next started while the last piece ends', async () => {
    const r = recording({ prestart: true });
    const target = new FakeTarget();
    const lane = pieceRunner(r.factory, target, () => undefined);
    try {
      const a = await lane.run({ profile: 'intel-xeon', cases: ['detect.kernel-param-missing'] });
      const b = await lane.run({ profile: 'intel-xeon', cases: ['inventory.no-sev-on-plain-host'] });
      expect([a.counts.pass, b.counts.pass]).toEqual([1, 1]);
      // One driver per piece, and the one started for a third piece that never came.
      expect(r.made).toHaveLength(3);
      expect(r.made.slice(0, 2).every((m) => m.closed)).toBe(true);
    } finally {
      await lane.close();
      await target.close();
    }
    expect(r.made.every((m) => m.closed)).toBe(true);
    expect(r.maxLive()).toBe(1);
  });
});
