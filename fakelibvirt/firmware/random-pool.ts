/**
 * The firmware's CSPRNG as the model draws from it: random bytes from a 4 KiB pool refilled in one
 * call, since a launch takes three 16-byte values (TEK, TIK, mnonce) and one kernel call per value
 * dominated a guest start.
 */
import { randomFillSync } from 'node:crypto';

const RANDOM_POOL = Buffer.alloc(4096);
let randomPoolUsed = RANDOM_POOL.length;

/** `n` cryptographically random bytes, never handed out twice. */
export function pooledRandomBytes(n: number): Buffer {
  if (n > RANDOM_POOL.length) return randomFillSync(Buffer.alloc(n));
  if (randomPoolUsed + n > RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    randomPoolUsed = 0;
  }
  const out = Buffer.from(RANDOM_POOL.subarray(randomPoolUsed, randomPoolUsed + n));
  // Bytes handed out are never handed out again: overwrite them until the next refill.
  RANDOM_POOL.fill(0, randomPoolUsed, randomPoolUsed + n);
  randomPoolUsed += n;
  return out;
}
