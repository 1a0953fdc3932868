/**
 * The last N bytes of a stream (a driver's stderr), so a chatty driver cannot grow the runner's
 * memory while the end of its log is still there to explain a failure.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes ever pushed: a position in the stream, for `since`. */
  private pushed = 0;

  constructor(readonly limit: number) {}

  push(chunk: Buffer | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.pushed += b.length;
    if (b.length >= this.limit) {
      this.chunks = [b.subarray(b.length - this.limit)];
      this.size = this.limit;
      return;
    }
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.limit) {
      const first = this.chunks[0]!;
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** The stream position after everything pushed so far. */
  get position(): number {
    return this.pushed;
  }

  /**
   * What was pushed after stream position `pos` (as far as it is still kept; a cut is marked with
   * `…`), e.g. one case's share of a driver's stderr.
   */
  since(pos: number): string {
    const wanted = this.pushed - pos;
    if (wanted <= 0) return '';
    const all = Buffer.concat(this.chunks);
    if (wanted <= all.length) return all.subarray(all.length - wanted).toString('utf8');
    return `…${all.toString('utf8')}`;
  }

  /** The kept bytes as text; a character cut at the front shows as U+FFFD. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
