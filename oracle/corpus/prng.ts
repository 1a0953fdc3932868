// A tiny seeded PRNG (mulberry32) and the draws the generator needs. No Math.random anywhere:
// the same seed gives the same corpus, byte for byte.

export const SEED = 0x5e7c0c05;

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A new independent stream for one named part, so parts do not shift each other's draws. */
  static for(name: string, seed = SEED): Rng {
    return new Rng((seed ^ fnv1a(name)) >>> 0);
  }

  /** mulberry32: a float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Up to n distinct items, in their original order. */
  some<T>(items: readonly T[], n: number): T[] {
    const idx = items.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    return idx.slice(0, Math.min(n, items.length)).sort((a, b) => a - b).map((i) => items[i] as T);
  }

  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += this.int(0, 255).toString(16).padStart(2, '0');
    return s;
  }

  uuid(): string {
    const h = this.hex(16).split('');
    h[12] = '4';
    h[16] = '89ab'[this.int(0, 3)] as string;
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  /** A MAC in QEMU's locally administered range 52:54:00. */
  mac(): string {
    const b = [this.int(0, 255), this.int(0, 255), this.int(0, 255)];
    return ['52', '54', '00', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
  }
}

/** FNV-1a, 32 bits: stream names to seeds, documents to short stable id suffixes. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shortHash(s: string): string {
  return fnv1a(s).toString(16).padStart(8, '0');
}
