/** libvirt's domain states, reasons and lifecycle events (libvirt-domain.h), as data. */

export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;
export type DomainState = (typeof DomainState)[keyof typeof DomainState];

export const RunningReason = { UNKNOWN: 0, BOOTED: 1, MIGRATED: 2, RESTORED: 3, UNPAUSED: 5 } as const;
export const PausedReason = { UNKNOWN: 0, USER: 1, MIGRATION: 2, SAVE: 3, STARTING_UP: 11 } as const;
export const ShutoffReason = {
  UNKNOWN: 0,
  SHUTDOWN: 1,
  DESTROYED: 2,
  CRASHED: 3,
  MIGRATED: 4,
  SAVED: 5,
  FAILED: 6,
} as const;

export const LifecycleEvent = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;
export type LifecycleEvent = (typeof LifecycleEvent)[keyof typeof LifecycleEvent];

export const EventDetail = {
  DEFINED_ADDED: 0,
  DEFINED_UPDATED: 1,
  UNDEFINED_REMOVED: 0,
  STARTED_BOOTED: 0,
  STARTED_MIGRATED: 1,
  STARTED_RESTORED: 2,
  SUSPENDED_PAUSED: 0,
  RESUMED_UNPAUSED: 0,
  RESUMED_MIGRATED: 1,
  STOPPED_SHUTDOWN: 0,
  STOPPED_DESTROYED: 1,
  STOPPED_CRASHED: 2,
  STOPPED_MIGRATED: 3,
  STOPPED_SAVED: 4,
  STOPPED_FAILED: 5,
  SHUTDOWN_FINISHED: 0,
} as const;

/** State names as virsh prints them (`virsh domstate`, `dominfo`). */
export const STATE_NAMES: Record<DomainState, string> = {
  0: 'no state',
  1: 'running',
  2: 'idle',
  3: 'paused',
  4: 'in shutdown',
  5: 'shut off',
  6: 'crashed',
  7: 'pmsuspended',
};

