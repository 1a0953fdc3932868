/**
 * `<filesystem>`, `<hostdev>` and `<lease>`: their parsers by element name, and their validation in
 * virDomainDefValidate's order (each device's own rules, common then the QEMU driver's; then the
 * whole-definition rules of virDomainDefValidateInternal: duplicate host devices, virtiofs targets).
 */
import type { XmlNode } from '../../xml-tree.ts';
import type { DomainDraft, DraftStep } from '../draft.ts';
import { parseFilesystem, validateFilesystem, validateFilesystemSet } from './filesystem.ts';
import { parseHostdev, validateHostdev, validateHostdevSet } from './hostdev.ts';
import { parseLease } from './lease.ts';
import { validateAliases } from './device-info.ts';

export const DEVICE_C_PARSERS: Record<string, (input: XmlNode, draft: DomainDraft) => XmlNode> = {
  filesystem: parseFilesystem,
  hostdev: parseHostdev,
  lease: parseLease,
};

export const validateDevicesC: DraftStep = (d) => {
  for (const dev of d.devices) {
    if (dev.name === 'hostdev') validateHostdev(dev, d);
    else if (dev.name === 'filesystem') validateFilesystem(dev, d);
  }
  validateHostdevSet(d);
  // virDomainDefValidateInternal: duplicate drive addresses (with the disks), then unique aliases.
  validateAliases(d.devices);
  validateFilesystemSet(d);
};
