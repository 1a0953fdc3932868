/**
 * Conversions between the wire's object references and the host model's: the wire carries a
 * domain as (name, 16 raw UUID bytes, id); the host names it by the textual UUID.
 */
import type { DomainRef as WireDomain } from '../../src/rpc/remote-types.ts';
import type { DomainRef as HostDomain } from '../host/libvirt-backend.ts';

/** 16 raw bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
export function uuidToString(raw: Buffer): string {
  const h = raw.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Textual UUID (with or without dashes) → 16 raw bytes. */
export function uuidToBytes(uuid: string): Buffer {
  // The host's own UUIDs are canonical: read their 32 hex digits in place (a domain reference in
  // every reply); anything else goes the general way.
  if (uuid.length === 36) {
    const out = Buffer.allocUnsafe(16);
    let at = 0;
    for (let i = 0; i < 16; i++) {
      if (at === 8 || at === 13 || at === 18 || at === 23) at++;
      const hi = hexDigit(uuid.charCodeAt(at));
      const lo = hexDigit(uuid.charCodeAt(at + 1));
      if (hi < 0 || lo < 0) return Buffer.from(uuid.replace(/-/g, ''), 'hex');
      out[i] = (hi << 4) | lo;
      at += 2;
    }
    if (uuid.charCodeAt(8) === DASH && uuid.charCodeAt(13) === DASH && uuid.charCodeAt(18) === DASH && uuid.charCodeAt(23) === DASH) return out;
  }
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

const DASH = 0x2d;

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

export function fromWire(dom: WireDomain): HostDomain {
  return { name: dom.name, uuid: uuidToString(dom.uuid), id: dom.id };
}

export function toWire(dom: HostDomain): WireDomain {
  return { name: dom.name, uuid: uuidToBytes(dom.uuid), id: dom.id };
}
