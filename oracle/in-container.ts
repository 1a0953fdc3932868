/**
 * The oracle run inside a real-libvirt container (containers/): that release's own libvirt, QEMU
 * and python3-libvirt answer, with this oracle/ directory mounted read-only. Each release is
 * patched to believe in the SEV of the profile that matches its stack.
 */
import { spawnSync } from 'node:child_process';
import { DISTROS, isDistro } from '../containers/images.ts';
import { startRealLibvirt, type RealLibvirt } from '../containers/real-libvirt.ts';
import { ORACLE_DIR } from './corpus.ts';
import type { RecordTarget } from './record-target.ts';
import { RECORDED_VERSIONS, versionOfDistro } from './versions.ts';

const ORACLE_DIR_IN_CONTAINER = '/oracle';


export interface RunningTarget {
  readonly target: RecordTarget;
  readonly libvirt: RealLibvirt;
  stop(): Promise<void>;
}

export async function containerTarget(distro: string, sevProfile?: string): Promise<RunningTarget> {
  if (!isDistro(distro)) throw new Error(`oracle: unknown release ${distro} (one of ${Object.keys(DISTROS).join(', ')})`);
  const libvirt = await startRealLibvirt(distro, { mounts: { [ORACLE_DIR]: ORACLE_DIR_IN_CONTAINER } });
  const container = { id: libvirt.containerId, oracleDir: ORACLE_DIR_IN_CONTAINER };
  const target: RecordTarget = {
    sevProfile: sevProfile ?? RECORDED_VERSIONS[versionOfDistro(distro)].profile,
    container,
    libvirt: libvirt.libvirt,
    packageVersion(name) {
      const r = spawnSync('docker', ['exec', container.id, 'dpkg-query', '-W', '-f', '${Version}', name], { encoding: 'utf8' });
      return r.status === 0 ? r.stdout.trim() : 'unknown';
    },
  };
  return { target, libvirt, stop: () => libvirt.stop() };
}
