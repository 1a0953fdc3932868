/**
 * QEMU processes on the fake host: starting one for a domain (libvirt's memlock setting, the SEV
 * launch, guest-visible faults), ending it (the kernel frees the ASID and the pins), and the
 * memory limits that kill it afterwards (memory cgroup hard limit, host OOM killer).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { SevFirmwareError, qemuFwErrorString } from '../firmware/status.ts';
import type { SevFirmware } from '../firmware/sev-firmware.ts';
import type { AsidPool } from '../kvm/asid-pool.ts';
import type { HostEventLog } from '../host/host-events.ts';
import { qemuLogTimestamp } from '../host/host-events.ts';
import { element, type XmlNode } from '../libvirt/xml-tree.ts';
import type { DeviceDef, DomainDef } from '../libvirt/domain-def.ts';
import { resolveMachine } from '../libvirt/qemu-validate.ts';
import { EXTRA_QEMU_REGIONS, EXTRA_REGIONS_PADDING_KIB } from '../../src/sev/qemu-regions.ts';
import { HostMemory, MemlockAccount, PAGE_SIZE, oomKillLine, type PinningProcess } from '../memory/pinning.ts';
import type { CpuidSev, KernelSevState } from '../profile/derive.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { versionAtLeast } from '../profile/version.ts';
import type { LibvirtSevView } from '../views/libvirt-sev.ts';
import { directKernelBoot, encryptedGuestFaults, hotplugFaults, usesUefi, type GuestFault } from './guest-boot.ts';
import { qemuSevText } from './messages.ts';
import { QemuExit, firmwareImageOf, launchSevGuest, type SevGuestRuntime } from './sev-launch.ts';
import { injectLaunchSecret } from './sev-secret.ts';

export interface GuestRuntime {
  readonly pid: number;
  readonly name: string;
  readonly machine: string;
  readonly sev: SevGuestRuntime | null;
  /** KiB pinned in host memory (SEV guests and `<locked/>` guests); 0 otherwise. */
  readonly pinnedKiB: number;
  /** What the memory cgroup charges for the guest: RAM, video RAM, QEMU's regions, padding. */
  readonly residentKiB: number;
  readonly memlockLimitKiB: number | 'unlimited';
  readonly hardLimitKiB: number | null;
  /** Grows when a device hot-plugged into the running guest brings a fault of its own. */
  readonly faults: GuestFault[];
  readonly migrationBlocker: string;
  readonly startedAtNs: bigint;
}

/** What the host gives the process manager: its components, never its domain list. */
export interface QemuHost {
  readonly profile: HardwareProfile;
  readonly cpuid: CpuidSev | null;
  readonly kernel: KernelSevState;
  readonly firmware: SevFirmware | null;
  readonly asids: AsidPool | null;
  readonly events: HostEventLog;
}

/** libvirt 8.0+ connects to QEMU's monitor before machine init, so early exits read as EOF [inference]. */
function startFailurePrefix(libvirtVersion: string): string {
  return versionAtLeast(libvirtVersion, 8, 0) ? 'qemu unexpectedly closed the monitor' : 'process exited while connecting to monitor';
}

export class QemuProcessManager {
  private readonly running = new Map<number, GuestRuntime>();
  private readonly memory: HostMemory;
  private nextPid = 4000;

  constructor(private readonly host: QemuHost) {
    this.memory = new HostMemory({ totalKiB: host.profile.memory.totalKiB, reservedKiB: host.profile.memory.reservedKiB });
  }

  all(): GuestRuntime[] {
    return [...this.running.values()];
  }

  totalPinnedKiB(): number {
    let s = 0;
    for (const g of this.running.values()) s += g.pinnedKiB;
    return s;
  }

  totalUnpinnedKiB(): number {
    let s = 0;
    for (const g of this.running.values()) if (g.pinnedKiB === 0) s += g.residentKiB;
    return s;
  }

  cpuTimeNs(g: GuestRuntime): bigint {
    return process.hrtime.bigint() - g.startedAtNs;
  }

