/**
 * FakeFleet: N in-process hosts from a mix of profiles, for scheduler and placement code that wants
 * realistic fleets of thousands of hosts of mixed generations. Every host is a full FakeHost (its
 * own ASID pool, firmware, memory, domains); what is immutable is shared per profile — the loaded
 * profile object itself, hence the define context and the capability documents keyed by it
 * (libvirt/domain/context.ts, fleet/shared-views.ts). A member's host comes to life the first time
 * it is reached: placement over a thousand hosts touches a handful, serving them touches all
 * (`wake()` brings every one up at once, as a benchmark of the build wants).
 */
import { FakeHost } from '../host/fake-host.ts';
import { loadProfile } from '../profile/load.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { fleetLayout, parseFleetSpec, type FleetSpec } from './fleet-spec.ts';

export interface FleetMember {
  /** Unique in the fleet: `<profile>-<n>`, n counting from 1 within the profile. */
  readonly name: string;
  readonly profile: HardwareProfile;
  /** The member's host, built when first read. */
  readonly host: FakeHost;
  /** Whether the host has been built yet. */
  readonly awake: boolean;
}

class Member implements FleetMember {
  private built: FakeHost | null = null;

  constructor(
    readonly name: string,
    readonly profile: HardwareProfile,
  ) {}

  get host(): FakeHost {
    return (this.built ??= new FakeHost(this.profile));
  }

  get awake(): boolean {
    return this.built !== null;
  }
}

export class FakeFleet implements Iterable<FleetMember> {
  private readonly list: FleetMember[] = [];
  private readonly byName = new Map<string, FleetMember>();
  private readonly byProfile = new Map<HardwareProfile, FleetMember[]>();

  /** `spec` as a FleetSpec or in its text form (fleet-spec.ts). */
  constructor(spec: FleetSpec | string) {
    const s = typeof spec === 'string' ? parseFleetSpec(spec) : spec;
    // One profile object per share, loaded once: hosts of a profile share everything keyed by it.
    const profiles = s.mix.map((m) => (typeof m.profile === 'string' ? loadProfile(m.profile) : m.profile));
    const seen = new Map<string, number>();
    for (const share of fleetLayout(s)) {
      const profile = profiles[share]!;
      const n = (seen.get(profile.name) ?? 0) + 1;
      seen.set(profile.name, n);
      this.add(new Member(`${profile.name}-${n}`, profile));
    }
  }

  private add(m: Member): void {
    this.list.push(m);
    this.byName.set(m.name, m);
    let group = this.byProfile.get(m.profile);
    if (!group) this.byProfile.set(m.profile, (group = []));
    group.push(m);
  }

  get size(): number {
    return this.list.length;
  }

  /** Builds every member's host now; returns how many were asleep. */
  wake(): number {
    let woken = 0;
    for (const m of this.list) {
      if (m.awake) continue;
      void m.host;
      woken++;
    }
    return woken;
  }

  [Symbol.iterator](): Iterator<FleetMember> {
    return this.list[Symbol.iterator]();
  }

  members(): readonly FleetMember[] {
    return this.list;
  }

  member(name: string): FleetMember {
    const m = this.byName.get(name);
    if (!m) throw new Error(`no host '${name}' in this fleet of ${this.list.length}`);
    return m;
  }

  host(name: string): FakeHost {
    return this.member(name).host;
  }

  /** The hosts of each profile, in fleet order: what is learned from one applies to all of its group. */
  groups(): ReadonlyMap<HardwareProfile, readonly FleetMember[]> {
    return this.byProfile;
  }
}
