/**
 * The seam between the runner and the hosts it judges a driver on. A `Target` hands out hosts in
 * their pristine state, one per case (plus extra ones for fleets and migration destinations); a
 * `TargetHost` is what the driver is pointed at and what the runner may control or look into.
 * The fake target builds hosts from hardware profiles; a real target (one libvirt host) can neither
 * inject faults nor look inside QEMU, so it answers `false` / `null` and those cases do not apply
 * (unless the host is a served fake whose control socket it was given, conformance/real/).
 * Which guests run is libvirt's to say, so both targets answer `runningDomains()` (asynchronously:
 * a real host answers over its connection).
 */
import type { HostSnapshot } from '../../fakelibvirt/host/fake-host.ts';
import type { HostAction } from '../catalogue/types.ts';
import type { ProfileTruth } from '../truth.ts';

export interface TargetHost {
  /** The profile the host was built from (fake) or stands for (real). */
  readonly name: string;
  /** libvirt URI the driver connects to. */
  readonly uri: string;
  /** Root under which the driver reads host files; follows kernel parameter changes. */
  readonly sysroot: string;
  /** The host's truth at the start of the case. */
  readonly truth: ProfileTruth;
  /**
   * Performs a host action the runner does not do itself (config, boots and restarts are the
   * runner's); false when this target cannot (the case is then not applicable). A host controlled
   * from outside (a served fake's control socket) answers asynchronously.
   */
  apply(action: HostAction): boolean | Promise<boolean>;
  /** The host's inside view (ASIDs, pinned memory, guests); null where the target cannot look. */
  inspect(): HostSnapshot | null | Promise<HostSnapshot | null>;
  /**
   * Names of the host's active domains (running or paused, libvirt's ACTIVE), whoever started
   * them; null when the target cannot tell. Judges use it to see which guests run.
   */
  runningDomains(): Promise<readonly string[] | null>;
  /** A domain's current XML by name or uuid; null when unknown or the target cannot look. */
  domainXml(nameOrUuid: string): string | null | Promise<string | null>;
  /**
   * Where the target cannot look inside (a real host): what libvirt shows of a guest and what a
   * probe guest launched with its settings reports from its own kernel. Absent when the target
   * has no such evidence; null when it has none for this guest.
   */
  guestEvidence?(domainName: string): Promise<GuestEvidence | null>;
  close(): Promise<void>;
}

/** A real host's evidence that a guest runs encrypted, without a look inside QEMU. */
export interface GuestEvidence {
  /** libvirt says the domain runs. */
  readonly running: boolean;
  /** The launch policy in the domain's live XML; null when it has no <launchSecurity>. */
  readonly policy: number | null;
  /** The encryption a probe guest's own kernel reports, launched with this guest's settings. */
  readonly guestKernel: 'none' | 'sev' | 'sev-es' | 'sev-snp';
  /** The kernel lines it was read from. */
  readonly kernelLines: readonly string[];
}

export interface Target {
  /** 'fake', or the real host's URI (shown in reports). */
  readonly description: string;
  /** The profiles this target can run, in order (all hardware profiles for the fake). */
  profileNames(): readonly string[];
  truth(profile: string): ProfileTruth;
  /** A host of this profile in its pristine state, for one case. */
  open(profile: string): Promise<TargetHost>;
  close(): Promise<void>;
}
