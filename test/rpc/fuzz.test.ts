/** Property tests: hostile input to the frame decoder and the XDR decoders fails only with typed errors. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeError } from '../../src/rpc/codec.ts';
import { RpcError } from '../../src/rpc/errors.ts';
import { FrameDecoder } from '../../src/rpc/frame-decoder.ts';
import { PROCEDURE_ROWS } from '../../src/rpc/procedures.ts';
import { decode, XdrError } from '../../src/xdr/index.ts';
import { loadTrace } from './trace-fixtures.ts';

function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof XdrError) && !(e instanceof RpcError)) throw e;
  }
}

const tracePayloads = loadTrace()
  .filter((r) => r.payload.length / 2 === r.plen && r.plen > 0)
  .map((r) => Buffer.from(r.payload, 'hex'));

describe('fuzz', () => {
  it('frame decoder: random chunks never throw anything but RpcError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const d = new FrameDecoder();
        for (const c of chunks) onlyTypedErrors(() => d.push(Buffer.from(c)));
      }),
      { numRuns: 500 },
    );
  });

  it('frame decoder: valid-looking length words with garbage headers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 200 }), (len, body) => {
        const head = Buffer.alloc(4);
        head.writeUInt32BE(len, 0);
        const d = new FrameDecoder();
        onlyTypedErrors(() => d.push(Buffer.concat([head, Buffer.from(body)])));
        // Nothing beyond the input is ever held.
        expect(d.pending).toBeLessThanOrEqual(4 + body.length);
      }),
      { numRuns: 500 },
    );
  });

  it('every procedure decoder survives random bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROCEDURE_ROWS), fc.uint8Array({ maxLength: 96 }), fc.boolean(), (row, bytes, useRet) => {
        onlyTypedErrors(() => decode(useRet ? row.ret : row.args, Buffer.from(bytes)));
      }),
      { numRuns: 3000 },
    );
  });

  it('every procedure decoder survives truncated and bit-flipped real payloads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROCEDURE_ROWS),
        fc.constantFrom(...tracePayloads),
        fc.nat(),
        fc.nat(),
        (row, payload, cut, flip) => {
          const b = Buffer.from(payload.subarray(0, cut % (payload.length + 1)));
          if (b.length > 0) b.writeUInt8(b.readUInt8(flip % b.length) ^ 0xff, flip % b.length);
          onlyTypedErrors(() => decode(row.args, b));
          onlyTypedErrors(() => decode(row.ret, b));
          onlyTypedErrors(() => decodeError(b));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
