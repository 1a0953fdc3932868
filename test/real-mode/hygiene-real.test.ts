/**
 * Clean hosts on this machine's real libvirt 9.0: a dead run's leftover domain (a check's name
 * prefix) is swept when real mode starts, a foreign domain defined beside it is not touched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { tinyDomainXml } from '../../conformance/real/checks.ts';
import { CHECK_DOMAIN_PREFIX } from '../../conformance/real/host-hygiene.ts';
import { requireSystemLibvirtd } from '../../conformance/real/system-libvirtd.ts';
import { RealTarget } from '../../conformance/real/target.ts';
import { connect } from '../../src/libvirt/client.ts';

const system = await requireSystemLibvirtd();

describe.skipIf(!system.available)('real mode on the real libvirt leaves the host as it found it', () => {
  afterAll(async () => {
    if (system.available) await system.stop();
  });

  it('sweeps a leftover, keeps a foreign domain', async () => {
    if (!system.available) return;
    const c = await connect(system.uri);
    const foreignName = `foreign-${process.pid}`;
    try {
      const foreign = await c.defineXML(tinyDomainXml(foreignName, 'qemu'));
      await c.defineXML(tinyDomainXml(`${CHECK_DOMAIN_PREFIX}leftover-${process.pid}`, 'qemu'));
      const target = await RealTarget.open({ uri: system.uri });
      expect(target.swept).toContain(`${CHECK_DOMAIN_PREFIX}leftover-${process.pid}`);
      await target.close();
      const left = (await c.listAllDomains()).map((d) => d.name);
      expect(left).toContain(foreignName);
      expect(left.filter((n) => n.startsWith(CHECK_DOMAIN_PREFIX))).toEqual([]);
      await c.undefine(foreign);
    } finally {
      await c.close();
    }
  }, 60_000);
});
