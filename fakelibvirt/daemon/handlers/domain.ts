/** Domain lookup, listing, definition and information procedures. */
import { DeviceModifyFlags } from '../../../src/libvirt/flags.ts';
import type { HandlerTable } from '../context.ts';
import { fromWire, toWire, uuidToString } from '../wire.ts';

export const domainHandlers: HandlerTable = {
  CONNECT_LIST_ALL_DOMAINS: ({ host }, { need_results, flags }) => {
    const doms = host.listAllDomains(flags);
    return { domains: need_results ? doms.map(toWire) : [], ret: doms.length };
  },
  // The legacy listing calls virsh falls back to: active IDs, inactive (defined) names.
  CONNECT_NUM_OF_DOMAINS: ({ host }) => ({ num: host.numOfDomains() }),
  CONNECT_LIST_DOMAINS: ({ host }, { maxids }) => ({ ids: host.listDomains().slice(0, Math.max(0, maxids)) }),
  CONNECT_NUM_OF_DEFINED_DOMAINS: ({ host }) => ({ num: host.numOfDefinedDomains() }),
  CONNECT_LIST_DEFINED_DOMAINS: ({ host }, { maxnames }) => ({ names: host.listDefinedDomains().slice(0, Math.max(0, maxnames)) }),

  DOMAIN_LOOKUP_BY_ID: ({ host }, { id }) => ({ dom: toWire(host.lookupById(id)) }),
  DOMAIN_LOOKUP_BY_NAME: ({ host }, { name }) => ({ dom: toWire(host.lookupByName(name)) }),
  DOMAIN_LOOKUP_BY_UUID: ({ host }, { uuid }) => ({ dom: toWire(host.lookupByUUID(uuidToString(uuid))) }),

  DOMAIN_DEFINE_XML: ({ host }, { xml }) => ({ dom: toWire(host.defineXML(xml)) }),
  DOMAIN_DEFINE_XML_FLAGS: ({ host }, { xml }) => ({ dom: toWire(host.defineXML(xml)) }),
  DOMAIN_UNDEFINE: ({ host }, { dom }) => host.undefine(fromWire(dom), 0),
  DOMAIN_UNDEFINE_FLAGS: ({ host }, { dom, flags }) => host.undefine(fromWire(dom), flags),

  // virDomainAttachDevice / DetachDevice act on the running guest only (AFFECT_LIVE).
  DOMAIN_ATTACH_DEVICE: ({ host }, { dom, xml }) => host.attachDevice(fromWire(dom), xml, DeviceModifyFlags.AFFECT_LIVE),
  DOMAIN_ATTACH_DEVICE_FLAGS: ({ host }, { dom, xml, flags }) => host.attachDevice(fromWire(dom), xml, flags),
  DOMAIN_DETACH_DEVICE: ({ host }, { dom, xml }) => host.detachDevice(fromWire(dom), xml, DeviceModifyFlags.AFFECT_LIVE),
  DOMAIN_DETACH_DEVICE_FLAGS: ({ host }, { dom, xml, flags }) => host.detachDevice(fromWire(dom), xml, flags),

  DOMAIN_GET_XML_DESC: ({ host }, { dom, flags }) => ({ xml: host.getXMLDesc(fromWire(dom), flags) }),
  DOMAIN_GET_STATE: ({ host }, { dom, flags }) => host.getState(fromWire(dom), flags),
  DOMAIN_GET_INFO: ({ host }, { dom }) => {
    const i = host.getInfo(fromWire(dom));
    return { state: i.state, maxMem: i.maxMemKiB, memory: i.memoryKiB, nrVirtCpu: i.nrVirtCpu, cpuTime: i.cpuTimeNs };
  },
  DOMAIN_GET_MAX_MEMORY: ({ host }, { dom }) => ({ memory: host.getMaxMemory(fromWire(dom)) }),
  DOMAIN_GET_VCPUS_FLAGS: ({ host }, { dom, flags }) => ({ num: host.getVcpusFlags(fromWire(dom), flags) }),
  DOMAIN_GET_MAX_VCPUS: ({ host }, { dom }) => ({ num: host.getMaxVcpus(fromWire(dom)) }),
  DOMAIN_SET_MEMORY: ({ host }, { dom, memory }) => host.setMemory(fromWire(dom), memory),
  DOMAIN_SET_MAX_MEMORY: ({ host }, { dom, memory }) => host.setMaxMemory(fromWire(dom), memory),
  DOMAIN_SET_MEMORY_FLAGS: ({ host }, { dom, memory, flags }) => host.setMemoryFlags(fromWire(dom), memory, flags),
  DOMAIN_SET_VCPUS: ({ host }, { dom, nvcpus }) => host.setVcpus(fromWire(dom), nvcpus),
  DOMAIN_SET_VCPUS_FLAGS: ({ host }, { dom, nvcpus, flags }) => host.setVcpusFlags(fromWire(dom), nvcpus, flags),
  DOMAIN_IS_ACTIVE: ({ host }, { dom }) => ({ active: host.isActive(fromWire(dom)) ? 1 : 0 }),
  DOMAIN_IS_PERSISTENT: ({ host }, { dom }) => ({ persistent: host.isPersistent(fromWire(dom)) ? 1 : 0 }),
  DOMAIN_IS_UPDATED: ({ host }, { dom }) => ({ updated: host.isUpdated(fromWire(dom)) ? 1 : 0 }),
  DOMAIN_GET_AUTOSTART: ({ host }, { dom }) => ({ autostart: host.getAutostart(fromWire(dom)) ? 1 : 0 }),
  DOMAIN_GET_OS_TYPE: ({ host }, { dom }) => ({ type: host.getOSType(fromWire(dom)) }),
  DOMAIN_HAS_MANAGED_SAVE_IMAGE: ({ host }, { dom }) => ({ result: host.hasManagedSaveImage(fromWire(dom)) ? 1 : 0 }),
  DOMAIN_GET_SECURITY_LABEL: ({ host }, { dom }) => host.getSecurityLabel(fromWire(dom)),
  DOMAIN_GET_MESSAGES: ({ host }, { dom }) => ({ msgs: host.getMessages(fromWire(dom)) }),
  DOMAIN_SNAPSHOT_NUM: ({ host }, { dom }) => ({ num: host.snapshotNum(fromWire(dom)) }),
};