  private startError(lines: readonly string[]): LibvirtError {
    const ts = qemuLogTimestamp();
    const log = lines.map((l) => `${ts} qemu-system-x86_64: ${l}`).join('\n');
    return LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, `${startFailurePrefix(this.host.profile.libvirt.version)}: ${log}`);
  }

  /** `opts.shape`: what the last start of this domain derived (the caller keeps it), reused when still valid. */
  start(def: DomainDef, opts: { paused: boolean; sevView: LibvirtSevView | null; shape?: BootShape | null }): { liveDef: DomainDef; runtime: GuestRuntime; shape: BootShape } {
    const { profile } = this.host;
    const known = opts.shape;
    const shape = known?.def === def && known.profile === profile ? known : bootShapeOf(def, profile);
    const pid = this.nextPid++;

    let sev: SevGuestRuntime | null = null;
    const ls = def.launchSecurity;
    if (ls) {
      const { cpuid, firmware: fw, asids } = this.host;
      if (!profile.devSev.present || !cpuid || !fw || !asids) {
        throw new LibvirtError({ code: VirErrorNumber.SYSTEM_ERROR, domain: VirErrorDomain.QEMU, message: "Path '/dev/sev' is not accessible: No such file or directory" });
      }
      const memlock = new MemlockAccount({
        limitBytes: shape.memlockLimitKiB === 'unlimited' || shape.memcgKills ? 'unlimited' : shape.memlockLimitKiB * 1024,
      });
      const devSevOpenError = devSevOpenErrorOf(profile.devSev.mode);
      try {
        sev = launchSevGuest(
          {
            qemuVersion: profile.qemu.version,
            cpuid,
            kernel: this.host.kernel,
            devSevPresent: profile.devSev.present,
            ...(devSevOpenError && { devSevOpenError }),
            firmware: fw,
            smtActive: profile.cpu.threadsPerCore > 1,
            hostCpu: profile.cpu,
            asids,
            memlock,
          },
          {
            launchSecurity: ls,
            cbitposFromCaps: opts.sevView?.cbitpos ?? cpuid.cbitpos,
            vcpus: def.vcpus,
            regions: shape.regions,
            firmwareImage: firmwareImageOf(shape.loaderPath),
            ...withDirectBoot(def),
            smmOn: shape.smmOn,
          },
        );
      } catch (e) {
        if (!(e instanceof QemuExit)) throw e;
        for (const line of e.kernelLog) this.host.events.record('kernel', line, def.name);
        for (const line of e.lines) this.host.events.record('qemu', line, def.name);
        throw this.startError(e.lines);
      }
      // SEV finishes its launch on the first run (after a LAUNCH_SECRET window); QEMU ends an SNP
      // launch at machine-init-done, paused or not.
      if (!opts.paused || ls.type === 'sev-snp') this.finishLaunch(def.name, sev);
    }

    const runtime: GuestRuntime = {
      pid,
      name: def.name,
      machine: shape.machine,
      sev,
      pinnedKiB: shape.pinnedKiB,
      residentKiB: shape.residentKiB,
      memlockLimitKiB: shape.memlockLimitKiB,
      hardLimitKiB: def.hardLimitKiB ?? null,
      // The runtime's own list: hot-plug adds to it.
      faults: [...shape.faults],
      migrationBlocker: qemuSevText.migrationBlocker,
      startedAtNs: process.hrtime.bigint(),
    };
    for (const f of runtime.faults) this.host.events.record('harness', `guest fault: ${f.message}`, def.name);
    this.running.set(pid, runtime);
    return { liveDef: liveDefinitionOf(shape, def, sev), runtime, shape };
  }

  /**
   * device_add succeeded: an encrypted guest judges the new device by the same rules as at boot
   * (iommu before QEMU 6.0, transitional virtio on i440fx). Returns the new faults.
   */
  deviceAdded(g: GuestRuntime, device: DeviceDef): GuestFault[] {
    if (!g.sev) return [];
    const faults = hotplugFaults(device, g.machine, this.host.profile.qemu.version);
    g.faults.push(...faults);
    for (const f of faults) this.host.events.record('harness', `guest fault: ${f.message}`, g.name);
    return faults;
  }

  /** LAUNCH_FINISH on the guest's first run; a failure makes QEMU exit. */
  private finishLaunch(name: string, sev: SevGuestRuntime): void {
    try {
      this.host.firmware?.launchFinish(sev.handle);
    } catch (e) {
      if (!(e instanceof SevFirmwareError)) throw e;
      this.releaseSev(sev);
      const line = qemuSevText.launchFinish(-5, e.status, qemuFwErrorString(e.status));
      this.host.events.record('qemu', line, name);
      throw this.startError([line]);
    }
  }

  resume(g: GuestRuntime): void {
    if (!g.sev || !this.host.firmware) return;
    if (this.host.firmware.guestStatus(g.sev.handle).state === 'LSECRET') this.finishLaunch(g.name, g.sev);
  }

  /** sev-inject-launch-secret (qemu/sev-secret.ts); `setAddress` is libvirt's sev-secret-set-address. */
  injectLaunchSecret(g: GuestRuntime, header: Buffer, secret: Buffer, setAddress?: bigint): void {
    const fw = this.host.firmware;
    if (!g.sev || !fw) return;
    injectLaunchSecret(fw, g.sev, header, secret, setAddress);
  }

  private releaseSev(sev: SevGuestRuntime): void {
    const fw = this.host.firmware;
    try { fw?.deactivate(sev.handle); } catch { /* not active */ }
    try { fw?.decommission(sev.handle); } catch { /* already gone */ }
    this.host.asids?.free(sev.asid);
  }

  /** QEMU exits: KVM tears the VM down (DEACTIVATE, DECOMMISSION, ASID to the reclaim bitmap). */
  stop(g: GuestRuntime): void {
    if (!this.running.delete(g.pid)) return;
    if (g.sev) this.releaseSev(g.sev);
    this.memory.release(g.pid);
  }

  /**
   * Applies the limits that act once a guest's memory is resident: its memory cgroup
   * (`<memtune><hard_limit>`) and host memory, where pinned pages cannot be reclaimed. Returns the
   * guests the kernel killed, newest request last; the caller marks their domains crashed.
   */
  enforceMemoryLimits(g: GuestRuntime): GuestRuntime[] {
    const proc: PinningProcess = { pid: g.pid, domain: g.name, totalVmKiB: g.residentKiB };
    if (g.pinnedKiB > 0 && g.hardLimitKiB !== null && g.residentKiB > g.hardLimitKiB) {
      this.host.events.record('kernel', `Memory cgroup out of memory: ${oomKillLine(proc, g.pinnedKiB).replace(/^Out of memory: /, '')}`, g.name);
      return [g];
    }
    if (g.pinnedKiB === 0) return [];
    const victims: GuestRuntime[] = [];
    for (;;) {
      const r = this.memory.pin(proc, Math.ceil((g.pinnedKiB * 1024) / PAGE_SIZE) * PAGE_SIZE);
      if (r.ok) return victims;
      this.host.events.record('kernel', r.event, r.victim.domain);
      const victim = this.running.get(r.victim.pid);
      if (!victim) return victims;
      victims.push(victim);
      if (victim === g) return victims;
      this.stop(victim);
    }
  }
}

