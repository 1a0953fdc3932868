/**
 * A well-formedness scanner in libxml2 2.9.14's recursive-descent order (parser.c: xmlParseDocument,
 * xmlParseStartTag2, xmlParseAttValueInternal, xmlParseCharData, xmlParseReference, …), written
 * from its behaviour: the first fatal error is the one libvirt reports, with the line libxml2 had
 * counted and the byte offset its cursor stood at. Iterative (an explicit element stack) and
 * linear: every loop only moves the cursor forward.
 */
import { charAt, cpOf, isBlank, isChar, isNameChar, isNameStart, lenOf, LF, PREDEFINED } from './chars.ts';
import { type Dtd, parseDoctype } from './dtd.ts';
import { XmlSyntaxError } from './syntax-error.ts';

export { XmlSyntaxError };

/** libxml2's xmlParserMaxDepth: an element start with more than this many open is refused. */
export const LIBXML2_MAX_DEPTH = 256;
/** XML_MAX_NAME_LENGTH without XML_PARSE_HUGE. */
const MAX_NAME = 50000;

export interface RawElement {
  /** The qualified name as written (prefix:local). */
  readonly qname: string;
  readonly prefix: string | null;
  readonly local: string;
  /** Attributes in document order, qualified names, values after normalisation and references. */
  readonly attrs: [string, string][];
  /** xmlns declarations on this element: prefix ('' for the default) → URI (null: none). */
  nsDecls: Map<string, string> | null;
  /** Children in document order: elements and text runs (comments and PIs dropped). */
  readonly content: (RawElement | string)[];
  /** Text pieces split where libxml2 makes separate nodes (elements, comments, PIs, CDATA). */
  readonly pieces: string[];
}

const dec = new TextDecoder();

export class Scanner {
  cur = 0;
  line = 1;
  dtd: Dtd | null = null;
  private readonly stack: { el: RawElement; line: number; piece: string[] }[] = [];

  /**
   * @param src the document as a string when it is all ASCII (byte offsets are then string
   *   offsets, and slicing is much cheaper than decoding)
   */
  constructor(
    readonly b: Uint8Array,
    readonly end: number,
    private readonly src: string | null = null,
    /** false: check only, keep nothing (a hostile document's elements never reach the old heap). */
    private readonly build = true,
  ) {}

  fail(message: string, pos = this.cur): never {
    throw new XmlSyntaxError(message, this.line, pos);
  }

  at(i = this.cur): number {
    return i < this.end ? this.b[i]! : 0;
  }

  /** SKIP_BLANKS: returns how many were skipped. */
  skipBlanks(): number {
    const start = this.cur;
    while (this.cur < this.end && isBlank(this.b[this.cur]!)) {
      if (this.b[this.cur] === LF) this.line++;
      this.cur++;
    }
    return this.cur - start;
  }

  /** NEXTL over one character. */
  next(): void {
    if (this.cur >= this.end) return;
    const c = this.b[this.cur]!;
    const len = c < 0x80 ? (c === 0x0d && this.b[this.cur + 1] === LF ? 2 : 1) : lenOf(charAt(this.b, this.cur));
    if (this.b[this.cur + len - 1] === LF) this.line++;
    this.cur += len;
  }

  startsWith(s: string, i = this.cur): boolean {
    for (let k = 0; k < s.length; k++) if (this.at(i + k) !== s.charCodeAt(k)) return false;
    return true;
  }

  text(from: number, to: number): string {
    if (this.src !== null) return this.src.slice(from, to);
    return dec.decode(this.b.subarray(from, to));
  }

