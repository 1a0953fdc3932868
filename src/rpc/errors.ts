/** Protocol-level failures (framing, unknown programs) and the wire form of libvirt errors (remote_error). */
import { LibvirtError, VirErrorDomain, VirErrorNumber, VIR_ERR_LEVEL_ERROR } from '../libvirt/errors.ts';
import { int, optional, string, struct, type Infer } from '../xdr/index.ts';
import { NonnullDomain, NonnullNetwork } from './remote-types.ts';

/** A framing or protocol violation by the peer. */
export class RpcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpcError';
  }
}

/** remote_error / virNetMessageError, field order as on the wire. */
export const RemoteError = struct(
  [
    ['code', int],
    ['domain', int],
    ['message', optional(string())],
    ['level', int],
    ['dom', optional(NonnullDomain)],
    ['str1', optional(string())],
    ['str2', optional(string())],
    ['str3', optional(string())],
    ['int1', int],
    ['int2', int],
    ['net', optional(NonnullNetwork)],
  ],
  'remote_error',
);
export type RemoteError = Infer<typeof RemoteError>;

/** Wire form of a LibvirtError, as libvirtd sends it. */
export function libvirtErrorToRemote(e: LibvirtError): RemoteError {
  return {
    code: e.code,
    domain: e.domain,
    message: e.message,
    level: e.level,
    dom: null,
    str1: e.str1,
    str2: e.str2,
    str3: e.str3,
    int1: e.int1,
    int2: e.int2,
    net: null,
  };
}

/** The error exactly as the server sent it. */
export function remoteToLibvirtError(r: RemoteError): LibvirtError {
  return new LibvirtError({
    code: r.code,
    domain: r.domain,
    message: r.message ?? 'unknown error',
    level: r.level,
    str1: r.str1,
    str2: r.str2,
    str3: r.str3,
    int1: r.int1,
    int2: r.int2,
  });
}

/**
 * The error as the C client raises it (virNetClientProgramDispatchError): an RPC-level
 * "unknown procedure" from domain RPC or REMOTE becomes VIR_ERR_NO_SUPPORT, keeping the message.
 */
export function clientSideError(r: RemoteError): LibvirtError {
  const e = remoteToLibvirtError(r);
  const fromRpc = r.domain === VirErrorDomain.RPC || r.domain === VirErrorDomain.REMOTE;
  if (fromRpc && r.code === VirErrorNumber.RPC && r.level === VIR_ERR_LEVEL_ERROR && r.message?.startsWith('unknown procedure')) {
    return new LibvirtError({ ...fieldsOf(e), code: VirErrorNumber.NO_SUPPORT });
  }
  return e;
}

function fieldsOf(e: LibvirtError) {
  return { code: e.code, domain: e.domain, message: e.message, level: e.level, str1: e.str1, str2: e.str2, str3: e.str3, int1: e.int1, int2: e.int2 };
}

/** The server's answer to a procedure it does not implement (virnetserverprogram.c). */
export function unknownProcedureError(proc: number): LibvirtError {
  return new LibvirtError({ code: VirErrorNumber.RPC, domain: VirErrorDomain.RPC, message: `unknown procedure: ${proc}` });
}
