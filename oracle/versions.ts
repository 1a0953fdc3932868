/**
 * The libvirt versions whose answers are recorded, each from real libvirt of a Debian release and
 * each held against the hardware profile that matches that stack exactly: 9.0 on this machine (and
 * identically in the bookworm container), 7.0 and 11.3 in their containers (containers/).
 */
import { join } from 'node:path';
import type { Distro } from '../containers/images.ts';
import { RECORDS_DIR } from './corpus.ts';

export interface RecordedVersion {
  /** The release whose libvirt, QEMU and python3-libvirt answered. */
  readonly distro: Distro;
  /** The SEV profile the oracle's patched QEMU capabilities report, and the fake is judged on. */
  readonly profile: string;
}

export const RECORDED_VERSIONS = {
  '7.0.0': { distro: 'bullseye', profile: 'milan-7003-bullseye' },
  '9.0.0': { distro: 'bookworm', profile: 'milan-7003-es8' },
  '11.3.0': { distro: 'trixie', profile: 'genoa-9004-trixie' },
} as const satisfies Record<string, RecordedVersion>;

export type RecordedLibvirt = keyof typeof RECORDED_VERSIONS;
export const isRecordedLibvirt = (v: string): v is RecordedLibvirt => Object.hasOwn(RECORDED_VERSIONS, v);

/** The recorded version a release's container runs. */
export function versionOfDistro(distro: Distro): RecordedLibvirt {
  const found = (Object.keys(RECORDED_VERSIONS) as RecordedLibvirt[]).find((v) => RECORDED_VERSIONS[v].distro === distro);
  if (!found) throw new Error(`oracle: no recorded libvirt version for ${distro}`);
  return found;
}

/** The golden test's floors for a version: 9.0's keep their first name, floors.json. */
export const floorsFile = (libvirt: RecordedLibvirt) => join(RECORDS_DIR, libvirt === '9.0.0' ? 'floors.json' : `floors-${libvirt}.json`);
