/**
 * A binary max-heap whose items have stable integer ids, so an item's key can change in place
 * (update/remove by id in O(log n)). `findBest` walks the heap best-first to find the best item
 * satisfying a predicate, pruning every subtree whose root cannot qualify.
 */
export class IndexedMaxHeap<T> {
  private readonly items: T[] = [];
  private readonly ids: number[] = [];
  /** id → slot in `items`, -1 when absent. */
  private readonly pos: number[] = [];

  constructor(private readonly better: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T, id: number): void {
    this.items.push(item);
    this.ids.push(id);
    this.pos[id] = this.items.length - 1;
    this.up(this.items.length - 1);
  }

  remove(id: number): void {
    const i = this.pos[id];
    if (i === undefined || i < 0) return;
    const last = this.items.length - 1;
    this.swap(i, last);
    this.items.pop();
    this.ids.pop();
    this.pos[id] = -1;
    if (i < this.items.length) {
      this.up(i);
      this.down(i);
    }
  }

  update(id: number): void {
    const i = this.pos[id];
    if (i === undefined || i < 0) return;
    this.up(i);
    this.down(this.pos[id]!);
  }

  /**
   * The best item with `accept(item)`; `viable(item)` must be monotone down the heap (if a node is not
   * viable, nothing below it is), which holds for "has at least N free" on the heap's own key.
   */
  findBest(viable: (t: T) => boolean, accept: (t: T) => boolean): T | undefined {
    if (this.items.length === 0 || !viable(this.items[0]!)) return undefined;
    // Frontier of slots, itself kept as a small heap ordered by the same comparator.
    const frontier: number[] = [0];
    const better = (a: number, b: number) => this.better(this.items[a]!, this.items[b]!);
    while (frontier.length > 0) {
      const slot = popBest(frontier, better);
      const item = this.items[slot]!;
      if (accept(item)) return item;
      for (const c of [2 * slot + 1, 2 * slot + 2]) {
        if (c < this.items.length && viable(this.items[c]!)) pushSlot(frontier, c, better);
      }
    }
    return undefined;
  }

  private swap(i: number, j: number): void {
    const ti = this.items[i]!, tj = this.items[j]!;
    const ii = this.ids[i]!, ij = this.ids[j]!;
    this.items[i] = tj;
    this.items[j] = ti;
    this.ids[i] = ij;
    this.ids[j] = ii;
    this.pos[ij] = i;
    this.pos[ii] = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(this.items[i]!, this.items[p]!)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.better(this.items[l]!, this.items[m]!)) m = l;
      if (r < n && this.better(this.items[r]!, this.items[m]!)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}

function pushSlot(h: number[], v: number, better: (a: number, b: number) => boolean): void {
  h.push(v);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!better(h[i]!, h[p]!)) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function popBest(h: number[], better: (a: number, b: number) => boolean): number {
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && better(h[l]!, h[m]!)) m = l;
      if (r < h.length && better(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}
