/**
 * libvirt's public flag values (libvirt-domain.h) as data, for the client side (the reference
 * driver) and the fake daemon alike: one table, so the two can never disagree on a bit.
 */

/** Flags of the domain APIs the fake implements and the driver passes. */
export const DomainFlags = {
  START_PAUSED: 1,
  XML_SECURE: 1,
  XML_INACTIVE: 2,
  UNDEFINE_MANAGED_SAVE: 1,
  UNDEFINE_SNAPSHOTS_METADATA: 2,
  UNDEFINE_NVRAM: 4,
  UNDEFINE_KEEP_NVRAM: 8,
  LIST_ACTIVE: 1,
  LIST_INACTIVE: 2,
  LIST_PERSISTENT: 4,
  LIST_TRANSIENT: 8,
  /** virDomainMemoryModFlags / virDomainVcpuFlags (beside AFFECT_LIVE and AFFECT_CONFIG). */
  MEM_MAXIMUM: 4,
  VCPU_MAXIMUM: 4,
  VCPU_GUEST: 8,
  VCPU_HOTPLUGGABLE: 16,
  /** virDomainShutdownFlagValues / virDomainRebootFlagValues. */
  POWER_ACPI: 1,
  POWER_GUEST_AGENT: 2,
} as const;

/** virDomainDeviceModifyFlags. */
export const DeviceModifyFlags = { AFFECT_CURRENT: 0, AFFECT_LIVE: 1, AFFECT_CONFIG: 2 } as const;
