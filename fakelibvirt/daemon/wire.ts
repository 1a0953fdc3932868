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
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

export function fromWire(dom: WireDomain): HostDomain {
  return { name: dom.name, uuid: uuidToString(dom.uuid), id: dom.id };
}

export function toWire(dom: HostDomain): WireDomain {
  return { name: dom.name, uuid: uuidToBytes(dom.uuid), id: dom.id };
}
