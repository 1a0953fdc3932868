/**
 * Stage 2 of a define, post-parse (virDomainDefPostParse with the QEMU driver's callbacks): the
 * machine and emulator, firmware autoselection (9.2+), defaults, implicit devices and addresses.
 */
import type { DraftStep } from './draft.ts';
import * as general from './general.ts';
import * as memory from './memory.ts';
import * as tunables from './tunables.ts';
import * as os from './os.ts';
import * as features from './features.ts';
import * as lifecycle from './lifecycle.ts';
import * as implicitDevices from './implicit-devices.ts';
import * as addresses from './addresses.ts';
import { postParseDevicesB } from './devices/kinds-b.ts';
import { selectFirmware } from './firmware-select.ts';

/** virDomainDefPostParse: the driver's basic callback, device defaults, implicit devices, addresses. */
export const POST_PARSE_STEPS: readonly DraftStep[] = [
  os.postParseMachine,
  // qemuDomainDefBootPostParse: firmware autoselection, at define from 9.2.
  selectFirmware,
  general.postParse,
  memory.postParse,
  tunables.postParse,
  os.postParse,
  features.postParse,
  lifecycle.postParse,
  // Video and chardev post-parse come before the implicit devices (console/serial pairing, video).
  postParseDevicesB,
  implicitDevices.postParse,
  addresses.assignAddresses,
];
