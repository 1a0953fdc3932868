/**
 * AMD Secure Processor firmware status codes (SEV API; virtee `SevError`, sev-tool for 0x00–0x17)
 * and the strings QEMU prints for them in `fw_error=%d '%s'` (QEMU `sev_fw_errlist`).
 *
 * Every firmware command in the model answers with one of these codes; a non-zero code travels as
 * a `SevFirmwareError` so callers (the KVM and QEMU models) can print it the way the real stack does.
 */

export interface FirmwareStatus {
  readonly code: number;
  readonly name: string;
  /** QEMU's text, or null where QEMU's table has no entry (QEMU then prints "unknown error"). */
  readonly qemu: string | null;
}

/** One row per code, in code order. QEMU's list stops at 0x18; later codes came with SEV-SNP. */
export const FIRMWARE_STATUSES = [
  { code: 0x00, name: 'SUCCESS', qemu: '' },
  { code: 0x01, name: 'INVALID_PLATFORM_STATE', qemu: 'Platform state is invalid' },
  { code: 0x02, name: 'INVALID_GUEST_STATE', qemu: 'Guest state is invalid' },
  { code: 0x03, name: 'INVALID_CONFIG', qemu: 'Platform configuration is invalid' },
  { code: 0x04, name: 'INVALID_LEN', qemu: 'Buffer too small' },
  { code: 0x05, name: 'ALREADY_OWNED', qemu: 'Platform is already owned' },
  { code: 0x06, name: 'INVALID_CERTIFICATE', qemu: 'Certificate is invalid' },
  { code: 0x07, name: 'POLICY_FAILURE', qemu: 'Policy is not allowed' },
  { code: 0x08, name: 'INACTIVE', qemu: 'Guest is not active' },
  { code: 0x09, name: 'INVALID_ADDRESS', qemu: 'Invalid address' },
  { code: 0x0a, name: 'BAD_SIGNATURE', qemu: 'Bad signature' },
  { code: 0x0b, name: 'BAD_MEASUREMENT', qemu: 'Bad measurement' },
  { code: 0x0c, name: 'ASID_OWNED', qemu: 'ASID is already owned' },
  { code: 0x0d, name: 'INVALID_ASID', qemu: 'Invalid ASID' },
  { code: 0x0e, name: 'WBINVD_REQUIRED', qemu: 'WBINVD is required' },
  { code: 0x0f, name: 'DFFLUSH_REQUIRED', qemu: 'DF_FLUSH is required' },
  { code: 0x10, name: 'INVALID_GUEST', qemu: 'Guest handle is invalid' },
  { code: 0x11, name: 'INVALID_COMMAND', qemu: 'Invalid command' },
  { code: 0x12, name: 'ACTIVE', qemu: 'Guest is active' },
  { code: 0x13, name: 'HWERROR_PLATFORM', qemu: 'Hardware error' },
  { code: 0x14, name: 'HWERROR_UNSAFE', qemu: 'Hardware unsafe' },
  { code: 0x15, name: 'UNSUPPORTED', qemu: 'Feature not supported' },
  { code: 0x16, name: 'INVALID_PARAM', qemu: 'Invalid parameter' },
  { code: 0x17, name: 'RESOURCE_LIMIT', qemu: 'Required firmware resource depleted' },
  { code: 0x18, name: 'SECURE_DATA_INVALID', qemu: 'Part-specific integrity check failure' },
  { code: 0x19, name: 'INVALID_PAGE_SIZE', qemu: null },
  { code: 0x1a, name: 'INVALID_PAGE_STATE', qemu: null },
  { code: 0x1b, name: 'INVALID_MDATA_ENTRY', qemu: null },
  { code: 0x1c, name: 'INVALID_PAGE_OWNER', qemu: null },
  { code: 0x1d, name: 'AEAD_OFLOW', qemu: null },
  { code: 0x1e, name: 'UNUSED_0x1E', qemu: null },
  { code: 0x1f, name: 'RB_MODE_EXITED', qemu: null },
  { code: 0x20, name: 'RMP_INIT_REQUIRED', qemu: null },
  { code: 0x21, name: 'BAD_SVN', qemu: null },
  { code: 0x22, name: 'BAD_VERSION', qemu: null },
  { code: 0x23, name: 'SHUTDOWN_REQUIRED', qemu: null },
  { code: 0x24, name: 'UPDATE_FAILED', qemu: null },
  { code: 0x25, name: 'RESTORE_REQUIRED', qemu: null },
  { code: 0x26, name: 'RMP_INIT_FAILED', qemu: null },
  { code: 0x27, name: 'INVALID_KEY', qemu: null },
] as const satisfies readonly FirmwareStatus[];

/** A status's name as the table spells it ("RESOURCE_LIMIT"). */
export type FirmwareStatusName = (typeof FIRMWARE_STATUSES)[number]['name'];

/**
 * Status codes by name, derived from the table (`SevStatus.POLICY_FAILURE`): the one place a
 * status is written is its row above.
 */
export const SevStatus = Object.fromEntries(FIRMWARE_STATUSES.map((s) => [s.name, s.code])) as {
  readonly [S in (typeof FIRMWARE_STATUSES)[number] as S['name']]: S['code'];
};
export type SevStatus = (typeof SevStatus)[keyof typeof SevStatus];

/** The code of a status named in the table; undefined for any other name. */
export function statusByName(name: string): number | undefined {
  return Object.hasOwn(SevStatus, name) ? SevStatus[name as FirmwareStatusName] : undefined;
}

/** Every status name, in code order (for schemas and usage texts). */
export const FIRMWARE_STATUS_NAMES = FIRMWARE_STATUSES.map((s) => s.name) as [FirmwareStatusName, ...FirmwareStatusName[]];

const BY_CODE = new Map<number, FirmwareStatus>(FIRMWARE_STATUSES.map((s) => [s.code, s]));

/** QEMU's `fw_error_to_str`: codes outside its table print as this. */
export const QEMU_UNKNOWN_FW_ERROR = 'unknown error';

export function qemuFwErrorString(code: number): string {
  return BY_CODE.get(code)?.qemu ?? QEMU_UNKNOWN_FW_ERROR;
}

/** The status's name ("POLICY_FAILURE"), or "UNKNOWN_0x%02X" for codes outside the table. */
export function statusName(code: number): string {
  return BY_CODE.get(code)?.name ?? `UNKNOWN_0x${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** A firmware command finished with a non-zero status. */
export class SevFirmwareError extends Error {
  readonly status: number;
  readonly statusName: string;
  /** The command that failed, e.g. "LAUNCH_START". */
  readonly command: string;

  constructor(command: string, status: number, detail?: string) {
    const name = statusName(status);
    const hex = `0x${status.toString(16).padStart(2, '0')}`;
    super(`${command} failed with firmware status ${hex} (${name})${detail ? `: ${detail}` : ''}`);
    this.name = 'SevFirmwareError';
    this.status = status;
    this.statusName = name;
    this.command = command;
  }
}