/** The direct kernel boot QEMU measures (kernel-hashes), read only when the launch can use it. */
function withDirectBoot(def: DomainDef): { directBoot?: ReturnType<typeof directKernelBoot> & object } {
  const ls = def.launchSecurity;
  // SEV measures the hashes table with the firmware; SNP's ID block check needs its launch digest.
  const boot = ls?.kernelHashes ? directKernelBoot(def) : null;
  return boot ? { directBoot: boot } : {};
}

/** `<features><smm/>` or `<smm state='on'/>`: SMM asked for explicitly. */
function smmRequested(def: DomainDef): boolean {
  const smm = def.tree.children.find((c) => c.name === 'features')?.children.find((c) => c.name === 'smm');
  return !!smm && smm.attrs.state !== 'off';
}

/** libvirt hands /dev/sev to the qemu user in the guest's namespace: its owner bits decide. */
function devSevOpenErrorOf(mode: string): string | undefined {
  return (Number.parseInt(mode, 8) & 0o600) !== 0o600 ? 'Permission denied' : undefined;
}

/**
 * What a start derives from the definition and the host's profile alone: the machine, the RAM
 * blocks QEMU registers, the memory limits, the faults the guest will meet, and the live
 * definition made. A definition is never edited in place (changes make new ones), so the domain
 * keeps this for its next start of the same definition on the same profile; the live definition
 * is shared by those runs, as nothing edits it in place either. (Kept on the domain, not in a
 * WeakMap by definition: a weak entry per fresh definition cost more in GC than it saved.)
 */
