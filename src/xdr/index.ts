/** The XDR codec: declarative types plus the reader, writer and error they share. */
export { XdrError } from './errors.ts';
export { XdrReader } from './reader.ts';
export { XdrWriter } from './writer.ts';
export * from './types.ts';
