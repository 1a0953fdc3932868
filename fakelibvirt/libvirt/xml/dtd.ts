/**
 * The document type declaration as libvirt's libxml2 options treat it (XML_PARSE_NONET, no
 * NOENT/DTDLOAD/DTDATTR): internal general entities expand, external ones are never loaded (they
 * read as nothing), parameter entities in the internal subset are parsed, ATTLIST defaults are not
 * applied. Expansion is bounded as libxml2 bounds it: an entity whose expansion holds many more
 * references than the text read so far is "Detected an entity reference loop" (its density check,
 * parser.c xmlParserEntityCheck), and no expansion grows past XML_MAX_TEXT_LENGTH.
 */
import { PREDEFINED } from './chars.ts';
import { XmlSyntaxError } from './syntax-error.ts';

/**
 * What the DOCTYPE reader needs of the document scanner (scanner.ts's Scanner is one): declared
 * here so the scanner may call parseDoctype without the two modules importing each other.
 */
export interface DoctypeInput {
  cur: number;
  readonly end: number;
  at(i?: number): number;
  next(): void;
  fail(message: string, pos?: number): never;
  skipBlanks(): number;
  startsWith(s: string, i?: number): boolean;
  text(from: number, to: number): string;
  name(colons: boolean): string | null;
  comment(): void;
  pi(): void;
}

/** XML_MAX_TEXT_LENGTH: no replacement text may grow beyond this. */
const MAX_TEXT = 10_000_000;
/** libxml2 refuses entity nesting deeper than this without XML_PARSE_HUGE. */
const MAX_ENTITY_DEPTH = 40;
const LOOP = 'Detected an entity reference loop\n';
/** Raised through xmlFatalErr with its own newline, so libvirt shows an empty line after it. */
const MARKUP_ERROR = 'internal error: xmlParseInternalSubset: error detected in Markup declaration\n\n';

interface Entity {
  readonly value: string;
  readonly external: boolean;
}

const REF = /&([^;&]*);/g;

export class Dtd {
  readonly general = new Map<string, Entity>();
  readonly parameter = new Map<string, Entity>();
  hasExternalSubset = false;
  hasPERefs = false;
  /** Entities whose text has been checked (libxml2's ent->checked). */
  private readonly checked = new Set<string>();
  /**
   * Memo: libxml2's count for an entity (one, plus two for every reference its expansion parses:
   * measured, a text of ten plain references counts 21), and its expanded length.
   */
  private readonly sizes = new Map<string, { refs: number; length: number }>();

  /** The text a general entity reference stands for, in content (inAttr false) or an attribute. */
  expand(s: DoctypeInput, name: string, inAttr: boolean): string {
    const ent = this.general.get(name);
    if (ent === undefined) {
      // Undeclared entities are only fatal when no external subset or PE reference could declare them.
      if (!this.hasExternalSubset && !this.hasPERefs) s.fail(`Entity '${name}' not defined\n`);
      return '';
    }
    if (ent.external) {
      if (inAttr) s.fail(`Attribute references external entity '${name}'\n`);
      return '';
    }
    if (inAttr && ent.value.includes('<')) s.fail(`'<' in entity '${name}' is not allowed in attributes values\n`);
    if (!inAttr && ent.value.includes('<')) {
      // Markup inside an entity would need the entity parsed as content; the fake refuses rather than guess.
      s.fail(`entity '${name}' holds markup: the fake does not expand markup from entities\n`);
    }
    this.check(name, 0);
    const size = this.size(name, 0);
    if (size.length > MAX_TEXT || size.refs * 3 >= s.cur * 10) s.fail(LOOP);
    return this.replace(ent.value, 0);
  }

  /**
   * libxml2 parses an entity's text the first time it is referenced, depth first, and checks each
   * reference inside it against the bytes read so far in that text: the first entity too dense
   * for its place is the error, reported in that entity's text ("at line N" in libvirt's words).
   */
  private check(name: string, depth: number): void {
    if (this.checked.has(name)) return;
    this.checked.add(name);
    const ent = this.general.get(name);
    if (ent === undefined || ent.external) return;
    if (depth > MAX_ENTITY_DEPTH) throw new XmlSyntaxError(LOOP, 1, 0, Buffer.from(ent.value));
    for (const m of ent.value.matchAll(REF)) {
      const inner = m[1]!;
      if (PREDEFINED[inner] !== undefined || !this.general.has(inner)) continue;
      this.check(inner, depth + 1);
      const upTo = ent.value.slice(0, m.index + m[0].length);
      const offset = Buffer.byteLength(upTo);
      if (this.size(inner, depth + 1).refs * 3 >= offset * 10) {
        throw new XmlSyntaxError(LOOP, 1 + (upTo.match(/\n/g)?.length ?? 0), offset, Buffer.from(ent.value));
      }
    }
  }

