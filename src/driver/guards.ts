/**
 * Which lifecycle operations an SEV guest may go through, as a table, and the guard that refuses the
 * forbidden ones before anything reaches libvirt. QEMU blocks migration of SEV guests (the memory is
 * encrypted with a key bound to this platform), and save/managedsave are migrations to a file; PCI
 * passthrough devices cannot DMA into encrypted memory.
 */
import { refuse } from './refusals.ts';

export const OPERATIONS = {
  'live-migration': 'refused',
  suspend: 'refused',
  save: 'refused',
  'managed-save': 'refused',
  'pci-passthrough': 'refused',
  pause: 'allowed',
  unpause: 'allowed',
  'hard-reboot': 'allowed',
  'soft-reboot': 'allowed',
  stop: 'allowed',
  start: 'allowed',
  'cold-migration': 'allowed',
  resize: 'allowed',
  shelve: 'allowed',
  unshelve: 'allowed',
  snapshot: 'allowed',
  rebuild: 'allowed',
  'attach-volume': 'allowed',
  'attach-interface': 'allowed',
} as const satisfies Record<string, 'allowed' | 'refused'>;

export type LifecycleOperation = keyof typeof OPERATIONS;

export const operationNotSupportedText = (operation: string, uuid: string) =>
  `Operation '${operation}' not supported for SEV-enabled instance (${uuid}).`;

/** Throws OPERATION_NOT_SUPPORTED_FOR_SEV for a refused operation on an encrypted instance. */
export function guardOperation(op: LifecycleOperation, instance: { readonly uuid: string; readonly encrypted: boolean }): void {
  if (instance.encrypted && OPERATIONS[op] === 'refused') refuse('OPERATION_NOT_SUPPORTED_FOR_SEV', operationNotSupportedText(op, instance.uuid));
}
