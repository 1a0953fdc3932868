/** Node device procedures (libvirt-nodedev.c). The PCI detach, re-attach and reset calls go to the
 * hypervisor driver, the rest to the node device driver's connection. */
import { array, int, struct, uint } from '../../xdr/index.ts';
import { Limits, NonnullNodeDevice, OptStr, Str } from '../remote-types.ts';
import { call, HYPERVISOR_DRIVER, inGroup, untyped, write } from './define.ts';

export const NodeDeviceProcs = inGroup('nodedev', {
  NODE_NUM_OF_DEVICES: call(111, struct([['cap', OptStr], ['flags', uint]]), struct([['num', int]])),
  NODE_LIST_DEVICES: call(
    112,
    struct([['cap', OptStr], ['maxnames', int], ['flags', uint]]),
    struct([['names', array(Str, Limits.NODE_DEVICE_LIST_MAX)]]),
  ),
  NODE_DEVICE_LOOKUP_BY_NAME: call(113, struct([['name', Str]]), struct([['dev', NonnullNodeDevice]])),
  NODE_DEVICE_GET_XML_DESC: call(114, struct([['name', Str], ['flags', uint]]), struct([['xml', Str]])),
  NODE_DEVICE_GET_PARENT: untyped(115),
  NODE_DEVICE_NUM_OF_CAPS: untyped(116),
  NODE_DEVICE_LIST_CAPS: untyped(117),
  NODE_DEVICE_DETTACH: untyped(118, write('virNodeDeviceDettach'), HYPERVISOR_DRIVER),
  NODE_DEVICE_RE_ATTACH: untyped(119, write('virNodeDeviceReAttach'), HYPERVISOR_DRIVER),
  NODE_DEVICE_RESET: untyped(120, write('virNodeDeviceReset'), HYPERVISOR_DRIVER),
  NODE_DEVICE_CREATE_XML: untyped(123, write('virNodeDeviceCreateXML')),
  NODE_DEVICE_DESTROY: untyped(124, write('virNodeDeviceDestroy')),
  CONNECT_LIST_ALL_NODE_DEVICES: call(
    285,
    struct([['need_results', int], ['flags', uint]]),
    struct([['devices', array(NonnullNodeDevice, Limits.NODE_DEVICE_LIST_MAX)], ['ret', uint]]),
  ),
  NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN: untyped(297),
  NODE_DEVICE_DETACH_FLAGS: untyped(301, write('virNodeDeviceDetachFlags'), HYPERVISOR_DRIVER),
  CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY: untyped(374),
  CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY: untyped(375),
  NODE_DEVICE_DEFINE_XML: untyped(428, write('virNodeDeviceDefineXML')),
  NODE_DEVICE_UNDEFINE: untyped(429, write('virNodeDeviceUndefine')),
  NODE_DEVICE_CREATE: untyped(430, write('virNodeDeviceCreate')),
  NODE_DEVICE_GET_AUTOSTART: untyped(433, write('virNodeDeviceGetAutostart')),
  NODE_DEVICE_SET_AUTOSTART: untyped(434, write('virNodeDeviceSetAutostart')),
  NODE_DEVICE_IS_PERSISTENT: untyped(435),
  NODE_DEVICE_IS_ACTIVE: untyped(436),
});
