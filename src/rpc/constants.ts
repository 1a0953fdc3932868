/** Numbers fixed by libvirt's RPC protocol (virnetprotocol.x, virkeepaliveprotocol.x, remote_protocol.x). */

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_PROTOCOL_VERSION = 1;
export const KeepaliveProc = { PING: 1, PONG: 2 } as const;

export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

/** Length word (4) + header (24). */
export const HEADER_SIZE = 24;
export const LENGTH_SIZE = 4;
/** VIR_NET_MESSAGE_MAX: largest message, excluding the length word. */
export const MESSAGE_MAX = 33554432;
export const MESSAGE_INITIAL = 65536;

export const AuthType = { NONE: 0, SASL: 1, POLKIT: 2 } as const;

/** VIR_DRV_FEATURE_* numbers queried with CONNECT_SUPPORTS_FEATURE. */
export const DrvFeature = {
  MIGRATION_V1: 1,
  REMOTE: 2,
  MIGRATION_V2: 3,
  MIGRATION_P2P: 4,
  MIGRATION_DIRECT: 5,
  MIGRATION_V3: 6,
  MIGRATE_CHANGE_PROTECTION: 7,
  FD_PASSING: 8,
  TYPED_PARAM_STRING: 9,
  PROGRAM_KEEPALIVE: 10,
  XML_MIGRATABLE: 11,
  MIGRATION_OFFLINE: 12,
  MIGRATION_PARAMS: 13,
  REMOTE_EVENT_CALLBACK: 14,
  REMOTE_CLOSE_CALLBACK: 15,
  NETWORK_UPDATE_HAS_CORRECT_ORDER: 16,
} as const;
