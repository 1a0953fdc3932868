/**
 * `<lease>`: virDomainLeaseDefParseXML's reads in its order (key, lockspace, the target's path and
 * offset) and virDomainLeaseDefFormat's canonical form. The QEMU driver adds no rule of its own.
 */
import { child, type XmlNode } from '../../xml-tree.ts';
import { node, textNode, type DomainDraft } from '../draft.ts';
import { propULongLong, unknownCauseError } from '../props.ts';
import { domainXmlError } from './device-info.ts';

/** XPath string(./NAME): the first such child's text with its descendants', in document order; '' is none. */
function xpathString(parent: XmlNode, name: string): string | undefined {
  const n = child(parent, name);
  const value = n === undefined ? '' : stringValue(n);
  return value === '' ? undefined : value;
}

function stringValue(n: XmlNode): string {
  if (n.content) return n.content.map((c) => (typeof c === 'string' ? c : stringValue(c))).join('');
  return (n.raw ?? n.text) + n.children.map(stringValue).join('');
}

export function parseLease(input: XmlNode, _d?: DomainDraft): XmlNode {
  // string(./key) and string(./lockspace): an empty text counts as missing.
  const key = xpathString(input, 'key');
  if (key === undefined) throw domainXmlError("Missing 'key' element for lease");
  const lockspace = xpathString(input, 'lockspace');
  // libvirt gives up here without reporting anything, hence the generic error.
  if (lockspace === undefined) throw unknownCauseError();
  const target = child(input, 'target');
  if (!target) throw domainXmlError("Missing 'target' element for lease");
  const path = target.attrs.path;
  if (path === undefined) throw domainXmlError("Missing 'path' attribute to 'target' element for lease");
  const offset = propULongLong(target, 'offset', 10);
  return node('lease', {}, [
    textNode('lockspace', lockspace),
    textNode('key', key),
    node('target', { path, offset: offset ? offset.toString() : undefined }),
  ]);
}
