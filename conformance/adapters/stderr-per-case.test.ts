/**
 * A process driver's stderr reaches the report per case: each case carries what the driver wrote
 * while it ran (not everything so far), and a crash keeps its traceback with the case that crashed
 * (the runner reads the log after it has stopped the dead driver, not before).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startProcessDriver } from './process.ts';
import { runConformance } from '../runner/run.ts';

const DRIVER = fileURLToPath(new URL('./fixtures/stderr-driver.mjs', import.meta.url));

describe('driver stderr in the report', () => {
  it('is attached per case, and a crash keeps its traceback', async () => {
    const report = await runConformance({
      driver: () => startProcessDriver([process.execPath, DRIVER]),
      profiles: ['intel-xeon'],
      cases: ['request.no-flag', 'request.bios-image', 'request.flavor-flag'],
    });
    const by = new Map(report.results.map((r) => [r.caseId, r]));
    const crashed = by.get('request.bios-image')!;
    expect(crashed.status).toBe('error');
    expect(crashed.driverLog).toContain('Traceback (most recent call last):');
    expect(crashed.driverLog).toContain('ValueError: bios images are not handled');
    expect(crashed.reason).toContain('ValueError: bios images are not handled');
    // The other cases: their own line only, never the crash's traceback or each other's lines.
    for (const id of ['request.no-flag', 'request.flavor-flag']) {
      const r = by.get(id)!;
      expect(r.status, id).toBe('pass');
      expect(r.driverLog?.trim().split('\n'), id).toHaveLength(1);
      expect(r.driverLog, id).toMatch(/^validating image /);
    }
  }, 60_000);
});
