/**
 * The fake target: every case gets a new FakeHost behind a new FakeLibvirtd socket, so no state
 * leaks between cases (a host and a daemon cost well under a millisecond). Sysroot trees are
 * written once per distinct content (a profile and its kernel state) and shared read-only by
 * every host that shows that content: the pristine tree, and each tree a fault's changed kernel
 * parameters or /dev/sev lead to; their firmware images are hard links to one copy per path.
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { changesSysroot } from '../../fakelibvirt/control/fault.ts';
import { FakeLibvirtd } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost, type HostSnapshot } from '../../fakelibvirt/host/fake-host.ts';
import { generatedProfile, isGeneratedName } from '../../fakelibvirt/profile/generate.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import type { KernelSevState } from '../../fakelibvirt/profile/derive.ts';
import type { HardwareProfile } from '../../fakelibvirt/profile/schema.ts';
import { materializeSysroot } from '../../fakelibvirt/views/sysroot.ts';
import { firmwareImagePaths } from '../../fakelibvirt/views/sysroot-firmware.ts';
import type { HostAction } from '../catalogue/types.ts';
import { profileTruth, type ProfileTruth } from '../truth.ts';
import { RunnerUsageError } from './outcomes.ts';
import type { Target, TargetHost } from './target.ts';

export class FakeTarget implements Target {
  readonly description = 'fake';
  /**
   * Sysroot trees, firmware images and every case's daemon socket, on a memory file system where
   * there is one: removing the run's trees from a disk waits on its journal (≈ 2 s at the end of a
   * run, measured), and binding a socket in memory costs a fraction of a disk's inode.
   */
  private readonly dir = ownDir();
  private readonly profiles = new Map<string, { profile: HardwareProfile; truth: ProfileTruth; sysroot: string | null }>();
  /** Written trees by content; removed with the target's directory. */
  private readonly sysroots = new Map<string, string>();
  /** Each firmware image written once, at its path under here; the trees hold hard links to it. */
  private readonly images = join(this.dir, 'images');
  private serial = 0;

  profileNames(): readonly string[] {
    return [...allProfiles().keys()];
  }

  private entry(name: string) {
    let e = this.profiles.get(name);
    if (!e) {
      if (!name.endsWith('.json') && !allProfiles().has(name) && !isGeneratedName(name)) {
        throw new RunnerUsageError(`unknown profile '${name}' (known: ${[...allProfiles().keys()].join(', ')})`);
      }
      const profile = generatedProfile(name) ?? loadProfile(name);
      e = { profile, truth: profileTruth(profile), sysroot: null };
      this.profiles.set(name, e);
    }
    return e;
  }

  truth(profile: string): ProfileTruth {
    return this.entry(profile).truth;
  }

  /** The tree of a host showing `profile` with `kernel`, written the first time that content is asked for. */
  private sysrootOf(profile: HardwareProfile, kernel: KernelSevState): string {
    // The tree is a function of these two plain records (views/sysroot.ts), so their text names it.
    const key = createHash('sha1').update(JSON.stringify([profile, kernel])).digest('hex');
    let root = this.sysroots.get(key);
    if (root === undefined) {
      root = join(this.dir, `root-${this.serial++}`);
      // An image's bytes depend on its path alone: every tree links the ones already written.
      // The run's own directory: nobody else writes in it, so the tree goes in without guards.
      materializeSysroot(profile, kernel, root, { firmwareFrom: this.images, fresh: true });
      for (const path of firmwareImagePaths(profile)) {
        const rel = path.replace(/^\/+/, '');
        const kept = join(this.images, rel);
        if (existsSync(kept)) continue;
        mkdirSync(dirname(kept), { recursive: true });
        linkSync(join(root, rel), kept);
      }
      this.sysroots.set(key, root);
    }
    return root;
  }

  /** The profile's pristine sysroot, written on first use. */
  private pristineSysroot(name: string): string {
    const e = this.entry(name);
    if (e.sysroot === null) e.sysroot = this.sysrootOf(e.profile, new FakeHost(e.profile).kernel);
    return e.sysroot;
  }

  async open(name: string): Promise<TargetHost> {
    const { profile, truth } = this.entry(name);
    const host = new FakeHost(profile);
    // The driver under test dials the socket path; one of this process gets the same bytes in memory.
    const daemon = new FakeLibvirtd(host, { socketPath: join(this.dir, `s${this.serial++}.sock`), inProcessClients: true });
    await daemon.listen();
    const pristine = this.pristineSysroot(name);
    return new FakeTargetHost(name, host, daemon, truth, pristine, (h) => this.sysrootOf(h.profile, h.kernel));
  }

  async close(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    openDirs.delete(this.dir);
  }
}

