/**
 * The SEV firmware's command ids (sev-tool, API 0.17) and its two state machines as data:
 * which platform state admits which platform command (sev-tool Ch. 5.1.2) and which guest state
 * admits which guest command (sev-tool Ch. 6.1.1). `SevFirmware` consults these tables before
 * running any command, so a refusal is one table row, not a branch in the code.
 */

export const COMMAND_IDS = {
  INIT: 0x1,
  SHUTDOWN: 0x2,
  PLATFORM_RESET: 0x3,
  PLATFORM_STATUS: 0x4,
  PEK_GEN: 0x5,
  PEK_CSR: 0x6,
  PEK_CERT_IMPORT: 0x7,
  PDH_CERT_EXPORT: 0x8,
  PDH_GEN: 0x9,
  DF_FLUSH: 0xa,
  DOWNLOAD_FIRMWARE: 0xb,
  GET_ID: 0xc,
  INIT_EX: 0xd,
  DECOMMISSION: 0x20,
  ACTIVATE: 0x21,
  DEACTIVATE: 0x22,
  GUEST_STATUS: 0x23,
  COPY: 0x24,
  ACTIVATE_EX: 0x25,
  LAUNCH_START: 0x30,
  LAUNCH_UPDATE_DATA: 0x31,
  LAUNCH_UPDATE_VMSA: 0x32,
  LAUNCH_MEASURE: 0x33,
  LAUNCH_SECRET: 0x34,
  LAUNCH_FINISH: 0x35,
  SEND_START: 0x40,
  SEND_UPDATE_DATA: 0x41,
  SEND_UPDATE_VMSA: 0x42,
  SEND_FINISH: 0x43,
  RECEIVE_START: 0x50,
  RECEIVE_UPDATE_DATA: 0x51,
  RECEIVE_UPDATE_VMSA: 0x52,
  RECEIVE_FINISH: 0x53,
  DBG_DECRYPT: 0x60,
  DBG_ENCRYPT: 0x61,
} as const;
export type FirmwareCommand = keyof typeof COMMAND_IDS;

/** PLATFORM_STATUS.state values. WORKING means at least one guest context exists. */
export const PLATFORM_STATES = ['UNINIT', 'INIT', 'WORKING'] as const;
export type PlatformState = (typeof PLATFORM_STATES)[number];

/** Platform commands each platform state admits; anything else is INVALID_PLATFORM_STATE. */
export const PLATFORM_ALLOWED: Readonly<Record<PlatformState, readonly FirmwareCommand[]>> = {
  UNINIT: ['INIT', 'PLATFORM_RESET', 'PLATFORM_STATUS', 'DOWNLOAD_FIRMWARE', 'GET_ID'],
  INIT: ['SHUTDOWN', 'PLATFORM_STATUS', 'PEK_GEN', 'PEK_CSR', 'PEK_CERT_IMPORT', 'PDH_GEN', 'PDH_CERT_EXPORT', 'DF_FLUSH', 'GET_ID'],
  // Re-keying the platform (PEK_*) would invalidate running guests' chains, so WORKING forbids it.
  WORKING: ['SHUTDOWN', 'PLATFORM_STATUS', 'PDH_GEN', 'PDH_CERT_EXPORT', 'DF_FLUSH', 'GET_ID'],
};

/** Guest commands need an initialised platform (INIT or WORKING) before the guest table applies. */
export const GUEST_COMMAND_PLATFORM_STATES: readonly PlatformState[] = ['INIT', 'WORKING'];

/** GUEST_STATUS.state values, numbered as the firmware reports them. */
export const GUEST_STATES = ['UNINIT', 'LUPDATE', 'LSECRET', 'RUNNING', 'SUPDATE', 'RUPDATE', 'SENT'] as const;
export type GuestState = (typeof GUEST_STATES)[number];

/** QEMU's QAPI `SevState` name for each guest state (query-sev's `state`); QEMU has no SENT. */
export const QEMU_SEV_STATE: Readonly<Partial<Record<GuestState, string>>> = {
  UNINIT: 'uninit',
  LUPDATE: 'launch-update',
  LSECRET: 'launch-secret',
  RUNNING: 'running',
  SUPDATE: 'send-update',
  RUPDATE: 'receive-update',
};

/** Commands every launched guest accepts, whatever its state. */
const COMMON: readonly FirmwareCommand[] = ['ACTIVATE', 'DEACTIVATE', 'DECOMMISSION', 'GUEST_STATUS'];
/** Debug access is a policy question (NODBG), not a state one, once the guest has a key. */
const DEBUG: readonly FirmwareCommand[] = ['DBG_DECRYPT', 'DBG_ENCRYPT'];

/** Guest commands each guest state admits; anything else is INVALID_GUEST_STATE. */
export const GUEST_ALLOWED: Readonly<Record<GuestState, readonly FirmwareCommand[]>> = {
  UNINIT: ['LAUNCH_START', 'RECEIVE_START'],
  LUPDATE: [...COMMON, ...DEBUG, 'LAUNCH_UPDATE_DATA', 'LAUNCH_UPDATE_VMSA', 'LAUNCH_MEASURE'],
  LSECRET: [...COMMON, ...DEBUG, 'LAUNCH_SECRET', 'LAUNCH_FINISH'],
  RUNNING: [...COMMON, ...DEBUG, 'SEND_START'],
  SUPDATE: [...COMMON, ...DEBUG, 'SEND_UPDATE_DATA', 'SEND_UPDATE_VMSA', 'SEND_FINISH'],
  RUPDATE: [...COMMON, ...DEBUG, 'RECEIVE_UPDATE_DATA', 'RECEIVE_UPDATE_VMSA', 'RECEIVE_FINISH'],
  SENT: [...COMMON],
};

/** Where a successful command moves the guest; commands absent here leave the state alone. */
export const GUEST_TRANSITIONS: Partial<Record<FirmwareCommand, GuestState>> = {
  LAUNCH_START: 'LUPDATE',
  LAUNCH_MEASURE: 'LSECRET',
  LAUNCH_FINISH: 'RUNNING',
  SEND_START: 'SUPDATE',
  SEND_FINISH: 'SENT',
  RECEIVE_START: 'RUPDATE',
  RECEIVE_FINISH: 'RUNNING',
};
