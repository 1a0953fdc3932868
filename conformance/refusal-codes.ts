/**
 * The stable refusal codes of the driver contract, as data. A driver refuses a request or an
 * operation with one of these codes; the conformance suite matches on the code, never on the text.
 * Each code says what it means, the HTTP status a compute API answers with, and what nova does in
 * the same situation (its exception and status), so a nova-backed adapter can translate.
 *
 * Codes are append-only: a released code never changes meaning and is never reused.
 *
 * The contract owns this table: contract.ts re-exports it, and code outside conformance/ (the
 * reference driver, a user's driver) imports the codes from the contract, never from here.
 */

export interface NovaEquivalent {
  /** The nova exception (or behaviour) for the same situation; null when nova has none. */
  readonly exception: string | null;
  /** The HTTP status nova's API answers with, when the refusal reaches the API. */
  readonly http: number | null;
  /** Where the behaviour is described. */
  readonly fact: string;
}

export interface RefusalCodeInfo {
  readonly http: number;
  readonly meaning: string;
  readonly nova: NovaEquivalent;
}

export const REFUSAL_CODES = {
  INVALID_BOOLEAN: {
    http: 400,
    meaning: "a boolean-like flavor extra spec or image property has a value that is not boolean-like ('tru')",
    nova: { exception: 'ValidationError (API schema, microversion ≥ 2.86)', http: 400, fact: 'nova-sev.md §2.3' },
  },
  INVALID_REQUEST: {
    http: 400,
    meaning: 'the flavor, image or config does not have the expected shape (types, required fields)',
    nova: { exception: 'ValidationError', http: 400, fact: 'nova-sev.md §2.3' },
  },
  FLAVOR_IMAGE_CONFLICT: {
    http: 400,
    meaning: 'flavor and image set hw:mem_encryption (or the model) explicitly to different values',
    nova: { exception: 'FlavorImageConflict', http: 400, fact: 'nova-sev.md §2.4 step 3' },
  },
  UEFI_REQUIRED: {
    http: 400,
    meaning: "memory encryption requested but the image's hw_firmware_type is not 'uefi'",
    nova: { exception: 'FlavorImageConflict', http: 400, fact: 'nova-sev.md §2.4 step 5' },
  },
  Q35_REQUIRED: {
    http: 400,
    meaning: 'memory encryption requested but the machine type (from the image or the host default) is not q35',
    nova: { exception: 'InvalidMachineType', http: 400, fact: 'nova-sev.md §2.4 step 6, §2.5' },
  },
  UNKNOWN_MACHINE_TYPE: {
    http: 400,
    meaning: "the machine type is not one the host's QEMU offers for the architecture",
    nova: { exception: 'InvalidMachineType (generic check)', http: null, fact: 'nova-sev.md §9 scenario 41' },
  },
  NO_SEV_DOMAIN_CAPS: {
    http: 400,
    meaning: 'the machine type is offered but libvirt has no domain capabilities with <sev> for it',
    nova: { exception: 'MissingDomainCapabilityFeatureException', http: null, fact: 'nova-sev.md §3.1' },
  },
  IDE_NOT_SUPPORTED: {
    http: 400,
    meaning: 'a disk or CD-ROM bus of ide was requested; q35 has no IDE controller',
    nova: { exception: null, http: null, fact: 'nova-sev.md §3.5' },
  },
  INVALID_MODEL: {
    http: 400,
    meaning: 'hw:mem_encryption_model / hw_mem_encryption_model is not a known model',
    nova: { exception: 'Invalid (master)', http: 400, fact: 'nova-sev.md §2.4 (M adds)' },
  },
  MODEL_NOT_IMPLEMENTED: {
    http: 400,
    meaning: 'the model is known (amd-sev-snp) but this driver does not build such guests',
    nova: { exception: null, http: null, fact: 'nova-sev.md §1.6' },
  },
  STATELESS_FIRMWARE_REQUIRED: {
    http: 400,
    meaning: 'amd-sev-snp requested but the image does not set hw_firmware_stateless=True',
    nova: { exception: 'StatelessFirmwareRequired (master)', http: 400, fact: 'nova-sev.md §2.4 (M adds)' },
  },
  UNSUPPORTED_DEVICE_MODEL: {
    http: 400,
    meaning: 'a bus or device model value the driver does not know (hw_disk_bus, hw_video_model, …)',
    nova: { exception: 'UnsupportedHardware / InvalidDiskBusModel', http: 400, fact: 'nova-sev.md §3.5' },
  },
  GUEST_OS_NOT_SEV_CAPABLE: {
    http: 400,
    meaning: 'the guest OS facts say the guest kernel cannot run encrypted (or lacks SEV-ES for an ES request)',
    nova: { exception: null, http: null, fact: 'sev-hardware.md' },
  },
  NO_SEV_HOST: {
    http: 409,
    meaning: 'memory encryption requested but this host has no usable SEV (nova Zed silently boots an unencrypted guest)',
    nova: { exception: null, http: null, fact: 'nova-sev.md §3.1 (sev_enabled False → plain guest)' },
  },
  SEV_ES_UNAVAILABLE: {
    http: 409,
    meaning: 'amd-sev-es requested but the host has no SEV-ES (kernel sev_es off, no ES ASIDs, old QEMU, or SNP on)',
    nova: { exception: 'NoValidHost (32.0.0+: no RP with HW_CPU_X86_AMD_SEV_ES)', http: null, fact: 'nova-sev.md §1.6' },
  },
  NO_SLOTS: {
    http: 409,
    meaning: 'the host reports 0 encrypted-guest slots (or all are in use) for the requested model',
    nova: { exception: 'NoValidHost', http: null, fact: 'nova-sev.md §1.5, §9 scenario 10' },
  },
  NO_VALID_HOST: {
    http: 409,
    meaning: 'the scheduler found no host with the traits and free resources the request needs',
    nova: { exception: 'NoValidHost ("No valid host was found. ")', http: null, fact: 'nova-sev.md §9 scenarios 30, 32' },
  },
  OPERATION_NOT_SUPPORTED_FOR_SEV: {
    http: 400,
    meaning: 'live migration, suspend/save or PCI passthrough of an SEV guest',
    nova: { exception: 'OperationNotSupportedForSEV', http: 400, fact: 'nova-sev.md §4' },
  },
  HOST_FAULT: {
    http: 500,
    meaning: 'the host failed underneath a valid request (firmware error on launch, QEMU exit, OOM kill) and the driver reported it',
    nova: { exception: 'libvirtError → instance ERROR / reschedule', http: null, fact: 'sev-hardware.md' },
  },
  UNKNOWN_INSTANCE: {
    http: 404,
    meaning: 'the instance is not known to this driver or scheduler',
    nova: { exception: 'InstanceNotFound', http: 404, fact: 'nova API' },
  },
  NOT_IMPLEMENTED: {
    http: 501,
    meaning: 'the driver does not implement this operation (it did not list it in hello.ops)',
    nova: { exception: 'NotImplementedError', http: null, fact: 'PROTOCOL.md' },
  },
} as const satisfies Record<string, RefusalCodeInfo>;

export type RefusalCode = keyof typeof REFUSAL_CODES;

export const REFUSAL_CODE_LIST = Object.keys(REFUSAL_CODES) as readonly RefusalCode[];

export function isRefusalCode(s: string): s is RefusalCode {
  return Object.hasOwn(REFUSAL_CODES, s);
}
