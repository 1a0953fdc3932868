/** A bare socket client for robustness tests: sends arbitrary bytes and collects decoded packets. */
import { connect as dial, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/rpc/frame-decoder.ts';
import type { Message } from '../../src/rpc/header.ts';

export class RawClient {
  readonly messages: Message[] = [];
  private readonly decoder = new FrameDecoder();
  private waiters: Array<() => void> = [];
  private ended = false;

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      try {
        this.messages.push(...this.decoder.push(d));
      } catch {
        // The fake never sends malformed frames; a decode failure would show up as a missing reply.
      }
      this.wake();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static open(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = dial(path);
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  send(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The reply with this serial, or null once the server has closed the connection. */
  async reply(serial: number): Promise<Message | null> {
    for (;;) {
      const m = this.messages.find((x) => x.header.serial === serial && x.header.type === 1);
      if (m) return m;
      if (this.ended) return null;
      await this.next();
    }
  }

  /** Resolves when the server closes the connection. */
  async closedByServer(): Promise<void> {
    while (!this.ended) await this.next();
  }

  destroy(): void {
    this.sock.destroy();
  }
}
