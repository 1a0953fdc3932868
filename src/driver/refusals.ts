/**
 * Every reason the driver refuses a request or an operation, as data: a stable code callers match on,
 * the HTTP status a compute API would map it to, and what it means. `DriverRefusal` carries the code
 * and the exact user-facing text (nova's text where nova has one).
 */

export const REFUSALS = {
  INVALID_BOOLEAN: { http: 400, meaning: "a boolean-like flavor extra spec or image property has a value bool_from_string does not know ('tru')" },
  INVALID_REQUEST: { http: 400, meaning: 'the flavor, image or config does not have the expected shape (types, required fields)' },
  FLAVOR_IMAGE_CONFLICT: { http: 400, meaning: 'flavor and image set hw:mem_encryption (or the model) explicitly to different values' },
  UEFI_REQUIRED: { http: 400, meaning: "memory encryption requested but the image's hw_firmware_type is not 'uefi'" },
  Q35_REQUIRED: { http: 400, meaning: 'memory encryption requested but the machine type (from the image or the host default) is not q35' },
  UNKNOWN_MACHINE_TYPE: { http: 400, meaning: "the machine type is not one the host's QEMU offers for the architecture" },
  NO_SEV_DOMAIN_CAPS: { http: 400, meaning: 'the machine type is offered but libvirt has no domain capabilities with <sev> for it (non-canonical q35 version)' },
  IDE_NOT_SUPPORTED: { http: 400, meaning: 'a disk or CD-ROM bus of ide was requested; q35 has no IDE controller' },
  INVALID_MODEL: { http: 400, meaning: 'hw:mem_encryption_model / hw_mem_encryption_model is not a known model' },
  MODEL_NOT_IMPLEMENTED: { http: 400, meaning: 'the model is known (amd-sev-snp) but this driver does not build such guests yet' },
  UNSUPPORTED_DEVICE_MODEL: { http: 400, meaning: 'a bus or device model value the driver does not know (hw_disk_bus, hw_video_model, …)' },
  GUEST_OS_NOT_SEV_CAPABLE: { http: 400, meaning: 'the guest OS facts say the guest kernel cannot run encrypted (or lacks SEV-ES support for an ES request)' },
  NO_SEV_HOST: { http: 409, meaning: 'memory encryption requested but this host has no usable SEV (nova Zed would silently boot an unencrypted guest)' },
  SEV_ES_UNAVAILABLE: { http: 409, meaning: 'amd-sev-es requested but the host has no SEV-ES (kernel sev_es off, no ES ASIDs, old QEMU, or SNP enabled)' },
  NO_SLOTS: { http: 409, meaning: 'the host reports 0 encrypted-guest slots for the requested model' },
  NO_VALID_HOST: { http: 409, meaning: 'the scheduler found no host with the traits and free resources the request needs' },
  OPERATION_NOT_SUPPORTED_FOR_SEV: { http: 400, meaning: 'live migration, suspend/save or PCI passthrough of an SEV guest' },
  UNKNOWN_INSTANCE: { http: 404, meaning: 'the instance is not known to this driver or scheduler' },
  STATELESS_FIRMWARE_REQUIRED: { http: 400, meaning: 'amd-sev-snp requested without the image property hw_firmware_stateless=True' },
  NOT_IMPLEMENTED: { http: 501, meaning: 'the operation is outside this reference driver (live migration or PCI passthrough of plain guests)' },
} as const satisfies Record<string, { http: number; meaning: string }>;

export type RefusalCode = keyof typeof REFUSALS;

export class DriverRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'DriverRefusal';
  }
  get http(): number {
    return REFUSALS[this.code].http;
  }
}

export const refuse = (code: RefusalCode, message: string): never => {
  throw new DriverRefusal(code, message);
};
