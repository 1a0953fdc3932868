/** The one error type the XDR layer throws: malformed, truncated or out-of-bounds data. */
export class XdrError extends Error {
  /** Byte offset in the input where decoding failed (-1 when encoding). */
  readonly offset: number;

  constructor(message: string, offset = -1) {
    super(offset >= 0 ? `${message} (at byte ${offset})` : message);
    this.name = 'XdrError';
    this.offset = offset;
  }
}
