/**
 * The daemon's processing limits, named and defaulted as libvirtd's (libvirtd.conf of Debian's
 * libvirt-daemon-system 9.0.0: `max_clients = 5000`, `max_queued_clients = 1000`,
 * `max_client_requests = 5`, `max_workers = 20`), plus the one bound libvirtd does not have and
 * the size from which a call leaves the main thread.
 */

export interface DaemonLimits {
  /** Concurrent client connections over all sockets; a client beyond it waits unserved until one leaves. */
  readonly maxClients: number;
  /** Clients that may wait for a free slot (libvirtd's listen backlog); beyond it a new client is closed at once. */
  readonly maxQueuedClients: number;
  /**
   * Calls per client whose replies have not yet left for the socket. At the limit the daemon stops
   * reading that client's socket until its replies drain (virNetServerClient's nrequests_max).
   */
  readonly maxClientRequests: number;
  /**
   * Unsent bytes queued for one client at which a new event closes that client instead of
   * queueing (libvirtd queues events without bound; a client that registered for events and never
   * reads would otherwise hold the daemon's memory hostage).
   */
  readonly maxPendingEventBytes: number;
  /**
   * libvirtd's max_workers: the fake's worker threads for large calls, shared by every daemon of
   * the process and never more than the machine's cores (offload/pool.ts).
   */
  readonly maxWorkers: number;
  /**
   * Calls of at least this many bytes (a multi-megabyte document, a 4 MiB name) are decoded and,
   * where they have a pure half, parsed on a worker thread, so other clients are not stalled.
   */
  readonly offloadBytes: number;
}

export const LIBVIRTD_DEFAULT_LIMITS: DaemonLimits = {
  maxClients: 5000,
  maxQueuedClients: 1000,
  maxClientRequests: 5,
  maxPendingEventBytes: 8 << 20,
  maxWorkers: 20,
  offloadBytes: 64 << 10,
};
