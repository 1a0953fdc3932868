/**
 * Placement of boot requests on a fleet: filter by required traits and free resources, weigh by most
 * free RAM (spread; ties go to the host added first), claim atomically, release on delete. A cold
 * migration holds both allocations until it is confirmed (source dropped) or reverted (target dropped).
 *
 * `BaseScheduler` owns the ledger (hosts, free capacity, allocations); subclasses only answer "which
 * host is best for this demand" and hear about capacity changes. `IndexedScheduler` keeps hosts in
 * buckets by (trait set, which scarce pools still have room), each a max-heap on free RAM, so a
 * placement looks at a handful of buckets and a heap path instead of every host.
 */
import { IndexedMaxHeap } from './max-heap.ts';
import { refuse } from './refusals.ts';

export const RC_MEMORY_MB = 'MEMORY_MB';
export const RC_VCPU = 'VCPU';

export interface HostSpec {
  readonly id: string;
  readonly traits: readonly string[];
  /** Total per resource key (e.g. MEMORY_MB, VCPU, MEM_ENCRYPTION_CONTEXT@amd_sev). */
  readonly capacity: Readonly<Record<string, number>>;
}

export interface Demand {
  readonly resources: Readonly<Record<string, number>>;
  readonly requiredTraits: readonly string[];
}

export interface HostState {
  readonly index: number;
  readonly id: string;
  readonly traits: ReadonlySet<string>;
  readonly total: ReadonlyMap<string, number>;
  readonly free: Map<string, number>;
  /** Free RAM, copied out of `free` because every comparison reads it. */
  freeRam: number;
}

interface Allocation {
  readonly host: HostState;
  readonly resources: Readonly<Record<string, number>>;
}

export const noValidHost = 'No valid host was found. ';

/** Spread weigher: more free RAM wins; equal RAM goes to the earlier host so results are deterministic. */
export const better = (a: HostState, b: HostState): boolean => a.freeRam > b.freeRam || (a.freeRam === b.freeRam && a.index < b.index);

export function fits(h: HostState, d: Demand): boolean {
  for (const t of d.requiredTraits) if (!h.traits.has(t)) return false;
  for (const k in d.resources) if ((h.free.get(k) ?? 0) < d.resources[k]!) return false;
  return true;
}

/**
 * The host a fresh ledger of `hosts` gives `d` (`place`'s filter and weigher), found in one pass
 * without building the ledger: for a caller that places once over a list it is handed (a thousand
 * hosts cost a Set and a Map each in `addHost`). Undefined when no host fits; a repeated id is an
 * error, as `addHost` makes it.
 */
export function firstPlacement(hosts: readonly HostSpec[], d: Demand): string | undefined {
  const seen = new Set<string>();
  let winner: HostSpec | undefined;
  let winnerRam = 0;
  outer: for (const h of hosts) {
    if (seen.has(h.id)) throw new Error(`host ${h.id} already added`);
    seen.add(h.id);
    for (const t of d.requiredTraits) if (!h.traits.includes(t)) continue outer;
    for (const k in d.resources) if ((Object.hasOwn(h.capacity, k) ? h.capacity[k]! : 0) < d.resources[k]!) continue outer;
    const ram = Object.hasOwn(h.capacity, RC_MEMORY_MB) ? h.capacity[RC_MEMORY_MB]! : 0;
    // `better`: more free RAM wins, equal RAM keeps the earlier host.
    if (winner === undefined || ram > winnerRam) [winner, winnerRam] = [h, ram];
  }
  return winner?.id;
}

export abstract class BaseScheduler {
  protected readonly hosts: HostState[] = [];
  private readonly byId = new Map<string, HostState>();
  private readonly current = new Map<string, Allocation>();
  private readonly migrating = new Map<string, Allocation>();

  protected abstract best(d: Demand, exclude?: HostState): HostState | undefined;
  protected abstract added(h: HostState): void;
  /** Called after `h.free` changed; `scarceFlip` when a non-RAM pool went to or from zero. */
  protected abstract changed(h: HostState, scarceFlip: boolean): void;

  addHost(spec: HostSpec): void {
    if (this.byId.has(spec.id)) throw new Error(`host ${spec.id} already added`);
    const total = new Map(Object.entries(spec.capacity));
    const h: HostState = { index: this.hosts.length, id: spec.id, traits: new Set(spec.traits), total, free: new Map(total), freeRam: total.get(RC_MEMORY_MB) ?? 0 };
    this.hosts.push(h);
    this.byId.set(spec.id, h);
    this.added(h);
  }

  get size(): number {
    return this.hosts.length;
  }

  private apply(h: HostState, res: Readonly<Record<string, number>>, sign: 1 | -1): void {
    let flip = false;
    for (const k in res) {
      const before = h.free.get(k) ?? 0;
      const after = before - sign * res[k]!;
      h.free.set(k, after);
      if (k !== RC_MEMORY_MB && k !== RC_VCPU && (before > 0) !== (after > 0)) flip = true;
    }
    h.freeRam = h.free.get(RC_MEMORY_MB) ?? 0;
    this.changed(h, flip);
  }

