/** Firmware status names a case may inject (the fake host's table, `fakelibvirt/firmware/status.ts`). */
export type FirmwareStatusName = 'RESOURCE_LIMIT' | 'HWERROR_PLATFORM' | 'INVALID_PLATFORM_STATE' | 'UNSUPPORTED';

export const FIRMWARE_STATUS_CODES: Record<FirmwareStatusName, number> = {
  INVALID_PLATFORM_STATE: 0x01,
  HWERROR_PLATFORM: 0x13,
  UNSUPPORTED: 0x15,
  RESOURCE_LIMIT: 0x17,
};
