/**
 * Domain event registration calls, and every event message the server sends (type MESSAGE,
 * serial 0), of every object; the other objects' registration calls sit in their own groups.
 * The callback-style messages nest the legacy message after callbackID; flattening the fields
 * gives the same bytes, so they are described flat.
 */
import { array, int, struct } from '../../xdr/index.ts';
import { Limits, NonnullDomain, OptDomain, Str, TypedParamType } from '../remote-types.ts';
import { call, event, inGroup, untyped, untypedEvent, VOID } from './define.ts';

const D = NonnullDomain;

export const EventProcs = {
  ...inGroup('domain', {
    CONNECT_DOMAIN_EVENT_REGISTER: untyped(105),
    CONNECT_DOMAIN_EVENT_DEREGISTER: untyped(106),
    CONNECT_DOMAIN_EVENT_REGISTER_ANY: call(167, struct([['eventID', int]]), VOID),
    CONNECT_DOMAIN_EVENT_DEREGISTER_ANY: call(168, struct([['eventID', int]]), VOID),
    CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: call(
      316,
      struct([['eventID', int], ['dom', OptDomain]]),
      struct([['callbackID', int]]),
    ),
    CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: call(317, struct([['callbackID', int]]), VOID),
  }),
  ...inGroup('event', {
    DOMAIN_EVENT_LIFECYCLE: event(107, struct([['dom', D], ['event', int], ['detail', int]])),
    DOMAIN_EVENT_REBOOT: event(169, struct([['dom', D]])),
    DOMAIN_EVENT_RTC_CHANGE: untypedEvent(170),
    DOMAIN_EVENT_WATCHDOG: untypedEvent(171),
    DOMAIN_EVENT_IO_ERROR: untypedEvent(172),
    DOMAIN_EVENT_GRAPHICS: untypedEvent(173),
    DOMAIN_EVENT_IO_ERROR_REASON: untypedEvent(195),
    DOMAIN_EVENT_CONTROL_ERROR: untypedEvent(224),
    DOMAIN_EVENT_BLOCK_JOB: untypedEvent(241),
    DOMAIN_EVENT_DISK_CHANGE: untypedEvent(248),
    DOMAIN_EVENT_TRAY_CHANGE: untypedEvent(268),
    DOMAIN_EVENT_PMWAKEUP: untypedEvent(269),
    DOMAIN_EVENT_PMSUSPEND: untypedEvent(270),
    DOMAIN_EVENT_BALLOON_CHANGE: untypedEvent(276),
    DOMAIN_EVENT_PMSUSPEND_DISK: untypedEvent(292),
    DOMAIN_EVENT_DEVICE_REMOVED: event(311, struct([['dom', D], ['devAlias', Str]])),
    NETWORK_EVENT_LIFECYCLE: untypedEvent(315),
    DOMAIN_EVENT_CALLBACK_LIFECYCLE: event(
      318,
      struct([['callbackID', int], ['dom', D], ['event', int], ['detail', int]]),
    ),
    DOMAIN_EVENT_CALLBACK_REBOOT: event(319, struct([['callbackID', int], ['dom', D]])),
    DOMAIN_EVENT_CALLBACK_RTC_CHANGE: untypedEvent(320),
    DOMAIN_EVENT_CALLBACK_WATCHDOG: untypedEvent(321),
    DOMAIN_EVENT_CALLBACK_IO_ERROR: untypedEvent(322),
    DOMAIN_EVENT_CALLBACK_GRAPHICS: untypedEvent(323),
    DOMAIN_EVENT_CALLBACK_IO_ERROR_REASON: untypedEvent(324),
    DOMAIN_EVENT_CALLBACK_CONTROL_ERROR: untypedEvent(325),
    DOMAIN_EVENT_CALLBACK_BLOCK_JOB: untypedEvent(326),
    DOMAIN_EVENT_CALLBACK_DISK_CHANGE: untypedEvent(327),
    DOMAIN_EVENT_CALLBACK_TRAY_CHANGE: untypedEvent(328),
    DOMAIN_EVENT_CALLBACK_PMWAKEUP: untypedEvent(329),
    DOMAIN_EVENT_CALLBACK_PMSUSPEND: untypedEvent(330),
    DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE: untypedEvent(331),
    DOMAIN_EVENT_CALLBACK_PMSUSPEND_DISK: untypedEvent(332),
    DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED: event(333, struct([['callbackID', int], ['dom', D], ['devAlias', Str]])),
    DOMAIN_EVENT_BLOCK_JOB_2: untypedEvent(339),
    DOMAIN_EVENT_CALLBACK_TUNABLE: untypedEvent(346),
    DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE: untypedEvent(348),
    DOMAIN_EVENT_CALLBACK_DEVICE_ADDED: event(354, struct([['callbackID', int], ['dom', D], ['devAlias', Str]])),
    DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION: event(
      359,
      struct([['callbackID', int], ['dom', D], ['iteration', int]]),
    ),
    CONNECT_EVENT_CONNECTION_CLOSED: event(362, struct([['reason', int]])),
    DOMAIN_EVENT_CALLBACK_JOB_COMPLETED: event(
      363,
      struct([['callbackID', int], ['dom', D], ['params', array(TypedParamType, Limits.DOMAIN_JOB_STATS_MAX)]]),
    ),
    DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED: event(
      367,
      struct([['callbackID', int], ['dom', D], ['devAlias', Str]]),
    ),
    STORAGE_POOL_EVENT_LIFECYCLE: untypedEvent(370),
    STORAGE_POOL_EVENT_REFRESH: untypedEvent(373),
    NODE_DEVICE_EVENT_LIFECYCLE: untypedEvent(376),
    NODE_DEVICE_EVENT_UPDATE: untypedEvent(377),
    DOMAIN_EVENT_CALLBACK_METADATA_CHANGE: untypedEvent(379),
    SECRET_EVENT_LIFECYCLE: untypedEvent(382),
    SECRET_EVENT_VALUE_CHANGED: untypedEvent(383),
    DOMAIN_EVENT_BLOCK_THRESHOLD: untypedEvent(385),
    DOMAIN_EVENT_MEMORY_FAILURE: untypedEvent(423),
    DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE: untypedEvent(438),
  }),
};
