/**
 * Documents that are not proper UTF-8, sent byte for byte through the socket: refused with
 * libxml2's own text, the offending bytes repeated in the message as libvirt repeats them. Every
 * expected message below was measured with `virsh define` against libvirtd 9.0 (Debian 12,
 * libxml2 2.9.14); `domain type='test'` there, 'kvm' here, is the only difference of the documents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { Proc } from '../../src/rpc/procedures.ts';
import { encodeEscaped } from '../../src/xdr/index.ts';
import { errorOf, rawCall, rawClient, startHostile, xdrString, type HostileDaemon } from '../hostile/support.ts';

const TAIL = "\n  <memory>524288</memory>\n  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n</domain>\n";
const doc = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

/** [what, document bytes, libvirt's message bytes] */
const CASES: [string, Buffer, Buffer][] = [
  ['a byte 0xFF in text', doc("<domain type='kvm'>\n  <name>ab", [0xff], 'cd</name>', TAIL),
    doc('(domain_definition):2: Input is not proper UTF-8, indicate encoding !\nBytes: 0xFF 0x63 0x64 0x3C\n  <name>ab', [0xff], 'cd</name>\n----------^')],
  ['a continuation byte with no lead', doc("<domain type='kvm'>\n  <name>ab", [0x80], 'cd</name>', TAIL),
    doc('(domain_definition):2: Input is not proper UTF-8, indicate encoding !\nBytes: 0x80 0x63 0x64 0x3C\n  <name>ab', [0x80], 'cd</name>\n----------^')],
  ['an overlong NUL', doc("<domain type='kvm'>\n  <name>ab", [0xc0, 0x80], 'cd</name>', TAIL),
    doc('(domain_definition):2: Input is not proper UTF-8, indicate encoding !\nBytes: 0xC0 0x80 0x63 0x64\n  <name>ab', [0xc0, 0x80], 'cd</name>\n----------^')],
  ['a sequence cut short', doc("<domain type='kvm'>\n  <name>ab", [0xe2, 0x82], 'cd</name>', TAIL),
    doc('(domain_definition):2: Input is not proper UTF-8, indicate encoding !\nBytes: 0xE2 0x82 0x63 0x64\n  <name>ab', [0xe2, 0x82], 'cd</name>\n----------^')],
  ['an encoded surrogate', doc("<domain type='kvm'>\n  <name>ab", [0xed, 0xa0, 0x80], 'cd</name>', TAIL),
    doc('(domain_definition):2: Char 0xD800 out of allowed range\n  <name>ab', [0xed, 0xa0, 0x80], 'cd</name>\n----------^')],
  ['a code point past U+10FFFF', doc("<domain type='kvm'>\n  <name>ab", [0xf5, 0x80, 0x80, 0x80], 'cd</name>', TAIL),
    doc('(domain_definition):2: Char 0x140000 out of allowed range\n  <name>ab', [0xf5, 0x80, 0x80, 0x80], 'cd</name>\n----------^')],
  ['in an attribute value', doc("<domain type='kv", [0xff], "m'>\n  <name>abcd</name>", TAIL),
    doc('(domain_definition):1: Input is not proper UTF-8, indicate encoding !\nBytes: 0xFF 0x6D 0x27 0x3E\n<domain type=\'kv', [0xff], "m'>\n----------------^")],
  ['in a tag name', doc("<domain type='kvm'>\n  <na", [0xff], 'me>abcd</name>', TAIL),
    doc('(domain_definition):2: Input is not proper UTF-8, indicate encoding !\nBytes: 0xFF 0x6D 0x65 0x3E\n  <na', [0xff], 'me>abcd</name>\n-----^')],
  ['in a comment', doc("<domain type='kvm'>\n  <!-- x", [0xff], ' -->\n  <name>abcd</name>', TAIL),
    doc('(domain_definition):2: Input is not proper UTF-8, indicate encoding !\nBytes: 0xFF 0x20 0x2D 0x2D\n  <!-- x', [0xff], ' -->\n--------^')],
  // Outside the root element libxml2 only looks for '<': its well-formedness errors win.
  ['before the root element', doc([0xff], "<domain type='kvm'>\n  <name>abcd</name>", TAIL),
    doc("(domain_definition):1: Start tag expected, '<' not found\n", [0xff], "<domain type='kvm'>\n^")],
  ['after the root element', doc("<domain type='kvm'>\n  <name>abcd</name>", TAIL.slice(0, -1), [0xff]),
    doc('(domain_definition):5: Extra content at the end of the document\n</domain>', [0xff], '\n---------^')],
  ['after a well-formedness error', doc("<domain type='kvm'>\n  <name>ab<<", [0xff], 'cd</name>\n</domain>\n'),
    doc('(domain_definition):2: StartTag: invalid element name\n  <name>ab<<', [0xff], 'cd</name>\n-----------^')],
];

describe('documents that are not proper UTF-8', () => {
  let d: HostileDaemon;
  beforeAll(async () => {
    d = await startHostile();
  });
  afterAll(async () => {
    await d.close();
  });

  it.each(CASES)('%s: refused with libxml2 2.9.14\'s text', async (_what, xml, message) => {
    const c = await rawClient(d.rw);
    c.send(rawCall(Proc.DOMAIN_DEFINE_XML, 2, xdrString(xml)));
    const err = await errorOf(c, 2);
    expect(err).toMatchObject({ code: VirErrorNumber.XML_DETAIL, domain: VirErrorDomain.DOMAIN });
    expect(encodeEscaped(err!.message!).toString('latin1')).toBe(message.toString('latin1'));
    c.destroy();
    expect(d.host.listAllDomains()).toEqual([]);
  });

  it('valid UTF-8 beyond ASCII is still accepted', async () => {
    const c = await rawClient(d.rw);
    c.send(rawCall(Proc.DOMAIN_DEFINE_XML, 2, xdrString(Buffer.from(`<domain type='kvm'>\n  <name>été-χ</name>${TAIL}`, 'utf8'))));
    expect(await errorOf(c, 2)).toBeNull();
    expect(d.host.listAllDomains().map((x) => x.name)).toEqual(['été-χ']);
    c.destroy();
  });
});
