/**
 * Byte-level character facts of libxml2 2.9.14's parser (parser.c, parserInternals.c), which reads
 * the document as UTF-8 bytes: libvirt's error columns count bytes, so the scanner does too.
 */

export const LF = 0x0a;
export const CR = 0x0d;
export const TAB = 0x09;
export const SP = 0x20;

/** IS_BLANK_CH: space, tab, LF, CR. */
export const isBlank = (c: number): boolean => c === SP || c === TAB || c === LF || c === CR;

/** IS_CHAR: XML 1.0's Char production. */
export function isChar(c: number): boolean {
  if (c < 0x20) return c === TAB || c === LF || c === CR;
  return c <= 0xd7ff || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/** xmlIsNameStartChar (XML 1.0 fifth edition rules, libxml2's default). */
export function isNameStart(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a ||
    (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || (c >= 0x200c && c <= 0x200d) ||
    (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd) || (c >= 0x10000 && c <= 0xeffff)
  );
}

/** xmlIsNameChar. */
export function isNameChar(c: number): boolean {
  return (
    isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0xb7 ||
    (c >= 0x300 && c <= 0x36f) || (c >= 0x203f && c <= 0x2040)
  );
}

/**
 * The code point at `i` and its length in bytes (xmlCurrentChar), packed as `cp * 8 + len` so the
 * hot loops allocate nothing. A CR reads as LF, and CR LF as one LF of length 2. The input came
 * from a JavaScript string, so it is always valid UTF-8.
 */
export function charAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) {
    if (c === CR) return b[i + 1] === LF ? LF * 8 + 2 : LF * 8 + 1;
    return c * 8 + 1;
  }
  if (c < 0xe0) return (((c & 0x1f) << 6) | (b[i + 1]! & 0x3f)) * 8 + 2;
  if (c < 0xf0) return (((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f)) * 8 + 3;
  return (((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f)) * 8 + 4;
}

export const cpOf = (packed: number): number => packed >>> 3;
export const lenOf = (packed: number): number => packed & 7;

/** The five entities every document has. */
export const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };
