/**
 * The shape of a conformance case: identity, the fact it rests on, whether it applies to a hardware
 * profile, and the expected outcome as typed data derived from the profile's truth. A runner reads
 * `given` to arrange the situation and `expect` to judge the driver; the catalogue judges nothing.
 */
import type { Fault } from '../../fakelibvirt/control/fault.ts';
import type { DriverConfig, Flavor, Image, LifecycleOperation, MemEncryptionModel, OperationName, WarningCode } from '../contract.ts';
import type { RefusalCode } from '../refusal-codes.ts';
import type { ProfileTruth } from '../truth.ts';

export const AREAS = [
  'detect', 'inventory', 'request', 'xml', 'boot', 'slots', 'memory', 'lifecycle', 'scheduling', 'faults',
] as const;
export type Area = (typeof AREAS)[number];

export const AREA_TITLES: Record<Area, string> = {
  detect: 'host detection',
  inventory: 'traits and inventory',
  request: 'request validation',
  xml: 'guest XML requirements',
  boot: 'boot on the host',
  slots: 'key-slot capacity',
  memory: 'memory pinning and OOM',
  lifecycle: 'lifecycle refusals and allowances',
  scheduling: 'mixed-fleet scheduling',
  faults: 'fault handling',
};

/** `true`, or the reason the case does not apply to this profile. */
export type Applicability = true | string;

/**
 * A request as the runner builds it: overrides on the suite's standard flavor and image
 * (`requests.ts`). Flavor extra specs are merged; `image.properties` replaces the standard
 * image's properties as a whole, so a case can leave one out.
 */
export interface RequestGiven {
  readonly flavor?: Partial<Omit<Flavor, 'extraSpecs'>> & { readonly extraSpecs?: Readonly<Record<string, string>> };
  readonly image?: Partial<Omit<Image, 'properties'>> & { readonly properties?: Readonly<Record<string, string | boolean>> };
  readonly config?: Partial<DriverConfig>;
}

/** Runtime control of the fake host, applied in order before (or between) the driver calls. */
export type HostAction =
  /** A fault of the host's control plane (fakelibvirt/control/fault.ts): `{ do: 'fault', fault: fault.devSev('missing') }`. */
  | { readonly do: 'fault'; readonly fault: Fault }
  | { readonly do: 'set-config'; readonly config: Partial<DriverConfig> }
  /** Boot guests with the case's request before the judged step (e.g. one SEV guest). */
  | { readonly do: 'boot'; readonly count: number; readonly model?: MemEncryptionModel }
  /** Start the driver anew (a compute service restart): detection runs again. */
  | { readonly do: 'restart-driver' };

export interface Given {
  /** The request (for validateRequest, buildGuestXml, spawn, schedule, lifecycle). */
  readonly request?: RequestGiven;
  readonly host?: readonly HostAction[];
}

export interface XmlRule {
  /** A slash path from `<domain>`, e.g. `launchSecurity/policy`, `memoryBacking/locked`. */
  readonly path: string;
  /** 'may' = optional, but when present it must match `text` / `attrs`. */
  readonly present: boolean | 'may';
  readonly text?: string;
  readonly attrs?: Readonly<Record<string, string>>;
  /**
   * The element must be the last child of its parent. libvirt requires no order among <domain>'s
   * children (its schema interleaves them), so no case asks for it; kept for rules on ordered content.
   */
  readonly last?: boolean;
}

/** Device-level XML requirements that are not a single path. */
export type XmlDeviceRule =
  /** `strict: false` = good practice on this host (QEMU turns the IOMMU on itself); report, don't fail. */
  | { readonly rule: 'iommu-on-every-virtio-device'; readonly strict: boolean }
  | { readonly rule: 'no-iommu-on'; readonly devices: readonly string[] }
  | { readonly rule: 'virtio-nic-rom-disabled' }
  | { readonly rule: 'loader-is-sev-capable-ovmf' }
  /**
   * QEMU may pin all the guest's memory: `<memoryBacking><locked/>` (no limit), or a
   * `<memtune><hard_limit>` of at least RAM + video RAM + QEMU's regions + padding (libvirt then sets
   * RLIMIT_MEMLOCK to the hard limit; below that size the memory cgroup kills QEMU).
   */
  | { readonly rule: 'memory-pinnable' };

export interface NumberRange {
  readonly min: number;
  readonly max: number;
}

