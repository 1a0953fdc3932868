/**
 * Documents that are not proper UTF-8, as libxml2 2.9.14 reads them (xmlCurrentChar): a byte
 * sequence it cannot decode is "Input is not proper UTF-8, indicate encoding !" followed by the four
 * bytes at its cursor; one it decodes to a code point outside XML's Char production (an encoded
 * surrogate, anything past U+10FFFF) is "Char 0x… out of allowed range". Both are fatal, so libvirt
 * refuses the document with the first of them — unless a well-formedness error comes first, or the
 * parser never reads the bytes as a character (outside the root element it only looks for '<').
 *
 * The daemon hands a document's invalid bytes over as lone surrogates U+DC80–U+DCFF (xdr/types.ts),
 * so they reach here byte for byte. The scanner itself reads valid UTF-8 only: it gets a copy with
 * each invalid byte replaced by an ASCII letter (same length, so offsets and lines stay), and the
 * caller reports whichever error lies first. Measured through virDomainDefineXML on libvirtd 9.0.
 */
import { encodeEscaped } from '../../../src/xdr/types.ts';

/** The first character libxml2 refuses to decode, where, and its message (with its trailing newline). */
export interface Utf8Fault {
  readonly pos: number;
  readonly libxmlMessage: string;
}

export interface Utf8Input {
  /** The document's bytes as the client sent them. */
  readonly raw: Uint8Array;
  /** The same bytes with every byte of an invalid sequence replaced by 'x' (what the scanner reads). */
  readonly clean: Uint8Array;
  readonly fault: Utf8Fault | null;
}

const hex = (b: number) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;

/** null for a string that is well-formed UTF-16 (every ordinary document): the scanner's usual path. */
export function utf8Input(text: string): Utf8Input | null {
  if (isWellFormed(text)) return null;
  const raw = encodeEscaped(text);
  const clean = Uint8Array.from(raw);
  let fault: Utf8Fault | null = null;
  for (let i = 0; i < raw.length; ) {
    const c = raw[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const r = readChar(raw, i);
    if (r.ok) {
      // Decodable but beyond what a string holds (an encoded surrogate, past U+10FFFF): not an XML
      // Char. Other non-Chars (U+FFFE) are valid UTF-8 and left to the scanner.
      if (r.cp > 0x10ffff || (r.cp >= 0xd800 && r.cp <= 0xdfff)) {
        fault ??= { pos: i, libxmlMessage: `Char 0x${r.cp.toString(16).toUpperCase()} out of allowed range\n` };
        clean.fill(0x78, i, i + r.len);
      }
      i += r.len;
      continue;
    }
    // libxml2 says nothing within the last three bytes (it takes them for a character cut short).
    if (fault === null && raw.length - i >= 4) {
      fault = { pos: i, libxmlMessage: `Input is not proper UTF-8, indicate encoding !\nBytes: ${hex(raw[i]!)} ${hex(raw[i + 1]!)} ${hex(raw[i + 2]!)} ${hex(raw[i + 3]!)}\n` };
    }
    clean[i] = 0x78;
    i++;
  }
  return { raw, clean, fault };
}

/** String.prototype.isWellFormed (Node 20; not yet in the TypeScript lib this project targets). */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** xmlCurrentChar's decoding: lead byte, continuation bytes, shortest form. */
function readChar(b: Uint8Array, i: number): { ok: true; cp: number; len: number } | { ok: false } {
  const c = b[i]!;
  const at = (k: number) => (i + k < b.length ? b[i + k]! : 0);
  const cont = (k: number) => (at(k) & 0xc0) === 0x80;
  if ((c & 0x40) === 0 || !cont(1)) return { ok: false };
  if ((c & 0xe0) !== 0xe0) {
    const cp = ((c & 0x1f) << 6) | (at(1) & 0x3f);
    return cp < 0x80 ? { ok: false } : { ok: true, cp, len: 2 };
  }
  if (!cont(2)) return { ok: false };
  if ((c & 0xf0) !== 0xf0) {
    const cp = ((c & 0x0f) << 12) | ((at(1) & 0x3f) << 6) | (at(2) & 0x3f);
    return cp < 0x800 ? { ok: false } : { ok: true, cp, len: 3 };
  }
  if ((c & 0xf8) !== 0xf0 || !cont(3)) return { ok: false };
  const cp = ((c & 0x07) << 18) | ((at(1) & 0x3f) << 12) | ((at(2) & 0x3f) << 6) | (at(3) & 0x3f);
  return cp < 0x10000 ? { ok: false } : { ok: true, cp, len: 4 };
}
