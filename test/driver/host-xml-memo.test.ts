/** Detection parses each distinct capabilities document once (src/driver/host-xml.ts): the memo's behaviour. */
import { describe, expect, it } from 'vitest';
import { parseDomainCapabilities } from '../../src/driver/host-xml.ts';

const doc = (machine: string, maxGuests: number) =>
  `<domainCapabilities><machine>${machine}</machine><arch>x86_64</arch><features><sev supported='yes'><cbitpos>51</cbitpos><maxGuests>${maxGuests}</maxGuests></sev></features></domainCapabilities>`;

describe('domain capabilities parse memo', () => {
  it('the same text gives the same record; another text its own', () => {
    const a = parseDomainCapabilities(doc('pc-q35-7.2', 509));
    expect(parseDomainCapabilities(doc('pc-q35-7.2', 509))).toBe(a);
    const b = parseDomainCapabilities(doc('pc-q35-7.2', 253));
    expect(b).not.toBe(a);
    expect([a.sev?.maxGuests, b.sev?.maxGuests]).toEqual([509, 253]);
  });

  it('documents in use stay remembered while many others pass through (least recently used goes first)', () => {
    const kept = parseDomainCapabilities(doc('pc-q35-8.0', 1));
    for (let i = 0; i < 2000; i++) {
      parseDomainCapabilities(doc(`pc-q35-x-${i}`, i));
      if (i % 100 === 0) expect(parseDomainCapabilities(doc('pc-q35-8.0', 1))).toBe(kept);
    }
    expect(parseDomainCapabilities(doc('pc-q35-8.0', 1))).toBe(kept);
    // One seen long ago and not since is parsed again: equal, not the same object.
    const old = parseDomainCapabilities(doc('pc-q35-x-0', 0));
    expect(old.sev?.maxGuests).toBe(0);
    expect(parseDomainCapabilities(doc('pc-q35-x-1999', 1999)).sev?.maxGuests).toBe(1999);
  });
});
