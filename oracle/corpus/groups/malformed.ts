// malformed/*: one small valid document broken at many places — truncations at deterministic
// offsets and single edits that make the XML not well-formed. Every document stays under 4 KB so
// the parser's messages (which quote the offending line) stay short.

import type { Corpus } from '../corpus.ts';
import { Rng } from '../prng.ts';
import { h, t } from '../xml.ts';
import { base, addDevices, patch, domainXml } from '../domain.ts';

export const TRUNCATIONS = 40;

/** The document every malformed entry is derived from. */
export function malformedBase(): string {
  const d = patch(addDevices(base(),
    h('interface', { type: 'network' }, h('mac', { address: '52:54:00:6b:3c:58' }), h('source', { network: 'default' }), h('model', { type: 'virtio' })),
    h('graphics', { type: 'vnc', autoport: 'yes' }),
    h('memballoon', { model: 'virtio' })), { uuid: [t('uuid', 'c7a5fdbd-edaf-9455-926a-d65c16db1809')], description: [t('description', 'Malformed corpus base')] });
  return domainXml(d);
}

export function addMalformed(c: Corpus): void {
  const xml = malformedBase();
  const add = (slug: string, text: string): void => {
    if (text === xml) throw new Error(`malformed/${slug}: the edit did not apply`);
    if (Buffer.byteLength(text) >= 4096) throw new Error(`malformed/${slug} is 4 KB or more`);
    c.add('malformed', slug, text);
  };

  // Truncations: 40 distinct offsets drawn from the seeded stream, plus the edges.
  const r = Rng.for('malformed/truncate');
  // The last byte is the newline after </domain>: cutting only that leaves a whole document.
  const offsets = new Set<number>([1, 5, 10, xml.length - 3, xml.length - 2]);
  while (offsets.size < TRUNCATIONS) offsets.add(r.int(1, xml.length - 2));
  for (const n of [...offsets].sort((a, b) => a - b)) add(`truncated/${String(n).padStart(4, '0')}`, xml.slice(0, n));

  const once = (from: string, to: string): string => {
    const i = xml.indexOf(from);
    if (i < 0) throw new Error(`malformed: ${JSON.stringify(from)} not in the base document`);
    return xml.slice(0, i) + to + xml.slice(i + from.length);
  };

  add('tag/unclosed-name', once('<name>corpus-guest</name>', '<name>corpus-guest'));
  add('tag/unclosed-devices', once('  </devices>\n', ''));
  add('tag/unclosed-root', once('</domain>\n', ''));
  add('tag/mismatched-end', once('</name>', '</nam>'));
  add('tag/mismatched-nesting', once("<vcpu>2</vcpu>", '<vcpu>2<os></vcpu></os>'));
  add('tag/missing-gt', once("<memory unit='MiB'>", "<memory unit='MiB'"));
  add('tag/missing-lt', once('<vcpu>2</vcpu>', 'vcpu>2</vcpu>'));
  add('tag/stray-end', once('  <devices>\n', '  </x>\n  <devices>\n'));
  add('tag/extra-root-end', `${xml}</domain>\n`);
  add('tag/space-in-name', once('<vcpu>2</vcpu>', '<v cpu>2</v cpu>'));
  add('tag/digit-start', once('<vcpu>2</vcpu>', '<1vcpu>2</1vcpu>'));
  add('tag/empty-name', once('<vcpu>2</vcpu>', '<>2</>'));
  add('tag/lt-at-end', `${xml}<`);
  add('attr/unquoted', once("<domain type='qemu'>", '<domain type=kvm>'));
  add('attr/no-value', once("<graphics type='vnc' autoport='yes'/>", "<graphics type='vnc' autoport/>"));
  add('attr/unterminated-quote', once("<model type='virtio'/>", "<model type='virtio/>"));
  add('attr/mixed-quotes', once("<model type='virtio'/>", "<model type='virtio\"/>"));
  add('attr/lt-in-value', once("<source network='default'/>", "<source network='de<fault'/>"));
  add('attr/duplicate', once("<graphics type='vnc' autoport='yes'/>", "<graphics type='vnc' autoport='yes' type='spice'/>"));
  add('attr/no-space-between', once("<graphics type='vnc' autoport='yes'/>", "<graphics type='vnc'autoport='yes'/>"));
  add('attr/bad-name', once("<graphics type='vnc' autoport='yes'/>", "<graphics type='vnc' 9port='yes'/>"));
  add('text/lt', once('<name>corpus-guest</name>', '<name>corpus<guest</name>'));
  add('text/amp-alone', once('<description>Malformed corpus base</description>', '<description>Malformed & base</description>'));
  add('text/amp-unterminated', once('<description>Malformed corpus base</description>', '<description>Malformed &amp base</description>'));
  add('text/cdata-end-marker', once('<description>Malformed corpus base</description>', '<description>a ]]> b</description>'));
  add('char/u0001-in-text', once('<name>corpus-guest</name>', '<name>corpus\u0001guest</name>'));
  add('char/u0001-in-attr', once("<source network='default'/>", "<source network='def\u0001ault'/>"));
  add('char/ufffe', once('<description>Malformed corpus base</description>', '<description>Malformed \uFFFE base</description>'));
  add('char/lone-surrogate-ref', once('<description>Malformed corpus base</description>', '<description>Malformed &#xDFFF; base</description>'));
  add('comment/unterminated', once('  <devices>\n', '  <!-- devices\n  <devices>\n'));
  add('comment/unterminated-at-end', `${xml}<!-- tail`);
  add('cdata/unterminated', once('<description>Malformed corpus base</description>', '<description><![CDATA[Malformed corpus base</description>'));
  add('pi/unterminated', once('  <devices>\n', '  <?corpus oops\n  <devices>\n'));
  add('root/two-roots', `${xml}${xml}`);
  add('root/two-roots-different', `${xml}<domain type='qemu'/>\n`);
  add('decl/unterminated', `<?xml version="1.0"\n${xml}`);
  add('doctype/unterminated', `<!DOCTYPE domain [\n  <!ENTITY x "y">\n${xml}`);
}
