/**
 * A domain document's identity for the define memo: its `<name>` and `<uuid>` when they are
 * ordinary, and the document with every occurrence of both masked (the key a family of documents
 * that differ only in them shares: the slot cases define one template a thousand times, and a
 * driver writes the name into its disk paths too). The memo proves each family parametric before it
 * answers for it (memo.ts); this module only says which documents may belong to one, and where.
 */
import { child, type XmlNode } from '../xml-tree.ts';

/** The name and uuid a document's key masks (absent: not masked, the key holds it literally). */
export interface Identity {
  readonly name?: string;
  readonly uuid?: string;
}

export interface Keyed {
  readonly key: string;
  /** What the key masks; empty for a document keyed by its whole text. */
  readonly identity: Identity;
}

/** Marks standing for masked values in keys and templates; a document holding one is never masked. */
export const MARK_BASE = 0xe000;
export const MARK_COUNT = 0x100;
const MARKS = /[\ue000-\ue0ff]/;
export const NAME_MARK = String.fromCharCode(MARK_BASE);
export const UUID_MARK = String.fromCharCode(MARK_BASE + 1);

/** A conservative name: no markup, entity, white space, '/' or newline, at least one letter or digit, short. */
const ORDINARY_NAME = /^(?=.*[A-Za-z0-9])[A-Za-z0-9_.+-]{1,64}$/;
/** The canonical form parseUuid gives back, so the formatted uuid is the written one. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isOrdinaryName = (s: string) => ORDINARY_NAME.test(s);
export const isCanonicalUuid = (s: string) => CANONICAL_UUID.test(s);

/** The text between the first `open` and the `close` after it. */
function firstBetween(text: string, open: string, close: string): string | undefined {
  const i = text.indexOf(open);
  if (i < 0) return undefined;
  const j = text.indexOf(close, i + open.length);
  return j < 0 ? undefined : text.slice(i + open.length, j);
}

/** The document's key: masked when its first `<name>` and/or `<uuid>` are ordinary, else the text itself. */
export function keyOf(text: string): Keyed {
  if (MARKS.test(text)) return { key: text, identity: {} };
  const n = firstBetween(text, '<name>', '</name>');
  const u = firstBetween(text, '<uuid>', '</uuid>');
  const name = n !== undefined && isOrdinaryName(n) ? n : undefined;
  const uuid = u !== undefined && isCanonicalUuid(u) ? u : undefined;
  if (name === undefined && uuid === undefined) return { key: text, identity: {} };
  // Two distinct marks the text does not hold: whatever the overlap, the key maps back to exactly this text.
  let key = uuid === undefined ? text : text.replaceAll(uuid, UUID_MARK);
  if (name !== undefined) key = key.replaceAll(name, NAME_MARK);
  return { key, identity: { ...(name !== undefined && { name }), ...(uuid !== undefined && { uuid }) } };
}

/** No masking at all: the whole text is the key. */
export const exactKey = (text: string): Keyed => ({ key: text, identity: {} });

/** Whether the text may be templated at all (random draws are marked in templates). */
export const markFree = (text: string) => !MARKS.test(text);

const count = (s: string, part: string) => s.split(part).length - 1;

/** Paths a driver derives from the name, which libvirt copies as written: `<source file|dir|dev|path>` of a device. */
const PATH_ATTRS = ['file', 'dir', 'dev', 'path'];

/**
 * Whether every occurrence of the identity in the text is one the define treats as a copied value:
 * the name as the top-level `<name>` and inside device source paths, the uuid only as the top-level
 * `<uuid>`. Anything else (metadata, sysinfo, markup, comments, character references) keeps the
 * document out of the family.
 */
export function occursOnlyWhereCopied(text: string, input: XmlNode, id: Identity): boolean {
  if (id.uuid !== undefined) {
    const node = child(input, 'uuid');
    if (count(text, id.uuid) !== 1 || !node || (node.raw ?? node.text) !== id.uuid) return false;
  }
  if (id.name !== undefined) {
    const node = child(input, 'name');
    if (!node || (node.raw ?? node.text) !== id.name) return false;
    let copied = 1;
    for (const devices of input.children) {
      if (devices.name !== 'devices') continue;
      for (const dev of devices.children) {
        for (const src of dev.children) {
          if (src.name !== 'source') continue;
          for (const a of PATH_ATTRS) {
            const v = src.attrs[a];
            if (v !== undefined) copied += count(v, id.name);
          }
        }
      }
    }
    if (count(text, id.name) !== copied) return false;
  }
  return true;
}

/**
 * What a family's template may not be asked for: a name or uuid the masked text already holds in
 * another place (in any case, the uuid in any of virUUIDParse's spellings), whose comparison with
 * that literal could answer differently from the two the family was proven on.
 */
export interface KeyGuard {
  readonly lower: string;
  readonly hex: string;
}

export function keyGuard(key: string): KeyGuard {
  const lower = key.toLowerCase();
  return { lower, hex: lower.replace(/[-\s]/g, '') };
}

export function guardAllows(g: KeyGuard, id: Identity): boolean {
  if (id.name !== undefined && g.lower.includes(id.name.toLowerCase())) return false;
  if (id.uuid !== undefined && g.hex.includes(id.uuid.replaceAll('-', ''))) return false;
  return true;
}