export type Expectation =
  | { readonly kind: 'all'; readonly of: readonly Expectation[] }
  /** Each model given is judged; one left out is not (both answers are honest there). */
  | { readonly kind: 'detection'; readonly sev?: boolean; readonly sevEs?: boolean; readonly snp?: boolean }
  | { readonly kind: 'sev-facts'; readonly cbitpos: number; readonly reducedPhysBits: number }
  | { readonly kind: 'traits'; readonly includes: readonly string[]; readonly excludes: readonly string[] }
  /** `total: null` = no inventory for the model at all; 'present' = some total ≥ 1 (not knowable exactly). */
  | {
      readonly kind: 'inventory';
      /** The model whose slots are meant; the report's key is `inventoryKey(model)`. */
      readonly model: MemEncryptionModel;
      /** A list = any of these totals is right (the facts allow more than one honest answer). */
      readonly total: number | readonly number[] | null | 'present';
      readonly shape?: { readonly min_unit: 1; readonly max_unit: 1; readonly step_size: 1; readonly allocation_ratio: 1; readonly reserved: 0 };
    }
  /** A coded warning (contract.ts WARNING_CODES) is present / absent; texts are never matched. */
  | { readonly kind: 'warning'; readonly code: WarningCode }
  | { readonly kind: 'no-warning'; readonly code: WarningCode }
  | {
      readonly kind: 'request';
      readonly model: MemEncryptionModel | null;
      readonly resources: Readonly<Record<string, number>>;
      readonly requiredTraits: { readonly includes: readonly string[]; readonly excludes: readonly string[] };
    }
  | { readonly kind: 'refusal'; readonly op: OperationName; readonly code: RefusalCode; readonly alternatives?: readonly RefusalCode[] }
  | { readonly kind: 'xml'; readonly rules: readonly XmlRule[]; readonly devices?: readonly XmlDeviceRule[] }
  | {
      readonly kind: 'boot';
      readonly asidKind: 'sev' | 'sev-es';
      readonly asidRange: NumberRange;
      /** Policy bits that must be set / clear in the launched guest's policy. */
      readonly policy: { readonly set: number; readonly clear: number };
      readonly pinnedKiBAtLeast: number;
      readonly firmwareState: 'RUNNING';
    }
  | {
      readonly kind: 'slots';
      readonly model: 'sev' | 'sev-es';
      /** How many guests of this model boot together. */
      readonly total: number;
      /** The next one is refused with one of these codes (or its spawn fails without harming others). */
      readonly then: readonly RefusalCode[];
      readonly reuseAfterDelete: boolean;
    }
  | {
      readonly kind: 'memory';
      readonly guestMiB: number;
      /** How many such guests the host can pin at once. */
      readonly fit: number;
      readonly then: readonly RefusalCode[];
      /** Guests already running stay running (no OOM kill). */
      readonly othersSurvive: true;
    }
  | {
      readonly kind: 'lifecycle';
      readonly operation: LifecycleOperation;
      readonly outcome: 'ok' | RefusalCode;
      /** After an allowed operation: the guest is still encrypted (launchSecurity in its XML). */
      readonly encryptedAfter?: boolean;
    }
  | { readonly kind: 'schedule'; readonly fleet: readonly FleetHost[]; readonly steps: readonly ScheduleStep[] }
  /**
   * The case's host joins a standing fleet of many hosts with placement's load on it; each boot is
   * judged by slot and memory accounting (on a host that can take it, or NO_VALID_HOST when none can).
   */
  | {
      readonly kind: 'fleet-schedule';
      readonly fleet: StandingFleet;
      /** Plain-SEV slots placement has left free on the case's own host (the rest are allocated). */
      readonly hostSevSlotsFree: number;
      readonly steps: readonly FleetStep[];
    }
  | { readonly kind: 'host-unharmed'; readonly asidsLeaked: 0; readonly slotsRestored: true };

export interface FleetHost {
  readonly name: string;
  /** A profile name, or 'this' for the profile under test. */
  readonly profile: string;
  readonly maxEncryptedGuests?: number;
}

/** A fleet of many hosts that stands between cases (catalogue/fleet.ts): its members and placement's load on them. */
export interface StandingFleet {
  /** The members, as FakeFleet reads a fleet (`profile:weight,…@size`; names `<profile>-<n>`). */
  readonly spec: string;
  /** Share of each member's guest memory already allocated, cycling over the members in order. */
  readonly memoryUsed: readonly number[];
  /** Members with plain-SEV slots left; every other member with SEV has all of its slots allocated. */
  readonly open: readonly { readonly member: string; readonly sevSlotsFree: number; readonly freeRamMiB: number }[];
}

/** Boot a guest of this kind, or give back the oldest placement still held. */
export type FleetStep = { readonly boot: 'sev' | 'plain' | 'sev-es' } | { readonly release: 'oldest' };

export type ScheduleStep =
  | { readonly boot: 'sev' | 'plain' | 'sev-es'; readonly expect: { readonly hostIn: readonly string[] } | { readonly refusal: RefusalCode } }
  | { readonly deleteOn: string };

export interface Case {
  /** Stable id `<area>.<kebab-words>`; never renamed once released. */
  readonly id: string;
  readonly area: Area;
  readonly title: string;
  readonly why: string;
  /** Where the fact is written down, e.g. `nova-sev.md §1.1`. */
  readonly fact: string;
  readonly novaScenario?: readonly number[];
  /** Set when nova Zed does not meet this case and a later nova (or nobody) fixed it. */
  readonly novaZed?: 'fails' | 'differs';
  /** The driver operations the case needs; a driver without one of them gets "not implemented". */
  readonly ops: readonly OperationName[];
  /** What the runner arranges; a function when it depends on the profile (e.g. a machine name). */
  readonly given?: Given | ((truth: ProfileTruth) => Given);
  /**
   * The id of a case whose judged steps this case's begin with, on the same arranged host. When a
   * run judges both on a profile they share one host and one series of driver calls: the other
   * case's verdict is taken where its steps end, and this case goes on from there (every key slot
   * of a large host is then filled once, not twice). Judged alone, each runs as any case does.
   */
  readonly continues?: string;
  appliesTo(truth: ProfileTruth): Applicability;
  expect(truth: ProfileTruth): Expectation;
}

/** A nova scenario the suite deliberately does not judge. */
export interface Exclusion {
  readonly novaScenario: number;
  readonly reason: string;
}
