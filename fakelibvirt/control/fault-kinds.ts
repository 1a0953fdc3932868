/**
 * Every fault kind, defined once: its fields (zod), its factory's arguments, its `sevharness ctl`
 * words, whether it changes the host's files, why a real host cannot do it, and what it does —
 * a host state it folds into, or a rule it arms. fault.ts derives the vocabulary (schema, types,
 * factories, parsing, listing) from this table; the control plane and the runners ask the table.
 * Adding a fault kind is adding one entry here.
 */
import { z } from 'zod';
import { COMMAND_IDS, type FirmwareCommand } from '../firmware/commands.ts';
import type { FirmwareOverride, OverrideList } from '../firmware/overrides.ts';
import { FIRMWARE_STATUS_NAMES, SevStatus, type FirmwareStatusName } from '../firmware/status.ts';
import type { DomcapsFault, DomcapsFaults } from '../host/domcaps-faults.ts';
import { KVM_AMD_PARAMS, libvirtReprobesOnSevChange, type KvmAmdParam } from '../profile/derive.ts';
import type { HardwareProfile } from '../profile/schema.ts';
import { DEV_SEV_UNOPENABLE_MODE, kernelOf, kvmSupportsSecureGuest, probe, withCmdlineParam, type HostRuntimeState } from './host-state.ts';

/** How many matching calls a rule answers: a positive count, or 'always' (never used up). */
export const Times = z.union([z.number().int().positive(), z.literal('always')]);
export type Times = z.infer<typeof Times>;

/** The values `modprobe kvm_amd sev=…` accepts for a bool parameter, as the kernel parses them. */
export const KERNEL_PARAM_VALUES = ['Y', 'N', 'y', 'n', '1', '0'] as const;
export type KernelParamValue = (typeof KERNEL_PARAM_VALUES)[number];

/** A fault that is malformed, or (`conflict`) well-formed but not applicable to this host now. */
export class FaultError extends Error {
  override readonly name = 'FaultError';
  constructor(
    message: string,
    readonly conflict = false,
  ) {
    super(message);
  }
}

/** The rule lists a rule fault arms (the components consult them on matching calls). */
export interface RuleLists {
  readonly firmware: OverrideList;
  readonly domcaps: DomcapsFaults;
}

/** An armed rule: how many uses it has left. */
export interface ArmedRule {
  remaining(): number;
}

type KindShape<K extends string, S extends z.ZodRawShape> = { kind: z.ZodLiteral<K> } & S;
export type FaultData<K extends string, S extends z.ZodRawShape> = z.infer<z.ZodObject<KindShape<K, S>>>;

interface FaultDefinition<K extends string, S extends z.ZodRawShape, A extends unknown[]> {
  /** The fields besides `kind`. */
  readonly fields: S;
  /** The factory's arguments → the fields (`fault.<kind>(...args)`). */
  readonly make: (...args: A) => Record<string, unknown>;
  /** `sevharness ctl use <kind> WORDS…`: the positional words → the fields (`key=value` options are added as given). */
  readonly words: (positional: readonly (string | undefined)[]) => Record<string, unknown>;
  /** Whether it changes the host's files (kvm_amd parameters, /proc/cmdline, /dev/sev). */
  readonly changesSysroot?: boolean;
  /** Why a real host cannot take it (the real target's "not applicable" reason). */
  readonly notOnRealHost: (f: FaultData<K, S>) => string;
}

/** A host state: the state this fault makes of `s` (`base` is the profile as built); lasts until reset. */
interface StateDefinition<K extends string, S extends z.ZodRawShape, A extends unknown[]> extends FaultDefinition<K, S, A> {
  readonly apply: (base: HardwareProfile, s: HostRuntimeState, f: FaultData<K, S>) => HostRuntimeState;
}

