/**
 * What libvirt makes up when a document leaves it out — a UUID, MAC addresses — differs from run to
 * run and from the fake's choice. Records and the fake's output both pass through here, so only the
 * fact that a value was generated is compared, never the value.
 */
const UUID_ELEMENT = /<uuid>[^<]*<\/uuid>/;
const MAC_ELEMENT = /<mac address='([0-9a-f:]{17})'\/>/g;

export const GENERATED = '(generated)';

export function normaliseGenerated(input: string, formatted: string): string {
  let out = formatted;
  if (!/<uuid[\s>]/.test(input)) out = out.replace(UUID_ELEMENT, `<uuid>${GENERATED}</uuid>`);
  const given = input.toLowerCase();
  out = out.replace(MAC_ELEMENT, (whole, mac: string) => (given.includes(mac) ? whole : `<mac address='${GENERATED}'/>`));
  return out;
}
