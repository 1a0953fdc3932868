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

export class HostEventLog {
  private readonly events: HostEvent[] = [];
  private seq = 0;

  record(source: HostEventSource, message: string, domain?: string): HostEvent {
    const e: HostEvent = { seq: ++this.seq, source, message, ...(domain !== undefined && { domain }) };
    this.events.push(e);
    // Keep the log bounded: a long-running daemon must not grow without limit.
    if (this.events.length > 10_000) this.events.splice(0, this.events.length - 10_000);
    return e;
  }

  all(): readonly HostEvent[] {
    return this.events;
  }

  since(seq: number): HostEvent[] {
    return this.events.filter((e) => e.seq > seq);
  }

  get lastSeq(): number {
    return this.seq;
  }
}

/** The timestamp QEMU's log lines carry (libvirt shows them in start errors). */
export function qemuLogTimestamp(d = new Date()): string {
  return `${d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')}`;
}
