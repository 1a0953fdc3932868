/**
 * A standing fleet as placement sees it during one case: the FakeFleet's members (built once per
 * process from the shared profiles; their hosts stay asleep), the case's own host beside them,
 * placement's load on each (catalogue/fleet.ts), the driver's report of each, and the guests the
 * driver placed in this case. Capacities come from each member's truth, never from the driver's
 * report, so an over-reported inventory shows as a guest on a host that cannot take it.
 *
 * Hosts of one profile are identical (same hardware, firmware, kernel, libvirt): the driver reports
 * one host of each profile — reached as it reaches any single host, URI and sysroot — and placement
 * holds that report for every member of the group, as it holds a thousand compute nodes' reports.
 * The standing state — members, reports, load — is built once per run (target and driver slot)
 * and config: the fleet's compute services reported when they started, not at every case; a case
 * keeps its placements in its own ledger, so resetting the fleet between cases costs nothing.
 */
import { inventoryKey, type CandidateHost, type HostReport, type MemEncryptionModel } from '../../contract.ts';
import type { StandingFleet } from '../../catalogue/types.ts';
import { FakeFleet } from '../../../fakelibvirt/fleet/fake-fleet.ts';
import { profileTruth, type ProfileTruth } from '../../truth.ts';
import type { HardwareProfile } from '../../../fakelibvirt/profile/schema.ts';
import type { CaseContext } from '../case-context.ts';
import type { DriverSlot } from '../driver-slot.ts';
import type { Target } from '../target.ts';

/** Placement's memory resource class, beside the inventory keys of the encryption models. */
export const MEMORY_MB = 'MEMORY_MB';
/** The case's own host's name among the members (no member of a FakeFleet is called so). */
export const HOST_UNDER_TEST = 'host-under-test';

/** Slots a host offers a model, from its truth as it starts (what a correct report says). */
export function slotsOf(t: ProfileTruth, model: MemEncryptionModel): number {
  if (model === 'amd-sev') return t.sevUsableAtStart ? t.maxGuests : 0;
  if (model === 'amd-sev-es') return t.sevEsUsable ? t.maxESGuests : 0;
  return 0;
}

/** A host's guest memory, MiB: what it can pin for guests by its truth (total minus its reservation). */
export const guestRamMiB = (t: ProfileTruth): number => Math.floor(t.pinnableKiB / 1024);

/** One host placement knows: its truth, its report, and placement's load on it before the case. */
export interface FleetHostState {
  readonly name: string;
  readonly truth: ProfileTruth;
  /** What the driver is handed: the report, and the load as free memory and allocations. */
  readonly candidate: CandidateHost;
  /** Guest memory (total minus the host's reservation), MiB. */
  readonly ramMiB: number;
  /** Placement's allocations before the case, by inventory key and MEMORY_MB. */
  readonly load: Readonly<Record<string, number>>;
}

const fleets = new Map<string, FakeFleet>();
const truths = new WeakMap<HardwareProfile, ProfileTruth>();

/** A member's truth: members are fake hosts whatever the target (a real target's fleet is served beside it). */
function memberTruth(profile: HardwareProfile): ProfileTruth {
  let t = truths.get(profile);
  if (!t) truths.set(profile, (t = profileTruth(profile)));
  return t;
}

/** The FakeFleet of a spec, built once per process: members only, their hosts wake if reached. */
export function standingFakeFleet(spec: string): FakeFleet {
  let f = fleets.get(spec);
  if (!f) fleets.set(spec, (f = new FakeFleet(spec)));
  return f;
}

function loadOf(sevSlotsUsed: number, ramUsedMiB: number): Record<string, number> {
  const load: Record<string, number> = {};
  if (sevSlotsUsed > 0) load[inventoryKey('amd-sev')] = sevSlotsUsed;
  if (ramUsedMiB > 0) load[MEMORY_MB] = ramUsedMiB;
  return load;
}

function hostState(name: string, truth: ProfileTruth, report: HostReport, load: Record<string, number>): FleetHostState {
  const ramMiB = guestRamMiB(truth);
  const candidate: CandidateHost = { name, report, freeRamMiB: Math.max(0, ramMiB - (load[MEMORY_MB] ?? 0)), allocations: load };
  return { name, truth, candidate, ramMiB, load };
}

/** The members as placement holds them, with the driver's reports: the same from case to case. */
interface Standing {
  readonly hosts: readonly FleetHostState[];
  readonly candidates: readonly CandidateHost[];
  readonly byName: ReadonlyMap<string, FleetHostState>;
}

/** Per target and driver slot (whose reports they hold), by plan and config. */
const standingByRun = new WeakMap<Target, WeakMap<DriverSlot, Map<string, Standing>>>();