/** A rule: answers matching calls until its uses are spent. */
interface RuleDefinition<K extends string, S extends z.ZodRawShape, A extends unknown[]> extends FaultDefinition<K, S, A> {
  readonly rule: { readonly defaultTimes: Times; arm(f: FaultData<K, S>, times: number, lists: RuleLists): ArmedRule };
}

interface Kind<K extends string, S extends z.ZodRawShape, F extends 'state' | 'rule'> {
  readonly kind: K;
  readonly family: F;
  readonly schema: z.ZodObject<KindShape<K, S>, z.core.$strict>;
}
export type StateKindEntry<K extends string, S extends z.ZodRawShape, A extends unknown[]> = StateDefinition<K, S, A> & Kind<K, S, 'state'>;
export type RuleKindEntry<K extends string, S extends z.ZodRawShape, A extends unknown[]> = RuleDefinition<K, S, A> & Kind<K, S, 'rule'>;

const schemaOf = <K extends string, S extends z.ZodRawShape>(kind: K, fields: S) => z.strictObject({ kind: z.literal(kind), ...fields } as KindShape<K, S>);

function stateFault<K extends string, S extends z.ZodRawShape, A extends unknown[]>(kind: K, def: StateDefinition<K, S, A>): StateKindEntry<K, S, A> {
  return { kind, family: 'state', schema: schemaOf(kind, def.fields), ...def };
}

function ruleFault<K extends string, S extends z.ZodRawShape, A extends unknown[]>(kind: K, def: RuleDefinition<K, S, A>): RuleKindEntry<K, S, A> {
  return { kind, family: 'rule', schema: schemaOf(kind, def.fields), ...def };
}

const FIRMWARE_COMMANDS = Object.keys(COMMAND_IDS) as [FirmwareCommand, ...FirmwareCommand[]];
const countOf = (t: Times): number => (t === 'always' ? Infinity : t);
const numberWord = (w: string | undefined): unknown => (w !== undefined && /^\d+$/.test(w) ? Number(w) : w);

