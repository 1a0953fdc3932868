/**
 * The misc cgroup controller (kernel/cgroup/misc.c, Linux 5.13+) for the two resources KVM
 * registers: `sev` and `sev_es` ASIDs. A cgroup tree keyed by path ("/" is the root), the
 * charge/uncharge rules KVM relies on, and the interface files' exact texts.
 */
import type { KernelSevState } from '../profile/derive.ts';
import { KvmError } from './errno.ts';

export type MiscResource = 'sev' | 'sev_es';
/** In the kernel's enum order, which is also the order lines appear in every misc.* file. */
export const MISC_RESOURCES: readonly MiscResource[] = ['sev', 'sev_es'];
export const ROOT_CGROUP = '/';

type Limit = number | 'max';

interface ResourceCounters {
  max: Limit;
  usage: number;
  peak: number;
  /** misc.events: limit hits in this cgroup or below it (never counted on the root). */
  events: number;
  /** misc.events.local: limit hits that failed at this very cgroup. */
  eventsLocal: number;
}

interface Node {
  readonly path: string;
  readonly parent: Node | null;
  readonly res: Record<MiscResource, ResourceCounters>;
}

const fresh = (): Record<MiscResource, ResourceCounters> => ({
  sev: { max: 'max', usage: 0, peak: 0, events: 0, eventsLocal: 0 },
  sev_es: { max: 'max', usage: 0, peak: 0, events: 0, eventsLocal: 0 },
});

const parentPath = (path: string): string => {
  const i = path.lastIndexOf('/');
  return i <= 0 ? ROOT_CGROUP : path.slice(0, i);
};

export class MiscCgroup {
  /** False for a kernel without the misc controller: charges then always succeed, as the stubs do. */
  readonly enabled: boolean;
  private readonly cap: Record<MiscResource, number>;
  private readonly nodes = new Map<string, Node>();

  /** `capacity` null models a kernel without the controller (before 5.13 or CONFIG_CGROUP_MISC=n). */
  constructor(capacity: { readonly sev?: number; readonly sev_es?: number } | null) {
    this.enabled = capacity !== null;
    this.cap = { sev: capacity?.sev ?? 0, sev_es: capacity?.sev_es ?? 0 };
    this.nodes.set(ROOT_CGROUP, { path: ROOT_CGROUP, parent: null, res: fresh() });
  }

  /** The capacities `sev_hardware_setup` registered for this kernel state. */
  static fromKernel(kernel: KernelSevState): MiscCgroup {
    return new MiscCgroup(kernel.miscCapacity);
  }

