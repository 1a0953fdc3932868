/**
 * Races for key slots over the wire: 64 clients define and start SEV guests at once on Naples
 * (15 ASIDs). Exactly 15 run, no ASID is handed out twice, every other start fails with QEMU's
 * EBUSY text, and the daemon keeps answering another client.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/libvirt/client.ts';
import { guestXml, sevLaunch } from '../host/sev-guests.ts';
import { Bystander, startHostile } from './support.ts';

describe('races for key slots', () => {
  it('64 concurrent SEV starts on 15 ASIDs: exactly 15 run, each on its own ASID', async () => {
    const d = await startHostile('naples-7001');
    try {
      const bystander = await Bystander.start(d.rw);
      const clients = await Promise.all(Array.from({ length: 64 }, () => connect(d.daemon.uri)));
      const results = await Promise.all(
        clients.map(async (c, i) => {
          const dom = await c.defineXML(guestXml({ name: `race${i}`, launchSecurity: sevLaunch('0x0033', '<cbitpos>47</cbitpos><reducedPhysBits>1</reducedPhysBits>') }));
          return c.domainCreate(dom).then(
            () => 'running',
            (e: Error) => e.message,
          );
        }),
      );
      const lat = await bystander.stop();
      expect(results.filter((r) => r === 'running')).toHaveLength(15);
      for (const r of results.filter((x) => x !== 'running')) expect(r).toMatch(/sev_guest_init: failed to initialize ret=-16/);
      const asids = d.host.control.inspect().asids.inUse.map((a) => a.asid);
      expect(asids).toHaveLength(15);
      expect(new Set(asids).size).toBe(15);
      // Answered throughout; its wait is the 64 starts queued ahead of it on one thread.
      expect(lat.count).toBeGreaterThan(0);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await d.close();
    }
  });
});
