/**
 * Stage 1 of a define, parse (conf/domain_conf.c virDomainDefParseXML): each part of the document
 * read in libvirt's order, so the first error is the one libvirt reports. Steps fill the draft's
 * canonical parts from the input; none adds defaults or checks one part against another.
 */
import type { DraftStep } from './draft.ts';
import { deviceParseSteps } from './devices/index.ts';
import * as general from './general.ts';
import * as memory from './memory.ts';
import * as tunables from './tunables.ts';
import * as os from './os.ts';
import { parseIdmap, parseSysinfo } from './sysinfo.ts';
import * as features from './features.ts';
import * as lifecycle from './lifecycle.ts';
import * as security from './security.ts';
import * as launchSecurity from './launch-security.ts';

/** virDomainDefParseXML's order: IDs, security labels, memory, tunables, CPU, NUMA, … devices. */
export const PARSE_STEPS: readonly DraftStep[] = [
  general.parseIds,
  os.parseCaps,
  general.parseTitle,
  security.parseSeclabels,
  memory.parseMemory,
  tunables.parseTunables,
  tunables.parseCpu,
  tunables.parseNumatune,
  tunables.parseResource,
  features.parseFeatures,
  lifecycle.parseLifecycle,
  lifecycle.parsePerf,
  lifecycle.parseClock,
  os.parseBootOptions,
  ...deviceParseSteps(launchSecurity.parseLaunchSecurity),
  parseIdmap,
  parseSysinfo,
  security.parseKeywrap,
  general.parseMetadata,
  lifecycle.parsePm,
];
