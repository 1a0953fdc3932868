/**
 * A real libvirtd of one Debian release in a container, started with testcontainers: no network
 * at all (`--network none`), its UNIX socket directory bind-mounted from a fresh temporary
 * directory of this machine, so any client here connects with `qemu+unix:///system?socket=…`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerEnvironment, ensureImage, type Distro } from './images.ts';

/** Where the image's libvirtd.conf puts its sockets (containers/recipe/libvirtd.conf). */
const SOCKET_DIR_IN_CONTAINER = '/run/libvirt-socket';

export interface RealLibvirtOptions {
  /** Extra read-only bind mounts: host path → container path. */
  readonly mounts?: Readonly<Record<string, string>>;
  /** How long the daemon may take to print its READY line (ms). */
  readonly startupTimeoutMs?: number;
}

export interface RealLibvirt {
  readonly distro: Distro;
  readonly uri: string;
  readonly socket: string;
  /** The versions the running daemon reports (virsh version). */
  readonly libvirt: string;
  readonly qemu: string;
  readonly containerId: string;
  /** Runs a command in the container; its exit code and output. */
  exec(command: readonly string[]): Promise<{ exitCode: number; output: string }>;
  /** Stops and removes the container and the socket directory. */
  stop(): Promise<void>;
}

export async function startRealLibvirt(distro: Distro, options: RealLibvirtOptions = {}): Promise<RealLibvirt> {
  const image = ensureImage(distro);
  dockerEnvironment();
  // Loaded here, after the environment is set: testcontainers reads it when first used.
  const { GenericContainer, Wait } = await import('testcontainers');
  const socketDir = mkdtempSync(join(tmpdir(), `sevharness-libvirt-${distro}-`));
  const mounts = [
    { source: socketDir, target: SOCKET_DIR_IN_CONTAINER, mode: 'rw' as const },
    ...Object.entries(options.mounts ?? {}).map(([source, target]) => ({ source, target, mode: 'ro' as const })),
  ];
  let container;
  try {
    container = await new GenericContainer(image)
      .withNetworkMode('none')
      .withBindMounts(mounts)
      .withPullPolicy({ shouldPull: () => false })
      .withWaitStrategy(Wait.forLogMessage(/^READY /m))
      .withStartupTimeout(options.startupTimeoutMs ?? 60_000)
      .start();
  } catch (e) {
    rmSync(socketDir, { recursive: true, force: true });
    throw e;
  }
  const started = container;
  const ready = await started.exec(['cat', '/run/sevharness-ready']);
  const version = (name: string) => new RegExp(`${name}=([0-9.]+)`).exec(ready.output)?.[1] ?? 'unknown';
  const socket = join(socketDir, 'libvirt-sock');
  return {
    distro,
    uri: `qemu+unix:///system?socket=${socket}`,
    socket,
    libvirt: version('libvirt'),
    qemu: version('qemu'),
    containerId: started.getId(),
    exec: async (command) => {
      const r = await started.exec([...command]);
      return { exitCode: r.exitCode, output: r.output };
    },
    stop: async () => {
      try {
        await started.stop({ timeout: 5_000 });
      } finally {
        rmSync(socketDir, { recursive: true, force: true });
      }
    },
  };
}