  /** An entity's text with its references replaced (already checked). */
  private replace(value: string, depth: number): string {
    if (!value.includes('&') || depth > MAX_ENTITY_DEPTH) return value;
    let out = '';
    let last = 0;
    for (const m of value.matchAll(REF)) {
      out += value.slice(last, m.index);
      last = m.index + m[0].length;
      const name = m[1]!;
      const pre = PREDEFINED[name];
      if (pre !== undefined) {
        out += pre;
        continue;
      }
      const ent = this.general.get(name);
      if (ent !== undefined && !ent.external) out += this.replace(ent.value, depth + 1);
    }
    return out + value.slice(last);
  }

  private size(name: string, depth: number): { refs: number; length: number } {
    const memo = this.sizes.get(name);
    if (memo) return memo;
    const ent = this.general.get(name);
    if (depth > MAX_ENTITY_DEPTH || ent === undefined) return { refs: Number.MAX_SAFE_INTEGER, length: Number.MAX_SAFE_INTEGER };
    this.sizes.set(name, { refs: Number.MAX_SAFE_INTEGER, length: Number.MAX_SAFE_INTEGER }); // a cycle reads as infinite
    let refs = 1;
    let length = ent.value.length;
    for (const m of ent.value.matchAll(REF)) {
      const n = m[1]!;
      if (PREDEFINED[n] !== undefined) continue;
      const inner = this.general.get(n);
      if (inner === undefined || inner.external) continue;
      const sz = this.size(n, depth + 1);
      refs = Math.min(Number.MAX_SAFE_INTEGER, refs + 2 * sz.refs);
      length = Math.min(Number.MAX_SAFE_INTEGER, length + sz.length);
    }
    const result = { refs, length };
    this.sizes.set(name, result);
    return result;
  }
}

/** xmlParseDocTypeDecl and the internal subset; the cursor is at "<!DOCTYPE". */
export function parseDoctype(s: DoctypeInput): Dtd {
  const dtd = new Dtd();
  s.cur += 9;
  s.skipBlanks();
  if (s.name(true) === null) s.fail('xmlParseDocTypeDecl : no DOCTYPE name !\n');
  s.skipBlanks();
  if (s.startsWith('SYSTEM') || s.startsWith('PUBLIC')) {
    externalId(s);
    dtd.hasExternalSubset = true;
  }
  s.skipBlanks();
  if (s.at() === 0x5b) {
    s.cur++;
    internalSubset(s, dtd, 0);
    if (s.at() !== 0x5d) s.fail(MARKUP_ERROR);
    s.cur++;
    s.skipBlanks();
  }
  if (s.at() !== 0x3e) s.fail('DOCTYPE improperly terminated\n');
  s.cur++;
  return dtd;
}

function externalId(s: DoctypeInput): void {
  const pub = s.startsWith('PUBLIC');
  s.cur += 6;
  if (s.skipBlanks() === 0) s.fail(pub ? "Space required after 'PUBLIC'\n" : "Space required after 'SYSTEM'\n");
  literal(s, pub ? 'PUBLIC, the Public Identifier is missing\n' : 'SYSTEM or PUBLIC, the URI is missing\n');
  if (pub) {
    s.skipBlanks();
    literal(s, 'SYSTEM or PUBLIC, the URI is missing\n');
  }
}

function literal(s: DoctypeInput, missing: string): string {
  const q = s.at();
  if (q !== 0x22 && q !== 0x27) s.fail(missing);
  s.cur++;
  const start = s.cur;
  while (s.cur < s.end && s.at() !== q) s.next();
  if (s.cur >= s.end) s.fail('Unfinished System or Public ID " or \' expected\n');
  const v = s.text(start, s.cur);
  s.cur++;
  return v;
}