/** Targets' directories not yet closed, removed when the process exits (an interrupted run: they hold megabytes of memory). */
const openDirs = new Set<string>();
let exitHook = false;

function ownDir(): string {
  // The process id in the name: the main thread's exit also removes its worker threads' directories.
  const prefix = `sevharness-conf-${process.pid}-`;
  const dir = memoryDir(prefix) ?? mkdtempSync(join(tmpdir(), prefix));
  if (!exitHook && isMainThread) {
    exitHook = true;
    process.once('exit', () => removeLeftovers(prefix));
  }
  openDirs.add(dir);
  return dir;
}

function removeLeftovers(prefix: string): void {
  for (const base of new Set([process.env.XDG_RUNTIME_DIR, '/dev/shm', tmpdir()])) {
    if (!base) continue;
    try {
      for (const name of readdirSync(base)) if (name.startsWith(prefix)) rmSync(join(base, name), { recursive: true, force: true });
    } catch {
      // not there, or not ours to read
    }
  }
}

/**
 * A private directory on a memory file system (the user's runtime directory, else /dev/shm), or
 * null where there is none to write.
 */
function memoryDir(prefix: string): string | null {
  for (const base of [process.env.XDG_RUNTIME_DIR, '/dev/shm']) {
    if (!base) continue;
    try {
      return mkdtempSync(join(base, prefix));
    } catch {
      // not there, or not ours to write: the next one, else the target's own directory
    }
  }
  return null;
}

class FakeTargetHost implements TargetHost {
  private faultRoot: string | null = null;

  constructor(
    /** The profile reference the host was opened by (a bundled name, a .json path, a generated name). */
    readonly name: string,
    readonly host: FakeHost,
    private readonly daemon: FakeLibvirtd,
    readonly truth: ProfileTruth,
    private readonly sharedRoot: string,
    private readonly rootOf: (host: FakeHost) => string,
  ) {}

  get uri(): string {
    return this.daemon.uri;
  }

  get sysroot(): string {
    return this.faultRoot ?? this.sharedRoot;
  }

  /** Host actions are faults of the host's control plane; the sysroot follows what they change. */
  apply(action: HostAction): boolean {
    if (action.do !== 'fault') return false;
    // A host without SEV firmware has nothing to fail: the case does not apply there.
    if (action.fault.kind === 'firmware' && !this.host.control.firmware.present) return false;
    this.host.control.use(action.fault);
    // A fault changed host files: this host now shows the tree of its new state.
    if (changesSysroot(action.fault)) this.faultRoot = this.rootOf(this.host);
    return true;
  }

  inspect(): HostSnapshot {
    return this.host.control.inspect();
  }

  async runningDomains(): Promise<readonly string[]> {
    return this.host.control.inspect().guests.filter((g) => g.state !== 'shut off').map((g) => g.name);
  }

  domainXml(nameOrUuid: string): string | null {
    for (const lookup of [() => this.host.lookupByUUID(nameOrUuid), () => this.host.lookupByName(nameOrUuid)]) {
      try {
        return this.host.getXMLDesc(lookup());
      } catch {
        // not known under this key
      }
    }
    return null;
  }

  async close(): Promise<void> {
    await this.daemon.close();
  }
}

