/**
 * Event registration calls and the event messages the server sends (type MESSAGE, serial 0).
 * The callback-style messages nest the legacy message after callbackID; flattening the fields
 * gives the same bytes, so they are described flat.
 */
import { array, int, struct } from '../../xdr/index.ts';
import { Limits, NonnullDomain, OptDomain, Str, TypedParamType } from '../remote-types.ts';
import { call, event, VOID } from './define.ts';

const D = NonnullDomain;

export const EventProcs = {
  DOMAIN_EVENT_LIFECYCLE: event(107, struct([['dom', D], ['event', int], ['detail', int]])),
  CONNECT_DOMAIN_EVENT_REGISTER_ANY: call(167, struct([['eventID', int]]), VOID),
  CONNECT_DOMAIN_EVENT_DEREGISTER_ANY: call(168, struct([['eventID', int]]), VOID),
  DOMAIN_EVENT_REBOOT: event(169, struct([['dom', D]])),
  DOMAIN_EVENT_DEVICE_REMOVED: event(311, struct([['dom', D], ['devAlias', Str]])),
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: call(
    316,
    struct([['eventID', int], ['dom', OptDomain]]),
    struct([['callbackID', int]]),
  ),
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: call(317, struct([['callbackID', int]]), VOID),
  DOMAIN_EVENT_CALLBACK_LIFECYCLE: event(
    318,
    struct([['callbackID', int], ['dom', D], ['event', int], ['detail', int]]),
  ),
  DOMAIN_EVENT_CALLBACK_REBOOT: event(319, struct([['callbackID', int], ['dom', D]])),
  DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED: event(333, struct([['callbackID', int], ['dom', D], ['devAlias', Str]])),
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
} as const;
