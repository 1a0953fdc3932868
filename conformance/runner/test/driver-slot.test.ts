/**
 * The runner's time limits on drivers (PROTOCOL.md §6), with tiny injected limits: a hung operation
 * makes its case an error naming the timeout, the driver is replaced and the next case runs on a
 * new one; a driver whose start or close hangs cannot hang the run.
 */
import { describe, expect, it } from 'vitest';
import type { SevDriver } from '../../contract.ts';
import { DEFAULT_DRIVER_LIMITS, DriverSlot, driverLimits, MALFORMED_RESULT } from '../driver-slot.ts';
import { MalformedAnswer, RunnerUsageError } from '../outcomes.ts';
import { runConformance } from '../run.ts';
import { describeAs, sysfsDriver } from './toy-drivers.ts';

/** Two cases an honest reportHost-only driver passes on intel-xeon, in catalogue order. */
const CASES = ['detect.kernel-param-missing', 'inventory.no-sev-on-plain-host'];
const SHORT = { opsMs: { reportHost: 50 }, closeMs: 50, startMs: 200 };
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** A driver whose every operation and close() hang. */
function hungDriver(onClose: () => void): SevDriver {
  return { describe: describeAs(['reportHost'], 'hung'), reportHost: never, close: () => (onClose(), never()) };
}

describe('driver limits', () => {
  it('default to PROTOCOL.md §6: 30 s per operation, 60 s for spawn and lifecycle', () => {
    expect(driverLimits()).toEqual(DEFAULT_DRIVER_LIMITS);
    expect(DEFAULT_DRIVER_LIMITS.opsMs).toMatchObject({ reportHost: 30_000, validateRequest: 30_000, spawn: 60_000, lifecycle: 60_000 });
    const l = driverLimits({ opsMs: { spawn: 5 }, closeMs: 7 });
    expect([l.opsMs.spawn, l.opsMs.lifecycle, l.closeMs, l.startMs]).toEqual([5, 60_000, 7, DEFAULT_DRIVER_LIMITS.startMs]);
  });

  it('refuses a limit that is not a positive number of milliseconds, or an unknown operation', () => {
    expect(() => driverLimits({ closeMs: 0 })).toThrow(RunnerUsageError);
    expect(() => driverLimits({ opsMs: { spawn: Number.NaN } })).toThrow(/opsMs\.spawn must be a positive number of milliseconds, got NaN/);
    expect(() => new DriverSlot(async () => sysfsDriver(), { opsMs: { boot: 5 } as never })).toThrow(/unknown operation 'boot'/);
    expect(() => new DriverSlot(async () => sysfsDriver(), { startMs: -1 })).toThrow(/startMs/);
  });
});

describe('answers an adapter already found malformed', () => {
  it('are judged as the driver\'s wrong answer (MalformedAnswer), like one the runner finds itself', async () => {
    const rejecting: SevDriver = {
      describe: describeAs(['reportHost'], 'checked-by-adapter'),
      reportHost: async () => {
        throw Object.assign(new Error("driver's reportHost result does not match the contract: traits"), { code: MALFORMED_RESULT });
      },
    };
    const slot = new DriverSlot(async () => rejecting);
    const call = slot.call('reportHost', { uri: 'qemu:///system', sysroot: '/', config: { machineTypes: {}, maxEncryptedGuests: null, ovmf: [] } });
    await expect(call).rejects.toBeInstanceOf(MalformedAnswer);
    await expect(call).rejects.toThrow(/does not match the contract: traits/);
  });
});

describe('runConformance with hung drivers', () => {
  it('a hung operation errors its case with the timeout, and the next case runs on a new driver', async () => {
    const made: string[] = [];
    let closed = 0;
    const factory = async (): Promise<SevDriver> => {
      made.push(made.length === 0 ? 'hung' : 'honest');
      return made.length === 1 ? hungDriver(() => closed++) : sysfsDriver();
    };
    const r = await runConformance({ driver: factory, profiles: ['intel-xeon'], cases: CASES, limits: SHORT });
    expect(r.results.map((x) => [x.caseId, x.status])).toEqual([[CASES[0], 'error'], [CASES[1], 'pass']]);
    expect(r.results[0]!.reason).toBe('DriverTimeout: reportHost did not answer within 0.05 s');
    expect(made).toEqual(['hung', 'honest']);
    expect(closed).toBe(1);
  });

  it('a driver whose close() hangs does not hang the run, between cases or at its end', async () => {
    let closes = 0;
    // Every driver hangs on reportHost and on close: each case times out, each stop gives up on close.
    const r = await runConformance({ driver: async () => hungDriver(() => closes++), profiles: ['intel-xeon'], cases: CASES, limits: SHORT });
    expect(r.results.map((x) => x.status)).toEqual(['error', 'error']);
    expect(closes).toBe(2);

    // A driver that answers but never closes: the run still ends, with its results.
    const answering: SevDriver = { ...sysfsDriver(), close: never };
    const ok = await runConformance({ driver: async () => answering, profiles: ['intel-xeon'], cases: CASES, limits: SHORT });
    expect(ok.counts.pass).toBe(2);
  });

  it('a driver that does not start in time errors every applicable case with the reason', async () => {
    const r = await runConformance({ driver: never, profiles: ['intel-xeon'], cases: CASES, limits: SHORT });
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['error', 'the driver did not start: starting the driver did not answer within 0.2 s'],
      ['error', 'the driver did not start: starting the driver did not answer within 0.2 s'],
    ]);
  });

  it('a late driver after a start timeout is closed when it turns up', async () => {
    let closed = false;
    let arrive: (d: SevDriver) => void = () => undefined;
    const slot = new DriverSlot(() => new Promise<SevDriver>((res) => (arrive = res)), { startMs: 20 });
    await expect(slot.driver()).rejects.toThrow('starting the driver did not answer within 0.02 s');
    arrive({ ...sysfsDriver(), close: async () => void (closed = true) });
    await new Promise((res) => setImmediate(res));
    expect(closed).toBe(true);
  });
});
