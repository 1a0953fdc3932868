/** Connection, authentication, host (node), node-device, secret and CPU-model procedures. */
import { array, charArray, fixedCharString, int, opaque, struct, uhyper, uint } from '../../xdr/index.ts';
import { Limits, NonnullNodeDevice, NonnullSecret, OptStr, Str, TypedParamType, Uuid } from '../remote-types.ts';
import { call, VOID } from './define.ts';

const Flags = struct([['flags', uint]]);
const NodeStat = struct([['field', Str], ['value', uhyper]]);
const SecretArg = struct([['secret', NonnullSecret]]);
const SecretRet = struct([['secret', NonnullSecret]]);

export const ConnectProcs = {
  CONNECT_OPEN: call(1, struct([['name', OptStr], ['flags', uint]]), VOID),
  CONNECT_CLOSE: call(2, VOID, VOID),
  CONNECT_GET_TYPE: call(3, VOID, struct([['type', Str]])),
  CONNECT_GET_VERSION: call(4, VOID, struct([['hv_ver', uhyper]])),
  CONNECT_GET_MAX_VCPUS: call(5, struct([['type', OptStr]]), struct([['max_vcpus', int]])),
  NODE_GET_INFO: call(
    6,
    VOID,
    struct([
      ['model', fixedCharString(32)],
      ['memory', uhyper],
      ['cpus', int],
      ['mhz', int],
      ['nodes', int],
      ['sockets', int],
      ['cores', int],
      ['threads', int],
    ]),
  ),
  CONNECT_GET_CAPABILITIES: call(7, VOID, struct([['capabilities', Str]])),
  CONNECT_GET_HOSTNAME: call(59, VOID, struct([['hostname', Str]])),
  CONNECT_SUPPORTS_FEATURE: call(60, struct([['feature', int]]), struct([['supported', int]])),
  AUTH_LIST: call(66, VOID, struct([['types', array(int, Limits.AUTH_TYPE_LIST_MAX)]])),
  AUTH_SASL_INIT: call(67, VOID, struct([['mechlist', Str]])),
  AUTH_SASL_START: call(
    68,
    struct([['mech', Str], ['nil', int], ['data', charArray(65536)]]),
    struct([['complete', int], ['nil', int], ['data', charArray(65536)]]),
  ),
  AUTH_SASL_STEP: call(
    69,
    struct([['nil', int], ['data', charArray(65536)]]),
    struct([['complete', int], ['nil', int], ['data', charArray(65536)]]),
  ),
  AUTH_POLKIT: call(70, VOID, struct([['complete', int]])),
  NODE_GET_FREE_MEMORY: call(102, VOID, struct([['freeMem', uhyper]])),
  NODE_GET_CELLS_FREE_MEMORY: call(
    101,
    struct([['startCell', int], ['maxcells', int]]),
    struct([['cells', array(uhyper, Limits.NODE_MAX_CELLS)]]),
  ),
  CONNECT_GET_URI: call(110, VOID, struct([['uri', Str]])),
  NODE_NUM_OF_DEVICES: call(111, struct([['cap', OptStr], ['flags', uint]]), struct([['num', int]])),
  NODE_LIST_DEVICES: call(
    112,
    struct([['cap', OptStr], ['maxnames', int], ['flags', uint]]),
    struct([['names', array(Str, Limits.NODE_DEVICE_LIST_MAX)]]),
  ),
  NODE_DEVICE_LOOKUP_BY_NAME: call(113, struct([['name', Str]]), struct([['dev', NonnullNodeDevice]])),
  NODE_DEVICE_GET_XML_DESC: call(114, struct([['name', Str], ['flags', uint]]), struct([['xml', Str]])),
  NODE_GET_SECURITY_MODEL: call(
    122,
    VOID,
    struct([['model', charArray(Limits.SECURITY_MODEL_MAX)], ['doi', charArray(Limits.SECURITY_DOI_MAX)]]),
  ),
  CONNECT_NUM_OF_SECRETS: call(139, VOID, struct([['num', int]])),
  CONNECT_LIST_SECRETS: call(140, struct([['maxuuids', int]]), struct([['uuids', array(Str, Limits.SECRET_LIST_MAX)]])),
  SECRET_LOOKUP_BY_UUID: call(141, struct([['uuid', Uuid]]), SecretRet),
  SECRET_DEFINE_XML: call(142, struct([['xml', Str], ['flags', uint]]), SecretRet),
  SECRET_GET_XML_DESC: call(143, struct([['secret', NonnullSecret], ['flags', uint]]), struct([['xml', Str]])),
  SECRET_SET_VALUE: call(
    144,
    struct([['secret', NonnullSecret], ['value', opaque(Limits.SECRET_VALUE_MAX)], ['flags', uint]]),
    VOID,
  ),
  SECRET_GET_VALUE: call(
    145,
    struct([['secret', NonnullSecret], ['flags', uint]]),
    struct([['value', opaque(Limits.SECRET_VALUE_MAX)]]),
  ),
  SECRET_UNDEFINE: call(146, SecretArg, VOID),
  SECRET_LOOKUP_BY_USAGE: call(147, struct([['usageType', int], ['usageID', Str]]), SecretRet),
  CONNECT_IS_SECURE: call(149, VOID, struct([['secure', int]])),
  CONNECT_GET_LIB_VERSION: call(157, VOID, struct([['lib_ver', uhyper]])),
  CONNECT_COMPARE_CPU: call(158, struct([['xml', Str], ['flags', uint]]), struct([['result', int]])),
  CONNECT_BASELINE_CPU: call(
    162,
    struct([['xmlCPUs', array(Str, Limits.CPU_BASELINE_MAX)], ['flags', uint]]),
    struct([['cpu', Str]]),
  ),
  CONNECT_GET_SYSINFO: call(203, Flags, struct([['sysinfo', Str]])),
  NODE_GET_CPU_STATS: call(
    227,
    struct([['cpuNum', int], ['nparams', int], ['flags', uint]]),
    struct([['params', array(NodeStat, Limits.NODE_CPU_STATS_MAX)], ['nparams', int]]),
  ),
  NODE_GET_MEMORY_STATS: call(
    228,
    struct([['nparams', int], ['cellNum', int], ['flags', uint]]),
    struct([['params', array(NodeStat, Limits.NODE_MEMORY_STATS_MAX)], ['nparams', int]]),
  ),
  CONNECT_LIST_ALL_NODE_DEVICES: call(
    285,
    struct([['need_results', int], ['flags', uint]]),
    struct([['devices', array(NonnullNodeDevice, Limits.NODE_DEVICE_LIST_MAX)], ['ret', uint]]),
  ),
  CONNECT_LIST_ALL_SECRETS: call(
    287,
    struct([['need_results', int], ['flags', uint]]),
    struct([['secrets', array(NonnullSecret, Limits.SECRET_LIST_MAX)], ['ret', uint]]),
  ),
  NODE_GET_CPU_MAP: call(
    293,
    struct([['need_map', int], ['need_online', int], ['flags', uint]]),
    struct([['cpumap', opaque(Limits.CPUMAP_MAX)], ['online', uint], ['ret', int]]),
  ),
  CONNECT_GET_CPU_MODEL_NAMES: call(
    312,
    struct([['arch', Str], ['need_results', int], ['flags', uint]]),
    struct([['models', array(Str, Limits.CONNECT_CPU_MODELS_MAX)], ['ret', int]]),
  ),
  CONNECT_GET_DOMAIN_CAPABILITIES: call(
    342,
    struct([['emulatorbin', OptStr], ['arch', OptStr], ['machine', OptStr], ['virttype', OptStr], ['flags', uint]]),
    struct([['capabilities', Str]]),
  ),
  CONNECT_REGISTER_CLOSE_CALLBACK: call(360, VOID, VOID),
  CONNECT_UNREGISTER_CLOSE_CALLBACK: call(361, VOID, VOID),
  CONNECT_COMPARE_HYPERVISOR_CPU: call(
    393,
    struct([
      ['emulator', OptStr],
      ['arch', OptStr],
      ['machine', OptStr],
      ['virttype', OptStr],
      ['xmlCPU', Str],
      ['flags', uint],
    ]),
    struct([['result', int]]),
  ),
  CONNECT_BASELINE_HYPERVISOR_CPU: call(
    394,
    struct([
      ['emulator', OptStr],
      ['arch', OptStr],
      ['machine', OptStr],
      ['virttype', OptStr],
      ['xmlCPUs', array(Str, Limits.CPU_BASELINE_MAX)],
      ['flags', uint],
    ]),
    struct([['cpu', Str]]),
  ),
  // nparams is uninitialised garbage from libvirt 9.0.0 clients; servers must ignore it.
  NODE_GET_SEV_INFO: call(
    395,
    struct([['nparams', int], ['flags', uint]]),
    struct([['params', array(TypedParamType, Limits.NODE_SEV_INFO_MAX)], ['nparams', int]]),
  ),
} as const;
