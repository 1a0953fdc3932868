/**
 * `<vlan>` as libvirt parses and formats it (conf/netdev_vlan_conf.c virNetDevVlanParse /
 * virNetDevVlanFormat): one or more tags (id ≤ 4095), at most one native tag, the trunk setting.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import type { XmlNode } from '../../xml-tree.ts';
import { node } from '../draft.ts';
import { propEnum, propUInt } from '../props.ts';

/** virNativeVlanMode (VIR_ENUM_IMPL order). */
const NATIVE_MODES = ['default', 'tagged', 'untagged'] as const;

/** This file's own errors come from VIR_FROM_NONE. */
const vlanError = (m: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.NONE, m);

export function parseVlan(el: XmlNode): XmlNode {
  const tags = el.children.filter((c) => c.name === 'tag');
  if (tags.length === 0) throw vlanError('missing tag id - each <vlan> must have at least one <tag id=\'n\'/> subelement');
  const ids: number[] = [];
  let nativeMode: string | undefined;
  let nativeTag = 0;
  for (const t of tags) {
    const id = propUInt(t, 'id', 10, { required: true })!;
    if (id > 4095) throw vlanError(`vlan tag id ${id} too large (maximum 4095)`);
    ids.push(id);
    const mode = propEnum(t, 'nativeMode', NATIVE_MODES, { nonzero: true });
    if (mode !== undefined) {
      if (nativeMode !== undefined) throw vlanError('duplicate native vlan setting');
      nativeMode = mode;
      nativeTag = id;
    }
  }
  let trunk = tags.length > 1;
  const trunkText = el.attrs.trunk;
  if (trunkText !== undefined) {
    trunk = trunkText.toLowerCase() === 'yes';
    if (!trunk) {
      if (tags.length > 1) throw vlanError(`invalid "trunk='${trunkText}'" in <vlan> - trunk='yes' is required for more than one vlan tag`);
      if (nativeMode !== undefined) throw vlanError('invalid configuration in <vlan> - "trunk=\'no\'" is not allowed with a native vlan id');
      if (trunkText.toLowerCase() !== 'no') throw vlanError(`invalid "trunk='${trunkText}'" in <vlan> - must be yes or no`);
    }
  }
  return node(
    'vlan',
    { trunk: trunk ? 'yes' : undefined },
    ids.map((id) => node('tag', { id, nativeMode: nativeMode !== undefined && id === nativeTag ? nativeMode : undefined })),
  );
}
