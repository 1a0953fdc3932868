/** The messages between the daemon's main thread and its offload workers. */
import type { HardwareProfile } from '../../profile/schema.ts';
import type { AccessView } from '../call-steps.ts';
import type { CallName } from '../../../src/rpc/procedures.ts';

export interface OffloadJob {
  readonly id: number;
  readonly proc: number;
  readonly serial: number;
  readonly name: CallName;
  /** The payload as received, in pieces. */
  readonly parts: readonly Uint8Array[];
  readonly conn: AccessView;
  /** The host's profile, sent once per worker; later jobs name it by id. */
  readonly profileId: number;
  readonly profile?: HardwareProfile;
  readonly sectypes: readonly string[];
  readonly longestName: number;
}

export type OffloadOutcome =
  /** The whole reply (null: it cannot be encoded, close the connection). */
  | { readonly id: number; readonly kind: 'reply'; readonly packet: Uint8Array | null }
  /** The pure half's result, for the stage's finish on the main thread. */
  | { readonly id: number; readonly kind: 'finish'; readonly value: unknown }
  /** Decoded and admitted arguments of a call with no pure half: the handler runs on the main thread. */
  | { readonly id: number; readonly kind: 'args'; readonly args: unknown };
