/**
 * The host's own record of what happened below libvirt: kernel messages (SEV pinning failures,
 * OOM kills), QEMU exits and firmware faults. Tests and the conformance suite read it to see why
 * a guest died, the way an operator reads dmesg and the QEMU log.
 */
export type HostEventSource = 'kernel' | 'qemu' | 'libvirt' | 'harness';

export interface HostEvent {
  readonly seq: number;
  readonly source: HostEventSource;
  readonly domain?: string;
  readonly message: string;
}

/** Events the log keeps: the most recent ones. */
export const HOST_EVENT_LOG_MAX = 10_000;

export class HostEventLog {
  private readonly events: HostEvent[] = [];
  private seq = 0;

  record(source: HostEventSource, message: string, domain?: string): HostEvent {
    const e: HostEvent = { seq: ++this.seq, source, message, ...(domain !== undefined && { domain }) };
    this.events.push(e);
    // Bounded, so a long-running daemon does not grow without limit; trimmed in batches (one
    // shift per HOST_EVENT_LOG_MAX records, not one per record once full) and on every read.
    if (this.events.length >= 2 * HOST_EVENT_LOG_MAX) this.trim();
    return e;
  }

  /** The most recent HOST_EVENT_LOG_MAX events, oldest first. */
  all(): readonly HostEvent[] {
    this.trim();
    return this.events;
  }

  since(seq: number): HostEvent[] {
    this.trim();
    return this.events.filter((e) => e.seq > seq);
  }

  private trim(): void {
    if (this.events.length > HOST_EVENT_LOG_MAX) this.events.splice(0, this.events.length - HOST_EVENT_LOG_MAX);
  }

  get lastSeq(): number {
    return this.seq;
  }
}

/** The timestamp QEMU's log lines carry (libvirt shows them in start errors). */
export function qemuLogTimestamp(d = new Date()): string {
  return `${d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')}`;
}
