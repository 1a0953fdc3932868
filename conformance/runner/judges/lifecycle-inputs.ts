/**
 * What the runner hands a lifecycle operation beyond the instance: the state it must be in first,
 * whether it needs a destination host, and the new image or flavor. The catalogue names only the
 * operation and the outcome, so the inputs that make that outcome meaningful are kept here as data.
 */
import type { Flavor, Image, LifecycleOperation } from '../../contract.ts';
import { FLAG, STANDARD_FLAVOR, STANDARD_IMAGE } from '../../catalogue/requests.ts';

export interface LifecycleInputs {
  /** Operations that must succeed first (resume needs a paused guest, unshelve a shelved one). */
  readonly before?: readonly LifecycleOperation[];
  /** The operation moves the guest: a second host of the same profile is its destination. */
  readonly destination?: 'other-host' | 'same-host';
  readonly image?: (outcome: string) => Image;
  readonly flavor?: (encryptedAfter: boolean | undefined) => Flavor;
}

/** Another UEFI q35 image (an SEV-valid rebuild), or a BIOS one when the case expects UEFI_REQUIRED. */
function rebuildImage(outcome: string): Image {
  const base = { ...STANDARD_IMAGE, id: '0d4e8f6a-3b2c-4d1e-9f8a-7b6c5d4e3f2a', name: 'rebuild-image' };
  return outcome === 'UEFI_REQUIRED'
    ? { ...base, name: 'rebuild-bios-image', properties: { hw_firmware_type: 'bios', hw_machine_type: 'q35' } }
    : { ...base, properties: { ...STANDARD_IMAGE.properties } };
}

/** A bigger flavor, asking for SEV only when the guest should stay encrypted. */
function resizeFlavor(encryptedAfter: boolean | undefined): Flavor {
  return { ...STANDARD_FLAVOR, name: 'm1.medium', memoryMiB: 4096, extraSpecs: encryptedAfter ? { [FLAG]: 'true' } : {} };
}

export const LIFECYCLE_INPUTS: Readonly<Partial<Record<LifecycleOperation, LifecycleInputs>>> = {
  resume: { before: ['pause'] },
  unshelve: { before: ['shelve'], destination: 'same-host' },
  'live-migrate': { destination: 'other-host' },
  'cold-migrate': { destination: 'other-host' },
  rebuild: { image: rebuildImage },
  resize: { flavor: resizeFlavor },
};
