/** Domain procedures: listing, lookup, definition, lifecycle, information and SEV launch security. */
import { array, charArray, hyper, int, opaque, struct, uchar, uhyper, uint, ushort } from '../../xdr/index.ts';
import { Limits, NonnullDomain, NonnullDomainSnapshot, OptStr, Str, TypedParamType, Uuid } from '../remote-types.ts';
import { call, VOID } from './define.ts';

const D = NonnullDomain;
const Dom = struct([['dom', D]]);
const DomFlags = struct([['dom', D], ['flags', uint]]);
const DomXml = struct([['dom', D], ['xml', Str]]);
const DomXmlFlags = struct([['dom', D], ['xml', Str], ['flags', uint]]);
const RetDom = struct([['dom', D]]);
const RetNum = struct([['num', int]]);
const VcpuInfo = struct([['number', uint], ['state', int], ['cpu_time', uhyper], ['cpu', int]], 'remote_vcpu_info');
const MemoryStat = struct([['tag', int], ['val', uhyper]], 'remote_domain_memory_stat');
const Mountpoints = struct([['dom', D], ['mountpoints', array(Str, 256)], ['flags', uint]]);

export const DomainProcs = {
  DOMAIN_ATTACH_DEVICE: call(8, DomXml, VOID),
  DOMAIN_CREATE: call(9, Dom, VOID),
  DOMAIN_CREATE_XML: call(10, struct([['xml_desc', Str], ['flags', uint]]), RetDom),
  DOMAIN_DEFINE_XML: call(11, struct([['xml', Str]]), RetDom),
  DOMAIN_DESTROY: call(12, Dom, VOID),
  DOMAIN_DETACH_DEVICE: call(13, DomXml, VOID),
  DOMAIN_GET_XML_DESC: call(14, DomFlags, struct([['xml', Str]])),
  DOMAIN_GET_AUTOSTART: call(15, Dom, struct([['autostart', int]])),
  // state is an unsigned char and nrVirtCpu an unsigned short: 4 bytes each on the wire.
  DOMAIN_GET_INFO: call(
    16,
    Dom,
    struct([['state', uchar], ['maxMem', uhyper], ['memory', uhyper], ['nrVirtCpu', ushort], ['cpuTime', uhyper]]),
  ),
  DOMAIN_GET_MAX_MEMORY: call(17, Dom, struct([['memory', uhyper]])),
  DOMAIN_GET_MAX_VCPUS: call(18, Dom, RetNum),
  DOMAIN_GET_OS_TYPE: call(19, Dom, struct([['type', Str]])),
  DOMAIN_GET_VCPUS: call(
    20,
    struct([['dom', D], ['maxinfo', int], ['maplen', int]]),
    struct([['info', array(VcpuInfo, Limits.VCPUINFO_MAX)], ['cpumaps', opaque(Limits.CPUMAPS_MAX)]]),
  ),
  CONNECT_LIST_DEFINED_DOMAINS: call(
    21,
    struct([['maxnames', int]]),
    struct([['names', array(Str, Limits.DOMAIN_LIST_MAX)]]),
  ),
  DOMAIN_LOOKUP_BY_ID: call(22, struct([['id', int]]), RetDom),
  DOMAIN_LOOKUP_BY_NAME: call(23, struct([['name', Str]]), RetDom),
  DOMAIN_LOOKUP_BY_UUID: call(24, struct([['uuid', Uuid]]), RetDom),
  CONNECT_NUM_OF_DEFINED_DOMAINS: call(25, VOID, RetNum),
  DOMAIN_REBOOT: call(27, DomFlags, VOID),
  DOMAIN_RESUME: call(28, Dom, VOID),
  DOMAIN_SET_AUTOSTART: call(29, struct([['dom', D], ['autostart', int]]), VOID),
  DOMAIN_SET_MAX_MEMORY: call(30, struct([['dom', D], ['memory', uhyper]]), VOID),
  DOMAIN_SET_MEMORY: call(31, struct([['dom', D], ['memory', uhyper]]), VOID),
  DOMAIN_SET_VCPUS: call(32, struct([['dom', D], ['nvcpus', uint]]), VOID),
  DOMAIN_SHUTDOWN: call(33, Dom, VOID),
  DOMAIN_SUSPEND: call(34, Dom, VOID),
  DOMAIN_UNDEFINE: call(35, Dom, VOID),
  CONNECT_LIST_DOMAINS: call(37, struct([['maxids', int]]), struct([['ids', array(int, Limits.DOMAIN_LIST_MAX)]])),
  CONNECT_NUM_OF_DOMAINS: call(51, VOID, RetNum),
  DOMAIN_RESTORE: call(54, struct([['from', Str]]), VOID),
  DOMAIN_SAVE: call(55, struct([['dom', D], ['to', Str]]), VOID),
  DOMAIN_BLOCK_STATS: call(
    64,
    struct([['dom', D], ['path', Str]]),
    struct([['rd_req', hyper], ['rd_bytes', hyper], ['wr_req', hyper], ['wr_bytes', hyper], ['errs', hyper]]),
  ),
  DOMAIN_INTERFACE_STATS: call(
    65,
    struct([['dom', D], ['path', Str]]),
    struct([
      ['rx_bytes', hyper],
      ['rx_packets', hyper],
      ['rx_errs', hyper],
      ['rx_drop', hyper],
      ['tx_bytes', hyper],
      ['tx_packets', hyper],
      ['tx_errs', hyper],
      ['tx_drop', hyper],
    ]),
  ),
  DOMAIN_GET_SECURITY_LABEL: call(
    121,
    Dom,
    struct([['label', charArray(Limits.SECURITY_LABEL_MAX)], ['enforcing', int]]),
  ),
  DOMAIN_IS_ACTIVE: call(150, Dom, struct([['active', int]])),
  DOMAIN_IS_PERSISTENT: call(151, Dom, struct([['persistent', int]])),
  DOMAIN_MEMORY_STATS: call(
    159,
    struct([['dom', D], ['maxStats', uint], ['flags', uint]]),
    struct([['stats', array(MemoryStat, Limits.DOMAIN_MEMORY_STATS_MAX)]]),
  ),
  DOMAIN_ATTACH_DEVICE_FLAGS: call(160, DomXmlFlags, VOID),
  DOMAIN_DETACH_DEVICE_FLAGS: call(161, DomXmlFlags, VOID),
  DOMAIN_UPDATE_DEVICE_FLAGS: call(174, DomXmlFlags, VOID),
  DOMAIN_MANAGED_SAVE: call(182, DomFlags, VOID),
  DOMAIN_HAS_MANAGED_SAVE_IMAGE: call(183, DomFlags, struct([['result', int]])),
  DOMAIN_MANAGED_SAVE_REMOVE: call(184, DomFlags, VOID),
  DOMAIN_SNAPSHOT_CREATE_XML: call(
    185,
    struct([['dom', D], ['xml_desc', Str], ['flags', uint]]),
    struct([['snap', NonnullDomainSnapshot]]),
  ),
  DOMAIN_SNAPSHOT_NUM: call(187, DomFlags, RetNum),
  DOMAIN_CREATE_WITH_FLAGS: call(196, DomFlags, RetDom),
  DOMAIN_SET_VCPUS_FLAGS: call(199, struct([['dom', D], ['nvcpus', uint], ['flags', uint]]), VOID),
  DOMAIN_GET_VCPUS_FLAGS: call(200, DomFlags, RetNum),
  DOMAIN_IS_UPDATED: call(202, Dom, struct([['updated', int]])),
  DOMAIN_SET_MEMORY_FLAGS: call(204, struct([['dom', D], ['memory', uhyper], ['flags', uint]]), VOID),
  DOMAIN_INJECT_NMI: call(210, DomFlags, VOID),
  DOMAIN_GET_STATE: call(212, DomFlags, struct([['state', int], ['reason', int]])),
  DOMAIN_UNDEFINE_FLAGS: call(231, DomFlags, VOID),
  DOMAIN_SAVE_FLAGS: call(232, struct([['dom', D], ['to', Str], ['dxml', OptStr], ['flags', uint]]), VOID),
  DOMAIN_RESTORE_FLAGS: call(233, struct([['from', Str], ['dxml', OptStr], ['flags', uint]]), VOID),
  DOMAIN_DESTROY_FLAGS: call(234, DomFlags, VOID),
  DOMAIN_BLOCK_STATS_FLAGS: call(
    243,
    struct([['dom', D], ['path', Str], ['nparams', int], ['flags', uint]]),
    struct([['params', array(TypedParamType, Limits.DOMAIN_BLOCK_STATS_PARAMETERS_MAX)], ['nparams', int]]),
  ),
  DOMAIN_RESET: call(245, DomFlags, VOID),
  DOMAIN_SHUTDOWN_FLAGS: call(258, DomFlags, VOID),
  DOMAIN_SET_METADATA: call(
    264,
    struct([['dom', D], ['type', int], ['metadata', OptStr], ['key', OptStr], ['uri', OptStr], ['flags', uint]]),
    VOID,
  ),
  DOMAIN_GET_METADATA: call(
    265,
    struct([['dom', D], ['type', int], ['uri', OptStr], ['flags', uint]]),
    struct([['metadata', Str]]),
  ),
  CONNECT_LIST_ALL_DOMAINS: call(
    273,
    struct([['need_results', int], ['flags', uint]]),
    struct([['domains', array(D, Limits.DOMAIN_LIST_MAX)], ['ret', uint]]),
  ),
  DOMAIN_GET_HOSTNAME: call(277, DomFlags, struct([['hostname', Str]])),
  DOMAIN_FSFREEZE: call(335, Mountpoints, struct([['filesystems', int]])),
  DOMAIN_FSTHAW: call(336, Mountpoints, struct([['filesystems', int]])),
  DOMAIN_GET_TIME: call(337, DomFlags, struct([['seconds', hyper], ['nseconds', uint]])),
  DOMAIN_SET_TIME: call(338, struct([['dom', D], ['seconds', hyper], ['nseconds', uint], ['flags', uint]]), VOID),
  DOMAIN_DEFINE_XML_FLAGS: call(350, struct([['xml', Str], ['flags', uint]]), RetDom),
  DOMAIN_SET_USER_PASSWORD: call(
    357,
    struct([['dom', D], ['user', OptStr], ['password', OptStr], ['flags', uint]]),
    VOID,
  ),
  DOMAIN_GET_LAUNCH_SECURITY_INFO: call(
    396,
    DomFlags,
    struct([['params', array(TypedParamType, Limits.LAUNCH_SECURITY_INFO_PARAMS_MAX)]]),
  ),
  DOMAIN_GET_MESSAGES: call(426, DomFlags, struct([['msgs', array(Str, Limits.DOMAIN_MESSAGES_MAX)]])),
  DOMAIN_SET_LAUNCH_SECURITY_STATE: call(
    439,
    struct([['dom', D], ['params', array(TypedParamType, Limits.LAUNCH_SECURITY_STATE_PARAMS_MAX)], ['flags', uint]]),
    VOID,
  ),
} as const;