  private claimOn(d: Demand, exclude?: HostState): Allocation {
    const h = this.best(d, exclude);
    if (!h) return refuse('NO_VALID_HOST', noValidHost);
    this.apply(h, d.resources, 1);
    return { host: h, resources: d.resources };
  }

  /** Picks and claims in one synchronous step, so two placements can never share the last unit. */
  place(consumer: string, d: Demand): string {
    if (this.current.has(consumer)) throw new Error(`consumer ${consumer} already has an allocation`);
    const a = this.claimOn(d);
    this.current.set(consumer, a);
    return a.host.id;
  }

  release(consumer: string): void {
    const a = this.current.get(consumer);
    if (!a) return refuse('UNKNOWN_INSTANCE', `no allocation for ${consumer}`);
    this.apply(a.host, a.resources, -1);
    this.current.delete(consumer);
    const m = this.migrating.get(consumer);
    if (m) {
      this.apply(m.host, m.resources, -1);
      this.migrating.delete(consumer);
    }
  }

  /** Cold migration / resize: claims a target (never the source host) while the source stays allocated. */
  startMigration(consumer: string, d: Demand): string {
    const src = this.current.get(consumer);
    if (!src) return refuse('UNKNOWN_INSTANCE', `no allocation for ${consumer}`);
    if (this.migrating.has(consumer)) throw new Error(`consumer ${consumer} is already migrating`);
    // A cold migration must move: the source host is not a candidate.
    const a = this.claimOn(d, src.host);
    this.migrating.set(consumer, a);
    return a.host.id;
  }

  confirmMigration(consumer: string): void {
    const src = this.current.get(consumer);
    const dst = this.migrating.get(consumer);
    if (!src || !dst) return refuse('UNKNOWN_INSTANCE', `no migration in progress for ${consumer}`);
    this.apply(src.host, src.resources, -1);
    this.current.set(consumer, dst);
    this.migrating.delete(consumer);
  }

  revertMigration(consumer: string): void {
    const dst = this.migrating.get(consumer);
    if (!dst) return refuse('UNKNOWN_INSTANCE', `no migration in progress for ${consumer}`);
    this.apply(dst.host, dst.resources, -1);
    this.migrating.delete(consumer);
  }

  /** Host ids holding allocations for a consumer: [current] or [source, target] mid-migration. */
  allocationsOf(consumer: string): string[] {
    const out: string[] = [];
    const a = this.current.get(consumer);
    if (a) out.push(a.host.id);
    const m = this.migrating.get(consumer);
    if (m) out.push(m.host.id);
    return out;
  }

  freeOf(hostId: string): ReadonlyMap<string, number> {
    const h = this.byId.get(hostId);
    if (!h) throw new Error(`unknown host ${hostId}`);
    return h.free;
  }

  hostIds(): string[] {
    return this.hosts.map((h) => h.id);
  }
}

interface Bucket {
  readonly traits: ReadonlySet<string>;
  /** Scarce (non-RAM, non-VCPU) pools with room on every host of the bucket. */
  readonly pools: ReadonlySet<string>;
  readonly heap: IndexedMaxHeap<HostState>;
}

const isScarce = (k: string) => k !== RC_MEMORY_MB && k !== RC_VCPU;

export class IndexedScheduler extends BaseScheduler {
  private readonly buckets = new Map<string, Bucket>();
  private readonly bucketOf: Bucket[] = [];

  private keyOf(h: HostState): { key: string; pools: string[] } {
    const pools: string[] = [];
    for (const [k, v] of h.free) if (isScarce(k) && v > 0) pools.push(k);
    pools.sort();
    return { key: `${[...h.traits].sort().join(',')}|${pools.join(',')}`, pools };
  }

  private place_(h: HostState): void {
    const { key, pools } = this.keyOf(h);
    let b = this.buckets.get(key);
    if (!b) {
      b = { traits: new Set(h.traits), pools: new Set(pools), heap: new IndexedMaxHeap<HostState>(better) };
      this.buckets.set(key, b);
    }
    b.heap.push(h, h.index);
    this.bucketOf[h.index] = b;
  }

  protected added(h: HostState): void {
    this.place_(h);
  }

  protected changed(h: HostState, scarceFlip: boolean): void {
    const b = this.bucketOf[h.index]!;
    if (scarceFlip) {
      b.heap.remove(h.index);
      this.place_(h);
    } else {
      b.heap.update(h.index);
    }
  }

  protected best(d: Demand, exclude?: HostState): HostState | undefined {
    let winner: HostState | undefined;
    const ram = d.resources[RC_MEMORY_MB] ?? 0;
    outer: for (const b of this.buckets.values()) {
      for (const t of d.requiredTraits) if (!b.traits.has(t)) continue outer;
      for (const k in d.resources) if (isScarce(k) && d.resources[k]! > 0 && !b.pools.has(k)) continue outer;
      // Best-first walk of the heap: subtrees whose root has too little RAM (or loses to the winner) are pruned.
      const hit = b.heap.findBest(
        (h) => h.freeRam >= ram && (winner === undefined || better(h, winner)),
        (h) => h !== exclude && fits(h, d),
      );
      if (hit) winner = hit;
    }
    return winner;
  }
}