/** Markup declarations up to ']' (or the end of a parameter entity's text). */
function internalSubset(s: DoctypeInput, dtd: Dtd, depth: number): void {
  for (;;) {
    s.skipBlanks();
    if (s.cur >= s.end || s.at() === 0x5d) return;
    if (s.startsWith('<!ENTITY')) entityDecl(s, dtd);
    else if (s.startsWith('<!--')) s.comment();
    else if (s.startsWith('<?')) s.pi();
    else if (s.startsWith('<!ATTLIST') || s.startsWith('<!ELEMENT') || s.startsWith('<!NOTATION')) skipDecl(s);
    else if (s.at() === 0x25) peReference(s, dtd, depth);
    else s.fail(MARKUP_ERROR);
  }
}

/** `%name;` between declarations: its text is parsed as more declarations. */
function peReference(s: DoctypeInput, dtd: Dtd, depth: number): void {
  s.cur++;
  const name = s.name(true);
  if (name === null) s.fail('PEReference: no name\n');
  if (s.at() !== 0x3b) s.fail("PEReference: expecting ';'\n");
  s.cur++;
  dtd.hasPERefs = true;
  const ent = dtd.parameter.get(name);
  if (ent === undefined || ent.external) return;
  if (depth >= MAX_ENTITY_DEPTH) s.fail(LOOP);
  // The entity's text is a new input, as libxml2 pushes one (the same scanner class).
  const bytes = Buffer.from(ent.value);
  const sub = new (s.constructor as new (b: Uint8Array, end: number) => DoctypeInput)(bytes, bytes.length);
  internalSubset(sub, dtd, depth + 1);
  if (sub.cur < sub.end) s.fail(MARKUP_ERROR);
}

/** xmlParseEntityDecl: the first declaration of a name wins. */
function entityDecl(s: DoctypeInput, dtd: Dtd): void {
  s.cur += 8;
  if (s.skipBlanks() === 0) s.fail("Space required after '<!ENTITY'\n");
  let pe = false;
  if (s.at() === 0x25) {
    s.cur++;
    if (s.skipBlanks() === 0) s.fail("Space required after '%'\n");
    pe = true;
  }
  const name = s.name(true);
  if (name === null) s.fail('xmlParseEntityDecl: no name\n');
  if (s.skipBlanks() === 0) s.fail("Space required after the entity name\n");
  let ent: Entity;
  const q = s.at();
  if (q === 0x22 || q === 0x27) {
    s.cur++;
    const start = s.cur;
    while (s.cur < s.end && s.at() !== q) s.next();
    if (s.cur >= s.end) s.fail('EntityValue: " or \' expected\n');
    const raw = s.text(start, s.cur);
    s.cur++;
    ent = { value: entityValue(s, raw, pe), external: false };
  } else if (s.startsWith('SYSTEM') || s.startsWith('PUBLIC')) {
    externalId(s);
    s.skipBlanks();
    if (s.startsWith('NDATA')) {
      s.cur += 5;
      s.skipBlanks();
      s.name(true);
    }
    ent = { value: '', external: true };
  } else {
    s.fail('Entity value required\n');
  }
  s.skipBlanks();
  if (s.at() !== 0x3e) s.fail(`xmlParseEntityDecl: entity ${name} not terminated\n`);
  s.cur++;
  const table = pe ? dtd.parameter : dtd.general;
  if (!table.has(name) && !(!pe && PREDEFINED[name] !== undefined)) table.set(name, ent);
}

/** An entity value as stored: character references replaced, general references kept. */
function entityValue(s: DoctypeInput, raw: string, pe: boolean): string {
  if (raw.includes('%')) s.fail('PEReferences forbidden in internal subset\n');
  void pe;
  return raw.replace(/&#(x[0-9a-fA-F]+|[0-9]+);/g, (_, n: string) => String.fromCodePoint(n.startsWith('x') ? Number.parseInt(n.slice(1), 16) : Number(n)));
}

/** ATTLIST, ELEMENT and NOTATION declarations are read past (quotes respected), not applied. */
function skipDecl(s: DoctypeInput): void {
  let q = 0;
  while (s.cur < s.end) {
    const c = s.at();
    if (q !== 0) {
      if (c === q) q = 0;
    } else if (c === 0x22 || c === 0x27) q = c;
    else if (c === 0x3e) {
      s.cur++;
      return;
    }
    s.next();
  }
  s.fail(MARKUP_ERROR);
}