  /** xmlParseName / xmlParseNCName: null when no name starts here; ':' allowed only in Name. */
  name(colons: boolean): string | null {
    const start = this.cur;
    const b = this.b;
    let i = start;
    // ASCII names (nearly all) without decoding characters.
    for (;;) {
      const c = i < this.end ? b[i]! : 0;
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (colons && c === 0x3a) ||
        (i > start && ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e));
      if (!ok) break;
      i++;
    }
    if (i === this.end || b[i]! < 0x80) {
      if (i === start) return null;
      if (i - start > MAX_NAME) this.fail(`Name too long use XML_PARSE_HUGE option: ${colons ? 'Name' : 'NCName'}\n`);
      this.cur = i;
      return this.text(start, i);
    }
    i = start;
    let p = i < this.end ? charAt(b, i) : 0;
    if (p === 0 || !isNameStart(cpOf(p)) || (!colons && cpOf(p) === 0x3a)) return null;
    do {
      i += lenOf(p);
      p = i < this.end ? charAt(b, i) : 0;
    } while (p !== 0 && isNameChar(cpOf(p)) && (colons || cpOf(p) !== 0x3a));
    if (i - start > MAX_NAME) this.fail(`Name too long use XML_PARSE_HUGE option: ${colons ? 'Name' : 'NCName'}\n`);
    this.cur = i;
    return this.text(start, i);
  }

  /** xmlParseQName: prefix and local part (a malformed QName degrades as libxml2's does). */
  qname(): { prefix: string | null; local: string } | null {
    const l = this.name(false);
    if (l === null) {
      if (this.at() === 0x3a) {
        const n = this.name(true);
        if (n !== null) return { prefix: null, local: n };
      }
      return null;
    }
    if (this.at() !== 0x3a) return { prefix: null, local: l };
    this.cur++;
    const local = this.name(false);
    if (local === null) {
      // "Failed to parse QName 'p:'" is a namespace error, not fatal: the rest reads as an NMTOKEN.
      const s = this.cur;
      while (this.cur < this.end && isNameChar(cpOf(charAt(this.b, this.cur)))) this.next();
      return { prefix: null, local: `${l}:${this.text(s, this.cur)}` };
    }
    if (this.at() === 0x3a) {
      this.cur++;
      const rest = this.name(true);
      return { prefix: l, local: rest === null ? `${local}:` : `${local}:${rest}` };
    }
    return { prefix: l, local };
  }

  /** xmlParseDocument. */
  document(): RawElement {
    if (this.end === 0) this.fail('Document is empty\n');
    // A UTF-8 byte order mark is skipped once at least four bytes are there.
    if (this.end >= 4 && this.b[0] === 0xef && this.b[1] === 0xbb && this.b[2] === 0xbf) this.cur = 3;
    if (this.startsWith('<?xml') && isBlank(this.at(this.cur + 5))) {
      this.xmlDecl();
      this.skipBlanks();
    }
    this.misc();
    if (this.startsWith('<!DOCTYPE')) {
      this.dtd = parseDoctype(this);
      this.misc();
    }
    if (this.at() !== 0x3c) this.fail("Start tag expected, '<' not found\n");
    const root = this.element();
    this.misc();
    if (this.cur < this.end) this.fail('Extra content at the end of the document\n');
    return root;
  }

  /** xmlParseMisc: blanks, PIs and comments between the parts of the document. */
  misc(): void {
    for (;;) {
      this.skipBlanks();
      if (this.startsWith('<?')) this.pi();
      else if (this.startsWith('<!--')) this.comment();
      else return;
    }
  }

  /** A declaration attribute's `= '`, after its name: the opening quote, returned. */
  private declValueOpen(): number {
    this.skipBlanks();
    if (this.at() !== 0x3d) this.fail("expected '='\n");
    this.cur++;
    this.skipBlanks();
    const q = this.at();
    if (q !== 0x22 && q !== 0x27) this.fail("String not started expecting ' or \"\n");
    this.cur++;
    return q;
  }

  private declValueClose(q: number): void {
    if (this.at() !== q) this.fail("String not closed expecting \" or '\n");
    this.cur++;
  }

  /** xmlParseXMLDecl with its version, encoding and standalone parts. */
  private xmlDecl(): void {
    this.cur += 5;
    this.skipBlanks();
    let version: string | null = null;
    if (this.startsWith('version')) {
      this.cur += 7;
      const q = this.declValueOpen();
      const s = this.cur;
      if (this.at() >= 0x30 && this.at() <= 0x39 && this.at(this.cur + 1) === 0x2e) {
        this.cur += 2;
        while (this.at() >= 0x30 && this.at() <= 0x39) this.cur++;
        version = this.text(s, this.cur);
      }
      this.declValueClose(q);
    }
    if (version === null) this.fail('Malformed declaration expecting version\n');
    // 1.x other than 1.0 is only a warning; anything else is fatal.
    if (version !== '1.0' && !version.startsWith('1.')) this.fail(`Unsupported version '${version}'\n`);
    if (!isBlank(this.at())) {
      if (this.startsWith('?>')) return void (this.cur += 2);
      this.fail('Blank needed here\n');
    }
    this.skipBlanks();
    let encoding = false;
    if (this.startsWith('encoding')) {
      encoding = true;
      this.cur += 8;
      const q = this.declValueOpen();
      const s = this.cur;
      const c0 = this.at();
      if (!((c0 >= 0x61 && c0 <= 0x7a) || (c0 >= 0x41 && c0 <= 0x5a))) this.fail('Invalid XML encoding name\n');
      while (/[A-Za-z0-9._-]/.test(String.fromCharCode(this.at())) && this.cur < this.end) this.cur++;
      const name = this.text(s, this.cur);
      this.declValueClose(q);
      // The document arrives as a string already decoded: a known encoding changes nothing.
      if (!knownEncoding(name)) this.fail(`Unsupported encoding ${name}\n`);
    }
    if (encoding && !isBlank(this.at())) {
      if (this.startsWith('?>')) return void (this.cur += 2);
      this.fail('Blank needed here\n');
    }
    this.skipBlanks();
    if (this.startsWith('standalone')) {
      this.cur += 10;
      const q = this.declValueOpen();
      if (this.startsWith('no')) this.cur += 2;
      else if (this.startsWith('yes')) this.cur += 3;
      else this.fail("standalone accepts only 'yes' or 'no'\n");
      this.declValueClose(q);
    }
    this.skipBlanks();
    if (this.startsWith('?>')) this.cur += 2;
    else this.fail("parsing XML declaration: '?>' expected\n");
  }

  /** xmlParsePI. */
  pi(): void {
    this.cur += 2;
    const target = this.name(true);
    if (target === null) this.fail('xmlParsePI : no target name\n');
    if (target.toLowerCase() === 'xml') {
      if (target === 'xml') this.fail('XML declaration allowed only at the start of the document\n');
      this.fail('Invalid PI name\n');
    }
    if (this.startsWith('?>')) return void (this.cur += 2);
    if (this.skipBlanks() === 0) this.fail(`ParsePI: PI ${target} space expected\n`);
    for (;;) {
      if (this.cur >= this.end) this.fail(`ParsePI: PI ${target} never end ...\n`);
      if (this.startsWith('?>')) return void (this.cur += 2);
      if (!isChar(this.char())) this.fail(`ParsePI: PI ${target} never end ...\n`);
      this.next();
    }
  }

  /** xmlParseComment: its fast path over ASCII, then the character-by-character one. */
  comment(): void {
    this.cur += 4;
    const start = this.cur;
    let complex = false;
    for (;;) {
      if (this.cur >= this.end) {
        if (!complex || this.cur === start) this.fail('Comment not terminated\n');
        this.fail(`Comment not terminated \n<!--${clip(this.b.subarray(start, this.cur))}\n`);
      }
      const c = this.b[this.cur]!;
      if (c === 0x2d && this.at(this.cur + 1) === 0x2d) {
        if (this.at(this.cur + 2) === 0x3e) return void (this.cur += 3);
        if (complex) {
          this.cur += 2;
          this.fail("Comment must not contain '--' (double-hyphen)\n");
        }
        this.fail(this.cur === start ? 'Double hyphen within comment\n' : `Double hyphen within comment: <!--${clip(this.b.subarray(start, this.cur))}\n`);
      }
      if (c >= 0x80 || (c < 0x20 && c !== 0x09 && c !== LF)) {
        complex = true;
        const ch = this.char();
        if (!isChar(ch)) this.fail(`xmlParseComment: invalid xmlChar value ${ch}\n`);
      }
      this.next();
    }
  }

  /**
   * xmlParseCDSect: returns the section's text. The first two characters are checked on their own
   * (an error code libxml2 has no text for); then its message quotes the text read so far but the
   * last two characters.
   */
  private cdata(): string {
    this.cur += 9;
    const start = this.cur;
    for (let k = 0; k < 2; k++) {
      if (this.cur >= this.end || !isChar(this.char())) this.fail('Unregistered error message\n');
      this.next();
    }
    for (;;) {
      if (this.startsWith(']]>', this.cur - 2)) {
        const s = this.text(start, this.cur - 2);
        this.cur += 1;
        return s.replace(/\r\n?/g, '\n');
      }
      if (this.cur >= this.end || !isChar(this.char())) {
        let held = this.cur;
        for (let k = 0; k < 2; k++) do held--; while ((this.b[held]! & 0xc0) === 0x80);
        this.fail(`CData section not finished\n${clip(this.b.subarray(start, held))}\n`);
      }
      this.next();
    }
  }

  /**
   * The code point at the cursor (CUR_CHAR). A multi-byte character outside XML's Char range is
   * reported there and then, whoever reads it.
   */
  char(): number {
    const ch = cpOf(charAt(this.b, this.cur));
    if (ch >= 0x80 && !isChar(ch)) this.fail(`Char 0x${ch.toString(16).toUpperCase()} out of allowed range\n`);
    return ch;
  }

  /** xmlParseElement, iteratively: start tags push, end tags pop, content in between. */
  private element(): RawElement {
    const root = this.startTag();
    if (root.empty) return root.el;
    for (;;) {
      if (this.stack.length === 0) return root.el;
      const top = this.stack[this.stack.length - 1]!;
      if (this.cur >= this.end) {
        this.fail(`Premature end of data in tag ${top.el.qname} line ${top.line}\n`);
      }
      const c = this.b[this.cur]!;
      if (c === 0x3c) {
        const n = this.at(this.cur + 1);
        if (n === 0x3f) {
          this.flush(top);
          this.pi();
        } else if (this.startsWith('<![CDATA[')) {
          this.flush(top);
          const text = this.cdata();
          if (this.build) {
            top.el.content.push(text);
            top.el.pieces.push(text.trim());
          }
        } else if (this.startsWith('<!--')) {
          this.flush(top);
          this.comment();
        } else if (n === 0x2f) {
          this.flush(top);
          this.endTag(top);
          this.stack.pop();
        } else {
          this.flush(top);
          const child = this.startTag();
          if (this.build) top.el.content.push(child.el);
        }
      } else if (c === 0x26) {
        const text = this.reference();
        if (this.build) top.piece.push(text);
      } else {
        this.charData(this.build ? top.piece : null);
      }
    }
  }

  private flush(top: { el: RawElement; piece: string[] }): void {
    if (top.piece.length === 0) return;
    const s = top.piece.join('');
    top.piece.length = 0;
    top.el.content.push(s);
    top.el.pieces.push(s.trim());
  }

  /** xmlParseElementStart + xmlParseStartTag2. */
  private startTag(): { el: RawElement; empty: boolean } {
    if (this.stack.length > LIBXML2_MAX_DEPTH) {
      this.fail(`Excessive depth in document: ${LIBXML2_MAX_DEPTH} use XML_PARSE_HUGE option\n`);
    }
    const line = this.line;
    this.cur++;
    const q = this.qname();
    if (q === null) this.fail('StartTag: invalid element name\n');
    const qname = q.prefix === null ? q.local : `${q.prefix}:${q.local}`;
    const el: RawElement = { qname, prefix: q.prefix, local: q.local, attrs: [], nsDecls: null, content: [], pieces: [] };
    // Duplicates are found by a scan while the tag is short, by a set once it is long.
    let seen: Set<string> | null = null;
    this.skipBlanks();
    for (;;) {
      const c = this.at();
      // IS_BYTE_CHAR: a control character (or the end) stops the attribute loop.
      if (c === 0x3e || (c === 0x2f && this.at(this.cur + 1) === 0x3e) || this.cur >= this.end || (c < 0x20 && !isBlank(c))) break;
      const an = this.qname();
      if (an === null) this.fail('error parsing attribute name\n');
      const aname = an.prefix === null ? an.local : `${an.prefix}:${an.local}`;
      this.skipBlanks();
      if (this.at() !== 0x3d) this.fail(`Specification mandates value for attribute ${an.local}\n`);
      this.cur++;
      this.skipBlanks();
      const value = this.attValue();
      if (aname === 'xmlns' || an.prefix === 'xmlns') {
        const p = aname === 'xmlns' ? '' : an.local;
        el.nsDecls ??= new Map();
        if (el.nsDecls.has(p)) this.fail(p === '' ? 'Attribute xmlns redefined\n' : `Attribute xmlns:${p} redefined\n`);
        el.nsDecls.set(p, value);
      } else {
        if (el.attrs.length >= 16 && seen === null) seen = new Set(el.attrs.map(([k]) => k));
        const dup = seen !== null ? seen.has(aname) : el.attrs.some(([k]) => k === aname);
        if (dup) this.fail(an.prefix === null ? `Attribute ${an.local} redefined\n` : `Attribute ${an.prefix}:${an.local} redefined\n`);
        seen?.add(aname);
      }
      el.attrs.push([aname, value]);
      const d = this.at();
      if (d === 0x3e || (d === 0x2f && this.at(this.cur + 1) === 0x3e)) break;
      if (this.skipBlanks() === 0) this.fail('attributes construct error\n');
    }
    if (this.startsWith('/>')) {
      this.cur += 2;
      return { el, empty: true };
    }
    if (this.at() === 0x3e) {
      this.cur++;
      this.stack.push({ el, line, piece: [] });
      return { el, empty: false };
    }
    this.fail(`Couldn't find end of Start Tag ${qname} line ${line}\n`);
  }

  /** xmlParseEndTag2: the name is compared after '>' is checked, so a mismatch points past it. */
  private endTag(top: { el: RawElement; line: number }): void {
    this.cur += 2;
    const want = top.el.qname;
    let matched = false;
    if (this.startsWith(want)) {
      const after = this.at(this.cur + Buffer.byteLength(want));
      if (after === 0x3e || isBlank(after)) {
        this.cur += Buffer.byteLength(want);
        matched = true;
      }
    }
    const got = matched ? want : this.name(true);
    this.skipBlanks();
    if (this.at() !== 0x3e) this.fail("expected '>'\n");
    this.cur++;
    if (got !== want) this.fail(`Opening and ending tag mismatch: ${want} line ${top.line} and ${got ?? 'unparsable'}\n`);
  }

  /** xmlParseAttValueInternal / Complex: normalised value with references replaced. */
  private attValue(): string {
    const q = this.at();
    if (q !== 0x22 && q !== 0x27) this.fail('AttValue: " or \' expected\n');
    this.cur++;
    let out = '';
    let run = this.cur;
    for (;;) {
      if (this.cur >= this.end) this.fail("AttValue: ' expected\n");
      const c = this.b[this.cur]!;
      if (c === q) {
        out += this.text(run, this.cur);
        this.cur++;
        return out;
      }
      if (c === 0x3c) this.fail("Unescaped '<' not allowed in attributes values\n");
      if (c === 0x26) {
        out += this.text(run, this.cur) + this.reference(true);
        run = this.cur;
        continue;
      }
      if (c < 0x20) {
        out += this.text(run, this.cur);
        const len = lenOf(charAt(this.b, this.cur));
        if (!isChar(this.char())) this.fail('invalid character in attribute value\n');
        out += ' ';
        if (this.b[this.cur + len - 1] === LF) this.line++;
        this.cur += len;
        run = this.cur;
        continue;
      }
      if (c >= 0x80) {
        const len = lenOf(charAt(this.b, this.cur));
        this.char();
        this.cur += len;
        continue;
      }
      this.cur++;
    }
  }

  /** xmlParseCharData up to the next '<' or '&'. */
  private charData(piece: string[] | null): void {
    const start = this.cur;
    let runStart = start;
    for (;;) {
      if (this.cur >= this.end) break;
      const c = this.b[this.cur]!;
      if (c === 0x3c || c === 0x26) break;
      if (c === 0x5d && this.at(this.cur + 1) === 0x5d && this.at(this.cur + 2) === 0x3e) {
        // The fast path reports it with its cursor still at the start of the run.
        this.fail("Sequence ']]>' not allowed in content\n", runStart);
      }
      if (c < 0x20 || c >= 0x80) {
        const len = lenOf(charAt(this.b, this.cur));
        const ch = this.char();
        if (!isChar(ch)) this.fail(`PCDATA invalid Char value ${ch}\n`);
        if (c === 0x0d) runStart = this.cur + len;
        if (this.b[this.cur + len - 1] === LF) this.line++;
        this.cur += len;
        if (c >= 0x80) runStart = this.cur;
        continue;
      }
      this.cur++;
    }
    piece?.push(this.text(start, this.cur).replace(/\r\n?/g, '\n'));
  }

  /** xmlParseReference / xmlParseCharRef / xmlParseEntityRef: the text it stands for. */
  private reference(inAttr = false): string {
    if (this.at(this.cur + 1) === 0x23) return String.fromCodePoint(this.charRef());
    this.cur++;
    const name = this.name(true);
    if (name === null) this.fail('xmlParseEntityRef: no name\n');
    if (this.at() !== 0x3b) this.fail("EntityRef: expecting ';'\n");
    this.cur++;
    const pre = PREDEFINED[name];
    if (pre !== undefined) return pre;
    if (this.dtd === null) this.fail(`Entity '${name}' not defined\n`);
    return this.dtd.expand(this, name, inAttr);
  }

  /** xmlParseCharRef: the cursor ends after ';'; errors point there. */
  charRef(): number {
    const hex = this.at(this.cur + 2) === 0x78;
    this.cur += hex ? 3 : 2;
    let val = 0;
    let count = 0;
    while (this.at() !== 0x3b) {
      const c = this.at();
      if (c >= 0x30 && c <= 0x39) val = val * (hex ? 16 : 10) + (c - 0x30);
      else if (hex && count < 20 && c >= 0x61 && c <= 0x66) val = val * 16 + (c - 0x61 + 10);
      else if (hex && count < 20 && c >= 0x41 && c <= 0x46) val = val * 16 + (c - 0x41 + 10);
      else {
        this.fail(hex ? 'CharRef: invalid hexadecimal value\n' : 'CharRef: invalid decimal value\n');
      }
      if (val > 0x110000) val = 0x110000;
      this.cur++;
      count += 2;
    }
    this.cur++;
    if (val >= 0x110000) this.fail('xmlParseCharRef: character reference out of bounds\n');
    if (!isChar(val)) this.fail(`xmlParseCharRef: invalid xmlChar value ${val}\n`);
    return val;
  }
}

/** libxml2 prints at most 50 bytes of a comment's text in its messages. */
function clip(b: Uint8Array): string {
  return dec.decode(b.subarray(0, 50));
}

/**
 * Encodings libxml2 finds a handler for (its built-ins and iconv's common names). The text is
 * already decoded, so the name only decides between accepting and "Unsupported encoding".
 */
const ENCODINGS = /^(utf-?8|utf-?16(le|be)?|ucs-?2|ucs-?4|utf-?32(le|be)?|iso-?8859-?([1-9]|1[0-6])|iso-latin-[1-6]|latin-?[1-6]|(us-)?ascii|cp-?125[0-8]|windows-125[0-8]|koi8-[ru]|shift_jis|euc-jp|iso-2022-jp|gb2312|gbk|big5)$/i;

function knownEncoding(name: string): boolean {
  return ENCODINGS.test(name);
}