async function standing(ctx: CaseContext, plan: StandingFleet): Promise<Standing> {
  let bySlot = standingByRun.get(ctx.target);
  if (!bySlot) standingByRun.set(ctx.target, (bySlot = new WeakMap()));
  let byKey = bySlot.get(ctx.slot);
  if (!byKey) bySlot.set(ctx.slot, (byKey = new Map()));
  const key = JSON.stringify([plan, ctx.config]);
  let s = byKey.get(key);
  if (s) return s;
  const fleet = standingFakeFleet(plan.spec);
  const open = new Map(plan.open.map((o) => [o.member, o]));
  for (const name of open.keys()) fleet.member(name); // a misspelt member is the catalogue's error, said at once
  // One host of each profile reported, reached as any single host is (a URI and a sysroot).
  const reports = new Map<string, HostReport>();
  for (const p of fleet.groups().keys()) reports.set(p.name, await ctx.report(await ctx.openHost(p.name), ctx.config));
  const hosts = fleet.members().map((m, i) => {
    const truth = memberTruth(m.profile);
    const o = open.get(m.name);
    const ramMiB = guestRamMiB(truth);
    const ramUsed = o ? ramMiB - o.freeRamMiB : Math.floor(ramMiB * plan.memoryUsed[i % plan.memoryUsed.length]!);
    return hostState(m.name, truth, reports.get(m.profile.name)!, loadOf(Math.max(0, slotsOf(truth, 'amd-sev') - (o?.sevSlotsFree ?? 0)), ramUsed));
  });
  s = { hosts, candidates: hosts.map((h) => h.candidate), byName: new Map(hosts.map((h) => [h.name, h])) };
  byKey.set(key, s);
  return s;
}

/**
 * One case's placement over the standing fleet and the case's own host: what the driver placed in
 * this case, kept apart from the standing state, so the next case starts from the same fleet.
 */
export class FleetLedger {
  private readonly placedOn = new Map<FleetHostState, Record<string, number>>();

  private constructor(
    private readonly fleet: Standing,
    readonly own: FleetHostState,
  ) {}

  /** The standing fleet with the case's host joined: every plain-SEV slot but `hostSevSlotsFree` allocated there, its memory free. */
  static async open(ctx: CaseContext, plan: StandingFleet, hostSevSlotsFree: number): Promise<FleetLedger> {
    const fleet = await standing(ctx, plan);
    const own = hostState(HOST_UNDER_TEST, ctx.truth, await ctx.report(), loadOf(Math.max(0, slotsOf(ctx.truth, 'amd-sev') - hostSevSlotsFree), 0));
    return new FleetLedger(fleet, own);
  }

  get size(): number {
    return this.fleet.hosts.length + 1;
  }

  /** What the driver is handed: every member and the case's host, with placement's load alone. */
  candidates(): CandidateHost[] {
    return [...this.fleet.candidates, this.own.candidate];
  }

  host(name: string): FleetHostState | undefined {
    return name === this.own.name ? this.own : this.fleet.byName.get(name);
  }

  /** Slots of `model` still free on a host by the truth, after placement's load and this case's placements. */
  freeSlots(h: FleetHostState, model: MemEncryptionModel): number {
    const key = inventoryKey(model);
    return slotsOf(h.truth, model) - (h.load[key] ?? 0) - (this.placedOn.get(h)?.[key] ?? 0);
  }

  freeRam(h: FleetHostState): number {
    return h.ramMiB - (h.load[MEMORY_MB] ?? 0) - (this.placedOn.get(h)?.[MEMORY_MB] ?? 0);
  }

  /**
   * Why this host cannot take a guest of `model` (null: plain) and `memoryMiB`, or null when it
   * can: an x86_64 host with a q35 machine (the suite's requests are q35 guests), a free slot of
   * the model, and the memory.
   */
  cannotTake(h: FleetHostState, model: MemEncryptionModel | null, memoryMiB: number): string | null {
    if (h.truth.profile.arch !== 'x86_64' || h.truth.q35Machines.length === 0) return `${h.name} cannot run an x86_64 q35 guest`;
    if (model) {
      const total = slotsOf(h.truth, model);
      if (total === 0) return `${h.name} has no ${model} slots`;
      const free = this.freeSlots(h, model);
      if (free <= 0) return `${h.name} has no ${model} slot left (${total - free} of ${total} allocated)`;
    }
    const ram = this.freeRam(h);
    if (ram < memoryMiB) return `${h.name} has ${ram} MiB of guest memory left, the guest needs ${memoryMiB}`;
    return null;
  }

  /** The hosts that could take the guest now. */
  takers(model: MemEncryptionModel | null, memoryMiB: number): FleetHostState[] {
    return [...this.fleet.hosts, this.own].filter((h) => this.cannotTake(h, model, memoryMiB) === null);
  }

  /** Takes (sign 1) or gives back (sign -1) a placement's resources on a host. */
  account(h: FleetHostState, model: MemEncryptionModel | null, memoryMiB: number, sign: 1 | -1): void {
    let placed = this.placedOn.get(h);
    if (!placed) this.placedOn.set(h, (placed = {}));
    if (model) placed[inventoryKey(model)] = (placed[inventoryKey(model)] ?? 0) + sign;
    placed[MEMORY_MB] = (placed[MEMORY_MB] ?? 0) + sign * memoryMiB;
  }
}