export const FAULT_TABLE = [
  /** The next matching firmware command answers `status` instead of running (default: once). */
  ruleFault('firmware', {
    fields: {
      command: z.enum(FIRMWARE_COMMANDS),
      status: z.enum(FIRMWARE_STATUS_NAMES).refine((s) => s !== 'SUCCESS', 'an injected status must be a failure'),
      times: Times.optional(),
      /** Only this guest handle's commands match; any guest's when absent. */
      handle: z.number().int().nonnegative().optional(),
    },
    make: (command: FirmwareCommand, status: Exclude<FirmwareStatusName, 'SUCCESS'>, opts: { times?: Times; handle?: number } = {}) => ({ command, status, ...opts }),
    words: ([command, status]) => ({ command, status }),
    notOnRealHost: () => 'a real host cannot inject firmware faults',
    rule: {
      defaultTimes: 1,
      arm(f, times, lists) {
        const rule: FirmwareOverride = { command: f.command, status: SevStatus[f.status], times, ...(f.handle !== undefined && { handle: f.handle }) };
        lists.firmware.use(rule);
        return { remaining: () => lists.firmware.remaining(rule) };
      },
    },
  }),
  /** getDomainCapabilities for this guest arch fails as when its QEMU binary is gone (default: always). */
  ruleFault('domcaps', {
    fields: { arch: z.string().min(1), times: Times.optional() },
    make: (arch: string, opts: { times?: Times } = {}) => ({ arch, ...opts }),
    words: ([arch]) => ({ arch }),
    notOnRealHost: () => "a real host's QEMU binaries are not the suite's to remove",
    rule: {
      defaultTimes: 'always',
      arm(f, times, lists) {
        const rule: DomcapsFault = { arch: f.arch, times };
        lists.domcaps.use(rule);
        return { remaining: () => lists.domcaps.remaining(rule) };
      },
    },
  }),
  /** kvm_amd loaded with this parameter (`kvm_amd.<param>=<value>` on the kernel command line). */
  stateFault('kernelParam', {
    fields: { param: z.enum(KVM_AMD_PARAMS as [KvmAmdParam, ...KvmAmdParam[]]), value: z.enum(KERNEL_PARAM_VALUES) },
    make: (param: KvmAmdParam, value: KernelParamValue | boolean) => ({ param, value: typeof value === 'boolean' ? (value ? '1' : '0') : value }),
    words: ([param, value]) => ({ param, value }),
    changesSysroot: true,
    notOnRealHost: (f) => `a real host's kvm_amd ${f.param} parameter is set at boot by its owner, not by the suite`,
    apply(base, s, f) {
      // Loading the module with the parameter: the command line's setting wins over earlier ones.
      const { [f.param]: _dropped, ...kernelOverrides } = s.kernelOverrides;
      const profile = { ...s.profile, kernel: { ...s.profile.kernel, cmdline: withCmdlineParam(s.profile.kernel.cmdline, f.param, f.value) } };
      const kernel = kernelOf(base, profile, kernelOverrides);
      // libvirt ≥ 6.5 notices the reload and re-probes QEMU; older libvirt keeps its cache.
      return { profile, kernelOverrides, kernel, sevCache: libvirtReprobesOnSevChange(base) ? probe(profile, kernel) : s.sevCache };
    },
  }),
  /** /dev/sev removed, or left in place but unopenable by QEMU (mode 0000; libvirt's probe still opens it). */
  stateFault('devSev', {
    fields: { state: z.enum(['missing', 'eacces']) },
    make: (state: 'missing' | 'eacces') => ({ state }),
    words: ([state]) => ({ state }),
    changesSysroot: true,
    notOnRealHost: () => "a real host's /dev/sev is not the suite's to remove or lock",
    apply(base, s, f) {
      const devSev = f.state === 'missing' ? { ...s.profile.devSev, present: false } : { ...s.profile.devSev, present: true, mode: DEV_SEV_UNOPENABLE_MODE };
      const next = { ...s, profile: { ...s.profile, devSev } };
      // libvirt checks /dev/sev's existence on every capability lookup (≥ 6.5); its mode it never looks at.
      const noticed = libvirtReprobesOnSevChange(base) && kvmSupportsSecureGuest(s) !== kvmSupportsSecureGuest(next);
      return noticed ? { ...next, sevCache: probe(next.profile, next.kernel) } : next;
    },
  }),
  /** The RLIMIT_MEMLOCK QEMU starts with when the domain sets neither <locked/> nor <hard_limit>. */
  stateFault('memlock', {
    fields: { limitKiB: z.number().int().nonnegative() },
    make: (limitKiB: number) => ({ limitKiB }),
    words: ([limitKiB]) => ({ limitKiB: numberWord(limitKiB) }),
    notOnRealHost: () => "a real host's RLIMIT_MEMLOCK is its owner's to set",
    apply: (_base, s, f) => ({ ...s, profile: { ...s.profile, memory: { ...s.profile.memory, defaultMemlockKiB: f.limitKiB } } }),
  }),
  /** libvirt's QEMU capability cache predates SEV: libvirt reports no SEV until it re-probes. */
  stateFault('cacheStale', {
    fields: {},
    make: () => ({}),
    words: () => ({}),
    notOnRealHost: () => "a real host's libvirt capability cache is not the suite's to edit",
    apply: (_base, s) => ({ ...s, sevCache: null }),
  }),
  /** libvirt re-probes QEMU (cache file deleted, libvirtd restarted): its capabilities follow the host as it is now. */
  stateFault('cacheRefresh', {
    fields: {},
    make: () => ({}),
    words: () => ({}),
    notOnRealHost: () => "a real host's libvirt capability cache is not the suite's to edit",
    apply: (_base, s) => ({ ...s, sevCache: probe(s.profile, s.kernel) }),
  }),
] as const;

export { countOf };
