/**
 * The suite's standard request and the overrides cases apply to it. The standard flavor asks for
 * nothing special; the standard image is a UEFI q35 image, so adding the flag makes a valid SEV request.
 */
import type { RequestGiven } from './types.ts';

export const STANDARD_FLAVOR = { name: 'm1.small', vcpus: 2, memoryMiB: 2048, diskGiB: 10, extraSpecs: {} } as const;
export const STANDARD_IMAGE = {
  id: '7b4c5d1e-2f3a-4b6c-8d9e-0a1b2c3d4e5f',
  name: 'cirros-uefi',
  properties: { hw_firmware_type: 'uefi', hw_machine_type: 'q35' },
  volumeBacked: false,
} as const;

export const FLAG = 'hw:mem_encryption';
export const IMAGE_FLAG = 'hw_mem_encryption';
export const MODEL_SPEC = 'hw:mem_encryption_model';
export const IMAGE_MODEL = 'hw_mem_encryption_model';

/** Flavor extra specs that ask for SEV, merged with `more`. */
export const sevFlavor = (more: Record<string, string> = {}): RequestGiven['flavor'] => ({ extraSpecs: { [FLAG]: 'true', ...more } });

/** The standard SEV request: flavor flag, standard image. */
export const SEV: RequestGiven = { flavor: sevFlavor() };
export const SEV_ES: RequestGiven = { flavor: sevFlavor({ [MODEL_SPEC]: 'amd-sev-es' }) };
export const PLAIN: RequestGiven = {};

/** The standard SEV request with image properties replaced by `properties` (undefined removes). */
export function sevWithImage(properties: Record<string, string | boolean>, more: Partial<RequestGiven> = {}): RequestGiven {
  return { flavor: sevFlavor(), ...more, image: { properties } };
}
