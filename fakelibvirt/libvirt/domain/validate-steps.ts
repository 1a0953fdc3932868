/**
 * Stage 3 of a define, validate (virDomainDefValidate, then the QEMU driver's qemu_validate.c):
 * rules across parts, and against what the host's QEMU and libvirt support.
 */
import type { DraftStep } from './draft.ts';
import * as general from './general.ts';
import * as memory from './memory.ts';
import * as tunables from './tunables.ts';
import * as os from './os.ts';
import { validate as validateOs } from './os-validate.ts';
import * as features from './features.ts';
import * as implicitDevices from './implicit-devices.ts';
import * as qemuValidate from './qemu-validate.ts';
import { validateDevicesB } from './devices/kinds-b.ts';
import { validateDevicesC } from './devices/kinds-c.ts';

/** virDomainDefValidate: common rules, then the QEMU driver's (qemu_validate.c). */
export const VALIDATE_STEPS: readonly DraftStep[] = [
  general.validate,
  memory.validate,
  tunables.validate,
  validateOs,
  features.validate,
  // qemuValidateDomainDef's last rules (launch security) come before any device is validated.
  qemuValidate.validate,
  implicitDevices.validate,
  validateDevicesB,
  validateDevicesC,
];
