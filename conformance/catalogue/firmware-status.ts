/**
 * Firmware statuses a case may inject, by name: the names and codes are the fake host's one table
 * (`fakelibvirt/firmware/status.ts`), so a case can name any status the firmware knows.
 */
export type { FirmwareStatusName } from '../../fakelibvirt/firmware/status.ts';
export { FIRMWARE_STATUS_NAMES, SevStatus as FIRMWARE_STATUS_CODES } from '../../fakelibvirt/firmware/status.ts';
