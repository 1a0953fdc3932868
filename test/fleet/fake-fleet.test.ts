import { describe, expect, it } from 'vitest';
import { FakeFleet } from '../../fakelibvirt/fleet/fake-fleet.ts';
import { fleetLayout, parseFleetSpec, FleetSpecError } from '../../fakelibvirt/fleet/fleet-spec.ts';
import { sharedDomainCapabilitiesXml } from '../../fakelibvirt/fleet/shared-views.ts';
import { domainCapabilitiesXml } from '../../fakelibvirt/views/domain-capabilities.ts';
import { domainContext } from '../../fakelibvirt/libvirt/domain/context.ts';
import type { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { guestXml, sevLaunch } from '../host/sev-guests.ts';

/** A small SEV guest with the host's C-bit written out (older libvirt requires it). */
const sevGuest = (host: FakeHost, name: string) =>
  guestXml({ name, memoryKiB: 131072, launchSecurity: sevLaunch('0x0033', `<cbitpos>${host.sevView!.cbitpos}</cbitpos><reducedPhysBits>1</reducedPhysBits>`) });

describe('fleet spec', () => {
  it('reads weights with a size, and counts without one', () => {
    expect(parseFleetSpec('rome-7002:3,genoa-9004:1@8')).toEqual({ size: 8, mix: [{ profile: 'rome-7002', weight: 3 }, { profile: 'genoa-9004', weight: 1 }] });
    expect(parseFleetSpec('rome-7002:300,genoa-9004')).toEqual({ size: 301, mix: [{ profile: 'rome-7002', weight: 300 }, { profile: 'genoa-9004', weight: 1 }] });
    for (const bad of ['', 'rome-7002:0', 'rome-7002:x', 'a,,b', 'rome-7002@0', 'rome-7002@-3']) expect(() => parseFleetSpec(bad), bad).toThrow(FleetSpecError);
  });

  it('gives each share its proportion, interleaved, summing to the size', () => {
    const layout = fleetLayout({ size: 1000, mix: [{ profile: 'a', weight: 3 }, { profile: 'b', weight: 5 }, { profile: 'c', weight: 2 }] });
    expect(layout).toHaveLength(1000);
    const count = (xs: number[], k: number) => xs.filter((x) => x === k).length;
    expect([0, 1, 2].map((k) => count(layout, k))).toEqual([300, 500, 200]);
    // Any prefix is close to the mix, so a fleet cut short still looks like it.
    const head = layout.slice(0, 100);
    expect([0, 1, 2].map((k) => count(head, k))).toEqual([30, 50, 20]);
    // Largest remainder: 7 hosts of a 1:1:1 mix give 3, 2, 2.
    expect(fleetLayout({ size: 7, mix: [{ profile: 'a', weight: 1 }, { profile: 'b', weight: 1 }, { profile: 'c', weight: 1 }] }).sort()).toEqual([0, 0, 0, 1, 1, 2, 2]);
  });
});

describe('FakeFleet', () => {
  const fleet = new FakeFleet('rome-7002:2,naples-7001:1,intel-xeon:1@40');

  it('builds every host under a unique name, grouped by profile', () => {
    expect(fleet.size).toBe(40);
    const names = fleet.members().map((m) => m.name);
    expect(new Set(names).size).toBe(40);
    expect([...fleet.groups()].map(([p, g]) => [p.name, g.length])).toEqual([['rome-7002', 20], ['naples-7001', 10], ['intel-xeon', 10]]);
    expect(fleet.member('naples-7001-10').host.profile.name).toBe('naples-7001');
    expect(() => fleet.host('naples-7001-11')).toThrow(/no host 'naples-7001-11'/);
  });

  it('builds a member\'s host when it is first reached, once', () => {
    const lazy = new FakeFleet('rome-7002:1,intel-xeon:1@1000');
    expect(lazy.members().filter((m) => m.awake)).toHaveLength(0);
    const m = lazy.member('rome-7002-250');
    const host = m.host;
    expect(m.awake).toBe(true);
    expect(m.host).toBe(host);
    expect(host.profile).toBe(m.profile);
    expect(lazy.members().filter((x) => x.awake).map((x) => x.name)).toEqual(['rome-7002-250']);
    expect(lazy.wake()).toBe(999);
    expect(lazy.wake()).toBe(0);
    expect(lazy.members().every((x) => x.awake)).toBe(true);
  });

  it('hosts are independent: one host full of SEV guests leaves its siblings empty', () => {
    const [a, b] = fleet.groups().get(fleet.member('naples-7001-1').profile)!;
    const full = a!.host.sevView!.maxGuests;
    for (let i = 0; i < full; i++) a!.host.create(a!.host.defineXML(sevGuest(a!.host, `g${i}`)));
    expect(() => a!.host.create(a!.host.defineXML(sevGuest(a!.host, 'one-too-many')))).toThrow();
    expect(a!.host.control.inspect().asids.inUse).toHaveLength(full);
    expect(b!.host.control.inspect().asids.inUse).toHaveLength(0);
    b!.host.create(b!.host.defineXML(sevGuest(b!.host, 'g0')));
    expect(b!.host.control.inspect().asids.inUse).toHaveLength(1);
  });

  it('shares what is immutable per profile, with the same answers as building it anew', () => {
    const [a, b] = fleet.groups().get(fleet.member('rome-7002-1').profile)!;
    expect(a!.profile).toBe(b!.profile);
    expect(domainContext(a!.profile, a!.host.sectypes())).toBe(domainContext(b!.profile, b!.host.sectypes()));
    expect(a!.host.domainCapabilities()).toBe(b!.host.domainCapabilities());
    expect(sharedDomainCapabilitiesXml(a!.profile, a!.host.sevView, { arch: 'x86_64' })).toBe(domainCapabilitiesXml(a!.profile, a!.host.sevView, { arch: 'x86_64' }));
  });
});
