/**
 * What libvirt makes up when a document leaves it out — a UUID, a genid, a virtualport's
 * interfaceid, MAC addresses — differs from run to run and from the fake's choice. Records and the
 * fake's output both pass through here, so only the fact that a value was generated is compared,
 * never the value: a UUID or MAC in the output that the input does not contain was generated.
 */
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
const MAC_ELEMENT = /<mac address='([0-9a-f:]{17})'\/>/g;

export const GENERATED = '(generated)';

export function normaliseGenerated(input: string, formatted: string): string {
  const given = input.toLowerCase();
  const givenHex = given.replace(/-/g, '');
  return formatted
    .replace(UUID, (uuid) => (givenHex.includes(uuid.replace(/-/g, '')) ? uuid : GENERATED))
    .replace(MAC_ELEMENT, (whole, mac: string) => (given.includes(mac) ? whole : `<mac address='${GENERATED}'/>`));
}
