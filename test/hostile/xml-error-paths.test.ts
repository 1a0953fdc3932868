/**
 * Every error path of the XML reader on multi-megabyte hostile input finishes in bounded time
 * (issue 15, finding 2: a regular expression in the premature-end path took 13 s for a 100 kB tag
 * name, and froze the daemon for every client). Each case is a shape that used to make one of the
 * reader's searches restart from every '<' or '&'; the bound is generous for a loaded 2-core
 * machine and still far below the seconds a quadratic scan takes at this size.
 */
import { describe, expect, it } from 'vitest';
import { LibvirtError, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { LIBXML2_MAX_DEPTH, parseXmlDocument } from '../../fakelibvirt/libvirt/xml-tree.ts';

const MB = 1 << 20;
/**
 * Time allowed for one parse of 2 MiB. The reader's own scans take tens of milliseconds; most of
 * the rest is fast-xml-parser's validator (up to 4 s on 1.5 million attributes on a loaded 2-core
 * machine). The quadratic premature-end scan took 11 s for 100 kB, so hours at this size.
 */
const BOUND_MS = 8000;

const fill = (unit: string, bytes = 2 * MB) => unit.repeat(Math.ceil(bytes / unit.length));

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['a start tag with a 2 MB name that never ends', `<${fill('a')}`],
  ['a 2 MB tag name, then the end of the data inside it', `<domain><${fill('a')}>`],
  ['2 MB of "<a" with no ">" at all', fill('<a')],
  ['2 MB of "<a" closed by one ">" at the very end', `${fill('<a')}>`],
  ['2 MB of unterminated comments', `<domain>${fill('<!--')}`],
  ['2 MB of unterminated CDATA openers', `<domain>${fill('<![CDATA[')}`],
  ['2 MB of "<!" declarations with no ">"', `<domain>${fill('<!x')}`],
  ['2 MB of "<?" with no ">"', `<domain>${fill('<?x')}`],
  ['2 MB of unclosed elements', `<domain>${fill('<a>')}`],
  ['2 MB of undefined entity references', `<domain>${fill('&a')};</domain>`],
  ['2 MB of numeric references without ";"', `<domain>${fill('&#1')}</domain>`],
  ['a 2 MB attribute value without its closing quote', `<domain a='${fill('x')}></domain>`],
  ['2 MB of attributes without values', `<domain ${fill('a ')}></domain>`],
  ['2 MB of mismatched closing tags', `<domain>${fill('</a>')}`],
  ['2 MB of roots', fill('<a/>')],
  ['2 MB of whitespace', fill(' \n')],
  ['2 MB of nesting past the depth limit', fill('<a>')],
  ['2 MB of "<" alone', fill('<')],
  ['2 MB of "</" alone', `<domain>${fill('</')}`],
  ['a 2 MB single line ending inside the root', `<domain>${fill('<b/>')}`],
  ['2 MB of lines ending inside nested elements', `<domain>\n${fill('<a>\n')}`],
];

describe('XML reader on multi-megabyte hostile input', () => {
  it.each(CASES)('%s: refused with an XML error within the bound', (_name, xml) => {
    const t0 = performance.now();
    let err: unknown = null;
    try {
      parseXmlDocument(xml, 'domain_definition');
    } catch (e) {
      err = e;
    }
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).code).toBe(VirErrorNumber.XML_DETAIL);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it(`accepts nesting up to libxml2's limit (${LIBXML2_MAX_DEPTH} open elements) and refuses the next with libxml2's text`, () => {
    const nest = (n: number) => `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`;
    // Measured on libvirt 9.0: libxml2 refuses an element start once more than 256 are open, so
    // 257 levels parse and the 258th is refused.
    expect(parseXmlDocument(nest(LIBXML2_MAX_DEPTH + 1), 'domain_definition').name).toBe('a');
    expect(() => parseXmlDocument(nest(LIBXML2_MAX_DEPTH + 2), 'domain_definition')).toThrow(
      `Excessive depth in document: ${LIBXML2_MAX_DEPTH} use XML_PARSE_HUGE option`,
    );
    // Between fast-xml-parser's own default (100) and libxml2's limit: parsed, not an internal error.
    expect(parseXmlDocument(nest(150), 'domain_definition').children).toHaveLength(1);
  });
});
