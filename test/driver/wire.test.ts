import { afterAll, describe, expect, it } from 'vitest';
import { allProfiles } from '../../fakelibvirt/profile/load.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { WireSource } from '../../src/driver/host-source.ts';
import { ReferenceSevDriver } from '../../src/driver/index.ts';
import { startFake, type FakeDaemon } from '../daemon/helpers.ts';
import { filesOf, sevFlavor, uefiImage } from './helpers.ts';

/** The reference driver talking to the fake only through the socket, as it would to a real libvirtd. */
const sevProfiles = [...allProfiles().keys()].filter((name) => {
  const p = allProfiles().get(name)!;
  return (p.cpuid8000001f?.ecx ?? 0) > 0 && !name.startsWith('rome-7002-') && p.cpuid8000001f!.edx <= p.cpuid8000001f!.ecx;
});

describe('reference driver over the wire', () => {
  const open: Array<{ fake: FakeDaemon; client: LibvirtClient }> = [];
  afterAll(async () => {
    for (const o of open) {
      await o.client.close().catch(() => undefined);
      await o.fake.close();
    }
  });

  it.each(sevProfiles)('boots an SEV guest on %s through the socket', async (profile) => {
    const fake = await startFake(profile);
    const client = await connect(fake.uri);
    open.push({ fake, client });
    // Before libvirt 8.0 (Naples here) domcaps carry no maxGuests and kernel 5.4 has no misc
    // cgroup: the driver offers no slots unless the operator states the number.
    const truth = fake.host.sevView!.maxGuests;
    const stated = fake.host.domainCapabilities().includes('<maxGuests>') ? {} : { num_memory_encrypted_guests: truth };
    const driver = new ReferenceSevDriver(new WireSource(client), filesOf(fake.host), { hw_machine_type: { x86_64: 'q35' }, ...stated });
    const report = await driver.init();
    expect(report.sev.available).toBe(true);
    expect(report.sev.slots).toBe(truth);
    await driver.spawn({ uuid: 'c0ffee00-0000-4000-8000-000000000002', name: 'vm1', flavor: sevFlavor(), image: uefiImage() });
    const snap = fake.host.control.inspect();
    const guest = snap.guests.find((g) => g.state === 'running');
    const cpuid = fake.host.cpuid!;
    expect(guest?.asid).toBeGreaterThanOrEqual(cpuid.minSevAsid);
    expect(guest?.asid).toBeLessThanOrEqual(cpuid.maxSevAsid);
    expect(guest?.policy).toBe('0x33');
    expect(guest?.faults).toEqual([]);
    expect(snap.pinnedKiB).toBeGreaterThan(0);
  });
});
