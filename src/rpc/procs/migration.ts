/** Jobs and migration (version 3 with typed parameters, the protocol used by libvirt since 1.1). */
import { array, int, opaque, struct, uhyper, uint } from '../../xdr/index.ts';
import { Limits, NonnullDomain, OptStr, Str, TypedParamType } from '../remote-types.ts';
import { call, VOID } from './define.ts';

const D = NonnullDomain;
const Params = array(TypedParamType, Limits.MIGRATE_PARAM_LIST_MAX);
const Cookie = opaque(Limits.MIGRATE_COOKIE_MAX);
const DomFlags = struct([['dom', D], ['flags', uint]]);

export const MigrationProcs = {
  DOMAIN_GET_JOB_INFO: call(
    163,
    struct([['dom', D]]),
    struct([
      ['type', int],
      ['timeElapsed', uhyper],
      ['timeRemaining', uhyper],
      ['dataTotal', uhyper],
      ['dataProcessed', uhyper],
      ['dataRemaining', uhyper],
      ['memTotal', uhyper],
      ['memProcessed', uhyper],
      ['memRemaining', uhyper],
      ['fileTotal', uhyper],
      ['fileProcessed', uhyper],
      ['fileRemaining', uhyper],
    ]),
  ),
  DOMAIN_ABORT_JOB: call(164, struct([['dom', D]]), VOID),
  DOMAIN_MIGRATE_SET_MAX_DOWNTIME: call(166, struct([['dom', D], ['downtime', uhyper], ['flags', uint]]), VOID),
  DOMAIN_MIGRATE_SET_MAX_SPEED: call(207, struct([['dom', D], ['bandwidth', uhyper], ['flags', uint]]), VOID),
  DOMAIN_MIGRATE_GET_MAX_SPEED: call(242, DomFlags, struct([['bandwidth', uhyper]])),
  DOMAIN_GET_JOB_STATS: call(
    298,
    DomFlags,
    struct([['type', int], ['params', array(TypedParamType, Limits.DOMAIN_JOB_STATS_MAX)]]),
  ),
  DOMAIN_MIGRATE_BEGIN3_PARAMS: call(
    302,
    struct([['dom', D], ['params', Params], ['flags', uint]]),
    struct([['cookie_out', Cookie], ['xml', Str]]),
  ),
  DOMAIN_MIGRATE_PREPARE3_PARAMS: call(
    303,
    struct([['params', Params], ['cookie_in', Cookie], ['flags', uint]]),
    struct([['cookie_out', Cookie], ['uri_out', OptStr]]),
  ),
  DOMAIN_MIGRATE_PERFORM3_PARAMS: call(
    305,
    struct([['dom', D], ['dconnuri', OptStr], ['params', Params], ['cookie_in', Cookie], ['flags', uint]]),
    struct([['cookie_out', Cookie]]),
  ),
  DOMAIN_MIGRATE_FINISH3_PARAMS: call(
    306,
    struct([['params', Params], ['cookie_in', Cookie], ['flags', uint], ['cancelled', int]]),
    struct([['dom', D], ['cookie_out', Cookie]]),
  ),
  DOMAIN_MIGRATE_CONFIRM3_PARAMS: call(
    307,
    struct([['dom', D], ['params', Params], ['cookie_in', Cookie], ['flags', uint], ['cancelled', int]]),
    VOID,
  ),
  DOMAIN_MIGRATE_START_POST_COPY: call(364, DomFlags, VOID),
} as const;
