/** Network filter procedures (libvirt-nwfilter.c), served by the nwfilter driver's connection. */
import { inGroup, untyped, write } from './define.ts';

export const NwfilterProcs = inGroup('nwfilter', {
  NWFILTER_LOOKUP_BY_NAME: untyped(175),
  NWFILTER_LOOKUP_BY_UUID: untyped(176),
  NWFILTER_GET_XML_DESC: untyped(177),
  CONNECT_NUM_OF_NWFILTERS: untyped(178),
  CONNECT_LIST_NWFILTERS: untyped(179),
  NWFILTER_DEFINE_XML: untyped(180, write('virNWFilterDefineXML')),
  NWFILTER_UNDEFINE: untyped(181, write('virNWFilterUndefine')),
  CONNECT_LIST_ALL_NWFILTERS: untyped(286),
  NWFILTER_BINDING_LOOKUP_BY_PORT_DEV: untyped(397),
  NWFILTER_BINDING_GET_XML_DESC: untyped(398),
  NWFILTER_BINDING_CREATE_XML: untyped(399, write('virNWFilterBindingCreateXML')),
  NWFILTER_BINDING_DELETE: untyped(400, write('virNWFilterBindingDelete')),
  CONNECT_LIST_ALL_NWFILTER_BINDINGS: untyped(401),
  NWFILTER_DEFINE_XML_FLAGS: untyped(431, write('virNWFilterDefineXMLFlags')),
});
