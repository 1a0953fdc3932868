/** Dotted versions ("5.13", "9.0.0") compared numerically, and libvirt's integer encoding. */

export function parseVersion(text: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = text.split('.').map((p) => Number.parseInt(p, 10));
  return [a, b, c];
}

/** Parsed versions by text: a host asks about its few versions on every guest start. */
const PARSED = new Map<string, readonly [number, number, number]>();

function parsedVersion(text: string): readonly [number, number, number] {
  let v = PARSED.get(text);
  if (!v) {
    v = parseVersion(text);
    if (PARSED.size >= 256) PARSED.clear();
    PARSED.set(text, v);
  }
  return v;
}

export function versionAtLeast(text: string, major: number, minor = 0, micro = 0): boolean {
  const [a, b, c] = parsedVersion(text);
  if (a !== major) return a > major;
  if (b !== minor) return b > minor;
  return c >= micro;
}

/** libvirt's version integer: major * 1,000,000 + minor * 1,000 + micro (QEMU 7.2.0 → 7002000). */
export function versionNumber(text: string): number {
  const [a, b, c] = parseVersion(text);
  return a * 1_000_000 + b * 1_000 + c;
}
