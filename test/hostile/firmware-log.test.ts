/** Issue 15, finding 7: the firmware's command log grew without end (heap 11 → 188 MiB over 250 k guest starts). */
import { describe, expect, it } from 'vitest';
import { COMMAND_LOG_MAX, SevFirmware } from '../../fakelibvirt/firmware/sev-firmware.ts';

describe('SEV firmware command log', () => {
  it(`keeps the most recent ${COMMAND_LOG_MAX} commands, oldest first, with seq counting on`, () => {
    const fw = new SevFirmware({ apiMajor: 1, apiMinor: 52, build: 4, esInitialised: true, snpInitialised: false });
    const total = 3 * COMMAND_LOG_MAX + 7;
    for (let i = 0; i < total; i++) fw.platformStatus();
    const log = fw.commandLog();
    expect(log).toHaveLength(COMMAND_LOG_MAX);
    expect(log[0]!.seq).toBe(total - COMMAND_LOG_MAX + 1);
    expect(log[log.length - 1]!.seq).toBe(total);
    // The array behind it stays within twice the bound.
    expect((fw as unknown as { log: unknown[] }).log.length).toBeLessThan(2 * COMMAND_LOG_MAX);
  });
});
