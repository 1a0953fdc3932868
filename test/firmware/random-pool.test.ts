import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../fakelibvirt/firmware/random-pool.ts';

describe('the firmware random pool', () => {
  it('hands out the lengths asked for, never the same bytes twice, across refills', () => {
    const seen = new Set<string>();
    // 1000 × 16 bytes spans several 4 KiB refills; a repeat of 16 random bytes would be a pool bug.
    for (let i = 0; i < 1000; i++) {
      const b = pooledRandomBytes(16);
      expect(b.length).toBe(16);
      seen.add(b.toString('hex'));
    }
    expect(seen.size).toBe(1000);
    // Larger than the pool: drawn directly.
    const big = pooledRandomBytes(10_000);
    expect(big.length).toBe(10_000);
    expect(big.equals(Buffer.alloc(10_000))).toBe(false);
  });

  it('gives the caller its own buffer: changing it changes no later draw', () => {
    const a = pooledRandomBytes(32);
    a.fill(0);
    expect(pooledRandomBytes(32).equals(Buffer.alloc(32))).toBe(false);
  });
});
