/** The wire's domain references: textual UUID ↔ 16 raw bytes, as Buffer's hex reading and writing do it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uuidToBytes, uuidToString } from '../../fakelibvirt/daemon/wire.ts';

/** The general reading: dashes dropped, then hex pairs up to the first that is not one. */
const general = (u: string) => Buffer.from(u.replace(/-/g, ''), 'hex');

describe('wire UUIDs', () => {
  it('read canonical UUIDs, in either case, as the general reading does', () => {
    fc.assert(
      fc.property(fc.uuid(), (u) => {
        expect(uuidToBytes(u)).toEqual(general(u));
        expect(uuidToBytes(u.toUpperCase())).toEqual(general(u.toUpperCase()));
        expect(uuidToString(uuidToBytes(u))).toBe(u);
      }),
      { numRuns: 2000 },
    );
  });

  it('read anything else exactly as the general reading does', () => {
    const near = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF-xg '), minLength: 30, maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(near, fc.string()), (u) => {
        expect(uuidToBytes(u)).toEqual(general(u));
      }),
      { numRuns: 20000 },
    );
    expect(uuidToBytes('beeeeeee-1111-4222-8333-44444444444g')).toEqual(general('beeeeeee-1111-4222-8333-44444444444g'));
    expect(uuidToBytes('beeeeeee11114222-8333-4444-44444444')).toEqual(general('beeeeeee11114222-8333-4444-44444444'));
  });
});
