/** Domain snapshot procedures (libvirt-domain-snapshot.c). */
import { int, struct, uint } from '../../xdr/index.ts';
import { NonnullDomain, NonnullDomainSnapshot, Str } from '../remote-types.ts';
import { call, inGroup, untyped, write } from './define.ts';

const D = NonnullDomain;
const DomFlags = struct([['dom', D], ['flags', uint]]);
const RetNum = struct([['num', int]]);

export const SnapshotProcs = inGroup('snapshot', {
  DOMAIN_SNAPSHOT_CREATE_XML: call(
    185,
    struct([['dom', D], ['xml_desc', Str], ['flags', uint]]),
    struct([['snap', NonnullDomainSnapshot]]),
    write('virDomainSnapshotCreateXML'),
  ),
  DOMAIN_SNAPSHOT_GET_XML_DESC: untyped(186),
  DOMAIN_SNAPSHOT_NUM: call(187, DomFlags, RetNum),
  DOMAIN_SNAPSHOT_LIST_NAMES: untyped(188),
  DOMAIN_SNAPSHOT_LOOKUP_BY_NAME: untyped(189),
  DOMAIN_HAS_CURRENT_SNAPSHOT: untyped(190),
  DOMAIN_SNAPSHOT_CURRENT: untyped(191),
  DOMAIN_REVERT_TO_SNAPSHOT: untyped(192, write('virDomainRevertToSnapshot')),
  DOMAIN_SNAPSHOT_DELETE: untyped(193, write('virDomainSnapshotDelete')),
  DOMAIN_SNAPSHOT_GET_PARENT: untyped(244),
  DOMAIN_SNAPSHOT_NUM_CHILDREN: untyped(246),
  DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES: untyped(247),
  DOMAIN_SNAPSHOT_IS_CURRENT: untyped(271),
  DOMAIN_SNAPSHOT_HAS_METADATA: untyped(272),
  DOMAIN_LIST_ALL_SNAPSHOTS: untyped(274),
  DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN: untyped(275),
});
