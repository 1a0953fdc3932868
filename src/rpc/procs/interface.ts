/** Host interface procedures (libvirt-interface.c), served by the interface driver's connection. */
import { inGroup, untyped, write } from './define.ts';

export const InterfaceProcs = inGroup('interface', {
  CONNECT_NUM_OF_INTERFACES: untyped(126),
  CONNECT_LIST_INTERFACES: untyped(127),
  INTERFACE_LOOKUP_BY_NAME: untyped(128),
  INTERFACE_LOOKUP_BY_MAC_STRING: untyped(129),
  INTERFACE_GET_XML_DESC: untyped(130),
  INTERFACE_DEFINE_XML: untyped(131, write('virInterfaceDefineXML')),
  INTERFACE_UNDEFINE: untyped(132, write('virInterfaceUndefine')),
  INTERFACE_CREATE: untyped(133, write('virInterfaceCreate')),
  INTERFACE_DESTROY: untyped(134, write('virInterfaceDestroy')),
  CONNECT_NUM_OF_DEFINED_INTERFACES: untyped(137),
  CONNECT_LIST_DEFINED_INTERFACES: untyped(138),
  INTERFACE_IS_ACTIVE: untyped(156),
  INTERFACE_CHANGE_BEGIN: untyped(220, write('virInterfaceChangeBegin')),
  INTERFACE_CHANGE_COMMIT: untyped(221, write('virInterfaceChangeCommit')),
  INTERFACE_CHANGE_ROLLBACK: untyped(222, write('virInterfaceChangeRollback')),
  CONNECT_LIST_ALL_INTERFACES: untyped(284),
});