export interface BootShape {
  readonly def: DomainDef;
  readonly profile: HardwareProfile;
  readonly machine: string;
  readonly regions: readonly { readonly name: string; readonly kib: number }[];
  readonly pinnedKiB: number;
  readonly residentKiB: number;
  readonly memlockLimitKiB: number | 'unlimited';
  /** A hard limit below the resident size: the memory cgroup kills QEMU while it pins guest RAM. */
  readonly memcgKills: boolean;
  readonly faults: readonly GuestFault[];
  readonly smmOn: boolean;
  readonly loaderPath: string;
  /** The last live definition made, by the cbitpos/reducedPhysBits filled in ('' for a guest without SEV). */
  live: { readonly key: string; readonly def: DomainDef } | null;
}

/** QEMU's RAM blocks besides guest RAM and video RAM, by guest firmware. */
const EXTRA_REGIONS = {
  uefi: EXTRA_QEMU_REGIONS.filter((r) => r.firmware.includes('uefi')).map((r) => ({ name: r.name, kib: r.sizeKiB })),
  bios: EXTRA_QEMU_REGIONS.filter((r) => r.firmware.includes('bios')).map((r) => ({ name: r.name, kib: r.sizeKiB })),
} as const;

function bootShapeOf(def: DomainDef, profile: HardwareProfile): BootShape {
  // An unknown machine is refused at every start, before anything else.
  const machine = resolveMachine(profile, def.os.machine);
  const videoKiB = def.devices.reduce((s, d) => s + d.videoRamKiB, 0);
  const regions = [
    { name: 'pc.ram', kib: def.memoryKiB },
    ...(videoKiB > 0 ? [{ name: 'vga.vram', kib: videoKiB }] : []),
    ...EXTRA_REGIONS[usesUefi(def) ? 'uefi' : 'bios'],
  ];
  const regionsKiB = regions.reduce((s, r) => s + r.kib, 0);
  const residentKiB = regionsKiB + EXTRA_REGIONS_PADDING_KIB;
  // SEV registers (pins) all guest RAM; SNP's guest_memfd is not pinned; <locked/> pins any guest.
  const pins = def.launchSecurity?.type === 'sev' || def.lockedMemory;
  return {
    def,
    profile,
    machine,
    regions,
    pinnedKiB: pins ? regionsKiB : 0,
    residentKiB,
    memlockLimitKiB: def.lockedMemory ? 'unlimited' : (def.hardLimitKiB ?? profile.memory.defaultMemlockKiB),
    memcgKills: def.hardLimitKiB !== undefined && residentKiB > def.hardLimitKiB,
    faults: encryptedGuestFaults(def, machine, profile.qemu.version),
    smmOn: smmRequested(def),
    loaderPath: def.os.loader?.path ?? 'bios',
    live: null,
  };
}

function liveDefinitionOf(shape: BootShape, def: DomainDef, sev: SevGuestRuntime | null): DomainDef {
  const key = sev ? `${sev.cbitpos}/${sev.reducedPhysBits}` : '';
  if (shape.live?.key !== key) shape.live = { key, def: liveDefinition(def, shape.machine, sev) };
  return shape.live.def;
}

/** A node with other children (name, attributes and text kept). */
function withKids(n: XmlNode, children: XmlNode[]): XmlNode {
  return { name: n.name, attrs: n.attrs, children, text: n.text };
}

/** The live XML: canonical machine, and cbitpos/reducedPhysBits filled in as libvirt does at start. */
function liveDefinition(def: DomainDef, machine: string, sev: SevGuestRuntime | null): DomainDef {
  // Copy only the nodes that change; the rest is shared with the persistent tree, which nothing
  // edits in place (device changes build new nodes).
  const children: XmlNode[] = [];
  for (const c of def.tree.children) {
    if (c.name === 'os') {
      const kids: XmlNode[] = [];
      for (const t of c.children) kids.push(t.name === 'type' ? { ...withKids(t, t.children), attrs: { ...t.attrs, machine } } : t);
      children.push(withKids(c, kids));
    } else if (c.name === 'launchSecurity' && sev) {
      const kids = [...c.children];
      if (!c.children.some((x) => x.name === 'cbitpos')) kids.push(element('cbitpos', {}, [], String(sev.cbitpos)));
      if (!c.children.some((x) => x.name === 'reducedPhysBits')) kids.push(element('reducedPhysBits', {}, [], String(sev.reducedPhysBits)));
      children.push(withKids(c, kids));
    } else {
      children.push(c);
    }
  }
  return { ...def, tree: withKids(def.tree, children), os: { ...def.os, machine } };
}
