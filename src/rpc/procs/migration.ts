/** Jobs and migration (version 3 with typed parameters, the protocol used by libvirt since 1.1). */
import { array, int, opaque, struct, uhyper, uint } from '../../xdr/index.ts';
import { Limits, NonnullDomain, OptStr, Str, TypedParamType } from '../remote-types.ts';
import { call, inGroup, untyped, VOID, write } from './define.ts';

const D = NonnullDomain;
const Params = array(TypedParamType, Limits.MIGRATE_PARAM_LIST_MAX);
const Cookie = opaque(Limits.MIGRATE_COOKIE_MAX);
const DomFlags = struct([['dom', D], ['flags', uint]]);

export const MigrationProcs = inGroup('domain', {
  DOMAIN_MIGRATE_PREPARE: untyped(61, write('virDomainMigratePrepare')),
  DOMAIN_MIGRATE_PERFORM: untyped(62, write('virDomainMigratePerform')),
  DOMAIN_MIGRATE_FINISH: untyped(63, write('virDomainMigrateFinish')),
  DOMAIN_MIGRATE_PREPARE2: untyped(108, write('virDomainMigratePrepare2')),
  DOMAIN_MIGRATE_FINISH2: untyped(109, write('virDomainMigrateFinish2')),
  DOMAIN_MIGRATE_PREPARE_TUNNEL: untyped(148, write('virDomainMigratePrepareTunnel')),
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
  DOMAIN_ABORT_JOB: call(164, struct([['dom', D]]), VOID, write('virDomainAbortJob')),
  DOMAIN_MIGRATE_SET_MAX_DOWNTIME: call(
    166,
    struct([['dom', D], ['downtime', uhyper], ['flags', uint]]),
    VOID,
    write('virDomainMigrateSetMaxDowntime'),
  ),
  DOMAIN_MIGRATE_SET_MAX_SPEED: call(
    207,
    struct([['dom', D], ['bandwidth', uhyper], ['flags', uint]]),
    VOID,
    write('virDomainMigrateSetMaxSpeed'),
  ),
  DOMAIN_MIGRATE_BEGIN3: untyped(213, write('virDomainMigrateBegin3')),
  DOMAIN_MIGRATE_PREPARE3: untyped(214, write('virDomainMigratePrepare3')),
  DOMAIN_MIGRATE_PREPARE_TUNNEL3: untyped(215, write('virDomainMigratePrepareTunnel3')),
  DOMAIN_MIGRATE_PERFORM3: untyped(216, write('virDomainMigratePerform3')),
  DOMAIN_MIGRATE_FINISH3: untyped(217, write('virDomainMigrateFinish3')),
  DOMAIN_MIGRATE_CONFIRM3: untyped(218, write('virDomainMigrateConfirm3')),
  DOMAIN_BLOCK_JOB_ABORT: untyped(237, write('virDomainBlockJobAbort')),
  DOMAIN_GET_BLOCK_JOB_INFO: untyped(238),
  DOMAIN_BLOCK_JOB_SET_SPEED: untyped(239, write('virDomainBlockJobSetSpeed')),
  DOMAIN_MIGRATE_GET_MAX_SPEED: call(
    242,
    DomFlags,
    struct([['bandwidth', uhyper]]),
    write('virDomainMigrateGetMaxSpeed'),
  ),
  DOMAIN_GET_JOB_STATS: call(
    298,
    DomFlags,
    struct([['type', int], ['params', array(TypedParamType, Limits.DOMAIN_JOB_STATS_MAX)]]),
  ),
  DOMAIN_MIGRATE_GET_COMPRESSION_CACHE: untyped(299),
  DOMAIN_MIGRATE_SET_COMPRESSION_CACHE: untyped(300, write('virDomainMigrateSetCompressionCache')),
  DOMAIN_MIGRATE_BEGIN3_PARAMS: call(
    302,
    struct([['dom', D], ['params', Params], ['flags', uint]]),
    struct([['cookie_out', Cookie], ['xml', Str]]),
    write('virDomainMigrateBegin3Params'),
  ),
  DOMAIN_MIGRATE_PREPARE3_PARAMS: call(
    303,
    struct([['params', Params], ['cookie_in', Cookie], ['flags', uint]]),
    struct([['cookie_out', Cookie], ['uri_out', OptStr]]),
    write('virDomainMigratePrepare3Params'),
  ),
  DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS: untyped(304, write('virDomainMigratePrepareTunnel3Params')),
  DOMAIN_MIGRATE_PERFORM3_PARAMS: call(
    305,
    struct([['dom', D], ['dconnuri', OptStr], ['params', Params], ['cookie_in', Cookie], ['flags', uint]]),
    struct([['cookie_out', Cookie]]),
    write('virDomainMigratePerform3Params'),
  ),
  DOMAIN_MIGRATE_FINISH3_PARAMS: call(
    306,
    struct([['params', Params], ['cookie_in', Cookie], ['flags', uint], ['cancelled', int]]),
    struct([['dom', D], ['cookie_out', Cookie]]),
    write('virDomainMigrateFinish3Params'),
  ),
  DOMAIN_MIGRATE_CONFIRM3_PARAMS: call(
    307,
    struct([['dom', D], ['params', Params], ['cookie_in', Cookie], ['flags', uint], ['cancelled', int]]),
    VOID,
    write('virDomainMigrateConfirm3Params'),
  ),
  DOMAIN_MIGRATE_START_POST_COPY: call(364, DomFlags, VOID, write('virDomainMigrateStartPostCopy')),
  DOMAIN_MIGRATE_GET_MAX_DOWNTIME: untyped(387),
  DOMAIN_ABORT_JOB_FLAGS: untyped(442, write('virDomainAbortJobFlags')),
});