  capacity(resource: MiscResource): number {
    return this.cap[resource];
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** mkdir of a child cgroup; the parent must exist. */
  create(path: string): void {
    if (!path.startsWith('/') || path === ROOT_CGROUP || path.endsWith('/')) throw new KvmError('EINVAL', `cgroup path ${path}`);
    if (this.nodes.has(path)) throw new KvmError('EEXIST', `mkdir ${path}`);
    const parent = this.nodes.get(parentPath(path));
    if (!parent) throw new KvmError('ENOENT', `mkdir ${path}`);
    this.nodes.set(path, { path, parent, res: fresh() });
  }

  /** rmdir: refused while the cgroup has children. */
  remove(path: string): void {
    if (path === ROOT_CGROUP) throw new KvmError('EBUSY', 'rmdir /');
    this.node(path);
    for (const n of this.nodes.values()) if (n.parent?.path === path) throw new KvmError('EBUSY', `rmdir ${path}`);
    this.nodes.delete(path);
  }

  setMax(path: string, resource: MiscResource, max: Limit): void {
    this.writeMax(path, `${resource} ${max}`);
  }

  /** A write to misc.max, parsed as the kernel does: "NAME N" or "NAME max". */
  writeMax(path: string, text: string): void {
    const n = this.node(path);
    if (n.parent === null) throw new KvmError('ENOENT', 'misc.max does not exist on the root cgroup');
    const [name, value, extra] = text.trim().split(/\s+/);
    const resource = MISC_RESOURCES.find((r) => r === name);
    // Only resources with a capacity are writable; an unknown name is the same error.
    if (!resource || this.cap[resource] === 0 || value === undefined || extra !== undefined) throw new KvmError('EINVAL', `write misc.max "${text.trim()}"`);
    if (value === 'max') { n.res[resource].max = 'max'; return; }
    if (!/^\d+$/.test(value)) throw new KvmError('EINVAL', `write misc.max "${text.trim()}"`);
    n.res[resource].max = Number(value);
  }

  /**
   * `misc_cg_try_charge(resource, cg, 1)`: -EINVAL when the resource has no capacity; otherwise
   * charge each level from the cgroup up to the root and fail with -EBUSY at the first level whose
   * max or the capacity would be exceeded, undoing the charge. The failing level gets an
   * events.local hit; it and its ancestors, except the root, get an events hit.
   */
  tryCharge(path: string, resource: MiscResource): void {
    const start = this.node(path);
    if (!this.enabled) return;
    if (this.cap[resource] === 0) throw new KvmError('EINVAL', `misc cgroup charge of ${resource} (capacity 0)`);
    const charged: Node[] = [];
    for (let n: Node | null = start; n; n = n.parent) {
      const r = n.res[resource];
      const next = r.usage + 1;
      if ((r.max !== 'max' && next > r.max) || next > this.cap[resource]) {
        r.eventsLocal++;
        for (let up: Node | null = n; up && up.parent; up = up.parent) up.res[resource].events++;
        for (const c of charged) c.res[resource].usage--;
        throw new KvmError('EBUSY', `misc cgroup ${n.path} ${resource} limit reached`);
      }
      r.usage = next;
      r.peak = Math.max(r.peak, next);
      charged.push(n);
    }
  }

  uncharge(path: string, resource: MiscResource): void {
    const start = this.node(path);
    if (!this.enabled) return;
    for (let n: Node | null = start; n; n = n.parent) {
      if (n.res[resource].usage === 0) throw new Error(`misc cgroup resource ${resource} became less than 0 in ${n.path}`);
      n.res[resource].usage--;
    }
  }

  current(path: string, resource: MiscResource): number { return this.node(path).res[resource].usage; }
  peak(path: string, resource: MiscResource): number { return this.node(path).res[resource].peak; }
  max(path: string, resource: MiscResource): Limit { return this.node(path).res[resource].max; }
  events(path: string, resource: MiscResource): number { return this.node(path).res[resource].events; }
  eventsLocal(path: string, resource: MiscResource): number { return this.node(path).res[resource].eventsLocal; }

  /** Root-only `misc.capacity`: only resources with capacity > 0. Null without the controller. */
  formatCapacity(): string | null {
    if (!this.enabled) return null;
    return MISC_RESOURCES.filter((r) => this.cap[r] > 0).map((r) => `${r} ${this.cap[r]}\n`).join('');
  }

  /** `misc.current`: resources with capacity, or with usage despite none. */
  formatCurrent(path: string): string | null {
    return this.lines(path, true, (r, c) => `${r} ${c.usage}`, (c) => c.usage);
  }

  formatPeak(path: string): string | null {
    return this.lines(path, false, (r, c) => `${r} ${c.peak}`, (c) => c.peak);
  }

  /** Non-root `misc.max`: one line per resource with capacity, "max" when unlimited. */
  formatMax(path: string): string | null {
    return this.lines(path, false, (r, c) => `${r} ${c.max}`, () => 0);
  }

  formatEvents(path: string): string | null {
    return this.lines(path, false, (r, c) => `${r}.max ${c.events}`, (c) => c.events);
  }

  formatEventsLocal(path: string): string | null {
    return this.lines(path, false, (r, c) => `${r}.max ${c.eventsLocal}`, (c) => c.eventsLocal);
  }

  private lines(
    path: string,
    onRoot: boolean,
    line: (r: MiscResource, c: ResourceCounters) => string,
    nonzero: (c: ResourceCounters) => number,
  ): string | null {
    const n = this.node(path);
    if (!this.enabled || (!onRoot && n.parent === null)) return null;
    return MISC_RESOURCES.filter((r) => this.cap[r] > 0 || nonzero(n.res[r]) > 0)
      .map((r) => `${line(r, n.res[r])}\n`)
      .join('');
  }

  private node(path: string): Node {
    const n = this.nodes.get(path);
    if (!n) throw new KvmError('ENOENT', `cgroup ${path}`);
    return n;
  }
}
