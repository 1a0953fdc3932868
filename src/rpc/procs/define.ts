/** Row constructors for the procedure table. */
import { xvoid, type XdrType } from '../../xdr/index.ts';

/**
 * One procedure of REMOTE_PROGRAM. For calls, `args` is the CALL payload and `ret` the OK REPLY
 * payload. For events (`kind: 'event'`), `args` is the MESSAGE payload and `ret` is void.
 */
export interface ProcDef<N extends number = number, A = unknown, R = unknown, K extends 'call' | 'event' = 'call' | 'event'> {
  readonly number: N;
  readonly kind: K;
  readonly args: XdrType<A>;
  readonly ret: XdrType<R>;
}

export function call<const N extends number, A, R>(number: N, args: XdrType<A>, ret: XdrType<R>): ProcDef<N, A, R, 'call'> {
  return { number, kind: 'call', args, ret };
}

export function event<const N extends number, M>(number: N, msg: XdrType<M>): ProcDef<N, M, void, 'event'> {
  return { number, kind: 'event', args: msg, ret: xvoid };
}

export const VOID = xvoid;
