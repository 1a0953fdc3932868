/**
 * The firmware's command buffers as the model exposes them: what PLATFORM_STATUS, GUEST_STATUS,
 * LAUNCH_START and LAUNCH_MEASURE take and return, the per-command log, and the inspection
 * snapshot. Shapes only; `SevFirmware` fills them.
 */
import type { FirmwareCommand, GuestState, PlatformState } from './commands.ts';
import type { GuestSnapshot } from './guest-context.ts';

/** PLATFORM_STATUS.flags bit 8: the platform was initialised with SEV-ES support. */
export const PLATFORM_FLAG_CONFIG_ES = 1 << 8;
/** PLATFORM_STATUS.flags bit 0: the platform is externally owned (never, in this model). */
export const PLATFORM_FLAG_OWNED = 1 << 0;

export interface PlatformStatus {
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly build: number;
  readonly state: PlatformState;
  /** PLATFORM_STATUS.state as the firmware numbers it (0, 1, 2). */
  readonly stateCode: number;
  readonly flags: number;
  readonly guestCount: number;
}

export interface LaunchStartOptions {
  /** LAUNCH_START's handle field: share the key of this existing guest instead of making a new one. */
  readonly shareWith?: number;
  /** Transport keys given directly (tests that skip the session's key exchange). */
  readonly session?: { readonly tek: Buffer; readonly tik: Buffer };
  /**
   * The guest owner's DH certificate and session blob (`<dhCert>`, `<session>` decoded): the
   * firmware unwraps TEK/TIK with its PDH key and checks both MACs against the policy.
   */
  readonly ownerSession?: { readonly dhCert: Buffer; readonly session: Buffer };
}

export interface LaunchMeasureResult {
  /** MEASURE ‖ MNONCE, 48 bytes: what QEMU returns base64 from query-sev-launch-measure. */
  readonly measurement: Buffer;
  /** MEASURE alone, 32 bytes. */
  readonly measure: Buffer;
  readonly mnonce: Buffer;
}

export interface GuestStatus {
  readonly handle: number;
  readonly policy: number;
  /** 0 while the guest is not activated. */
  readonly asid: number;
  readonly state: GuestState;
}

export interface CommandLogEntry {
  readonly seq: number;
  readonly command: FirmwareCommand;
  readonly id: number;
  readonly handle: number | null;
  readonly status: number;
  readonly statusName: string;
  /** The status came from an override, not from the model's rules. */
  readonly injected: boolean;
}

export interface FirmwareSnapshot {
  readonly state: PlatformState;
  readonly api: string;
  readonly esInitialised: boolean;
  readonly snpInitialised: boolean;
  readonly guests: readonly GuestSnapshot[];
  /** ASIDs deactivated since the last DF_FLUSH; ACTIVATE refuses them until then. */
  readonly asidsAwaitingFlush: readonly number[];
  readonly dfFlushCount: number;
  readonly pendingOverrides: number;
}
