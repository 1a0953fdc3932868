/**
 * libvirt's error vocabulary: error numbers, error domains and message templates
 * (include/libvirt/virterror.h, util/virerror.c), and the typed error both the fake and the
 * client raise. A message is always the fully formatted text, prefix included, as it travels
 * on the wire and as virsh prints it after "error: ".
 */

/** virErrorNumber values used by the project. */
export const VirErrorNumber = {
  OK: 0,
  INTERNAL_ERROR: 1,
  NO_MEMORY: 2,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  XML_DETAIL: 35,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  NO_SECRET: 66,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_ABORTED: 78,
  MIGRATE_UNSAFE: 81,
  OPERATION_UNSUPPORTED: 84,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  XML_INVALID_SCHEMA: 92,
} as const;
export type VirErrorNumber = (typeof VirErrorNumber)[keyof typeof VirErrorNumber];

/** virErrorDomain values used by the project. */
export const VirErrorDomain = {
  NONE: 0,
  XML: 5,
  RPC: 7,
  QEMU: 10,
  TEST: 12,
  REMOTE: 13,
  DOMAIN: 20,
  NODEDEV: 22,
  SECRET: 30,
  CPU: 31,
  RESCTRL: 67,
  CAPABILITIES: 44,
} as const;
export type VirErrorDomain = (typeof VirErrorDomain)[keyof typeof VirErrorDomain];

export const VIR_ERR_LEVEL_ERROR = 2;

/** Message templates by error number; `%s` is the detail. Codes absent here use the bare detail. */
const TEMPLATES: Partial<Record<VirErrorNumber, string>> = {
  [VirErrorNumber.INTERNAL_ERROR]: 'internal error: %s',
  [VirErrorNumber.NO_SUPPORT]: 'this function is not supported by the connection driver: %s',
  [VirErrorNumber.INVALID_ARG]: 'invalid argument: %s',
  [VirErrorNumber.OPERATION_FAILED]: 'operation failed: %s',
  [VirErrorNumber.XML_ERROR]: 'XML error: %s',
  [VirErrorNumber.DOM_EXIST]: 'domain %s exists already',
  [VirErrorNumber.OPERATION_DENIED]: 'operation forbidden: %s',
  [VirErrorNumber.NO_DOMAIN]: 'Domain not found: %s',
  [VirErrorNumber.OPERATION_INVALID]: 'Requested operation is not valid: %s',
  [VirErrorNumber.NO_SECRET]: 'Secret not found: %s',
  [VirErrorNumber.CONFIG_UNSUPPORTED]: 'unsupported configuration: %s',
  [VirErrorNumber.OPERATION_UNSUPPORTED]: 'Operation not supported: %s',
  [VirErrorNumber.ARGUMENT_UNSUPPORTED]: 'argument unsupported: %s',
  [VirErrorNumber.RESOURCE_BUSY]: 'resource busy: %s',
  [VirErrorNumber.ACCESS_DENIED]: 'access denied: %s',
  [VirErrorNumber.XML_INVALID_SCHEMA]: 'XML document failed to validate against schema: %s',
};

export function formatVirMessage(code: VirErrorNumber, detail: string): string {
  const t = TEMPLATES[code];
  if (!t) return detail;
  // Concatenation, not replace(): a detail holding `$'` or `$&` stays as written, and a 4 MiB
  // detail is not copied.
  const at = t.indexOf('%s');
  return t.slice(0, at) + detail + t.slice(at + 2);
}

export interface LibvirtErrorFields {
  readonly code: number;
  readonly domain: number;
  readonly message: string;
  readonly level?: number;
  readonly str1?: string | null;
  readonly str2?: string | null;
  readonly str3?: string | null;
  readonly int1?: number;
  readonly int2?: number;
}

/** A libvirt error with its code, domain and fully formatted message. */
export class LibvirtError extends Error {
  readonly code: number;
  readonly domain: number;
  readonly level: number;
  readonly str1: string | null;
  readonly str2: string | null;
  readonly str3: string | null;
  readonly int1: number;
  readonly int2: number;

  constructor(f: LibvirtErrorFields) {
    super(f.message);
    this.name = 'LibvirtError';
    this.code = f.code;
    this.domain = f.domain;
    this.level = f.level ?? VIR_ERR_LEVEL_ERROR;
    this.str1 = f.str1 ?? null;
    this.str2 = f.str2 ?? null;
    this.str3 = f.str3 ?? null;
    this.int1 = f.int1 ?? -1;
    this.int2 = f.int2 ?? -1;
  }

  /** Builds the error from a code and its detail text, formatting the message as libvirt does. */
  static of(code: VirErrorNumber, domain: VirErrorDomain, detail: string): LibvirtError {
    const template = TEMPLATES[code];
    return new LibvirtError({
      code,
      domain,
      message: formatVirMessage(code, detail),
      str1: template ?? null,
      str2: detail,
    });
  }

  codeName(): string {
    return Object.entries(VirErrorNumber).find(([, v]) => v === this.code)?.[0] ?? String(this.code);
  }
}

export function isLibvirtError(e: unknown, code?: VirErrorNumber): e is LibvirtError {
  return e instanceof LibvirtError && (code === undefined || e.code === code);
}
