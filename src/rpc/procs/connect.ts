/** Connection, authentication and host (node) procedures: libvirt.c and libvirt-host.c. */
import { array, charArray, fixedCharString, int, opaque, struct, uhyper, uint } from '../../xdr/index.ts';
import { Limits, OptStr, Str, TypedParamType } from '../remote-types.ts';
import { BEFORE_OPEN, call, inGroup, READ, untyped, VOID, write } from './define.ts';

const Flags = struct([['flags', uint]]);
const NodeStat = struct([['field', Str], ['value', uhyper]]);

export const ConnectProcs = inGroup('connect', {
  CONNECT_OPEN: call(1, struct([['name', OptStr], ['flags', uint]]), VOID, READ, BEFORE_OPEN),
  CONNECT_CLOSE: call(2, VOID, VOID, READ, BEFORE_OPEN),
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
  CONNECT_SUPPORTS_FEATURE: call(60, struct([['feature', int]]), struct([['supported', int]]), READ, BEFORE_OPEN),
  AUTH_LIST: call(66, VOID, struct([['types', array(int, Limits.AUTH_TYPE_LIST_MAX)]]), READ, BEFORE_OPEN),
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
  AUTH_POLKIT: call(70, VOID, struct([['complete', int]]), READ, BEFORE_OPEN),
  NODE_GET_CELLS_FREE_MEMORY: call(
    101,
    struct([['startCell', int], ['maxcells', int]]),
    struct([['cells', array(uhyper, Limits.NODE_MAX_CELLS)]]),
  ),
  NODE_GET_FREE_MEMORY: call(102, VOID, struct([['freeMem', uhyper]])),
  CONNECT_GET_URI: call(110, VOID, struct([['uri', Str]])),
  NODE_GET_SECURITY_MODEL: call(
    122,
    VOID,
    struct([['model', charArray(Limits.SECURITY_MODEL_MAX)], ['doi', charArray(Limits.SECURITY_DOI_MAX)]]),
  ),
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
  NODE_SUSPEND_FOR_DURATION: untyped(250, write('virNodeSuspendForDuration')),
  NODE_SET_MEMORY_PARAMETERS: untyped(288, write('virNodeSetMemoryParameters')),
  NODE_GET_MEMORY_PARAMETERS: untyped(289),
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
  NODE_GET_FREE_PAGES: untyped(340),
  CONNECT_GET_DOMAIN_CAPABILITIES: call(
    342,
    struct([['emulatorbin', OptStr], ['arch', OptStr], ['machine', OptStr], ['virttype', OptStr], ['flags', uint]]),
    struct([['capabilities', Str]]),
    write('virConnectGetDomainCapabilities'),
  ),
  NODE_ALLOC_PAGES: untyped(347, write('virNodeAllocPages')),
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
    write('virConnectCompareHypervisorCPU'),
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
    write('virConnectBaselineHypervisorCPU'),
  ),
  // nparams is uninitialised garbage from libvirt 9.0.0 clients; servers must ignore it.
  NODE_GET_SEV_INFO: call(
    395,
    struct([['nparams', int], ['flags', uint]]),
    struct([['params', array(TypedParamType, Limits.NODE_SEV_INFO_MAX)], ['nparams', int]]),
    write('virNodeGetSEVInfo'),
  ),
  CONNECT_SET_IDENTITY: untyped(419),
});
