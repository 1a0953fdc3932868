/**
 * The fault vocabulary of the control plane: every way a test may bend a fake host, as plain
 * serialisable data (one zod schema), built with small factories in msw's spirit:
 *
 *   host.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 }), fault.devSev('missing'))
 *
 * Two families: rules (firmware statuses, domain-capabilities failures) answer matching calls and
 * may be used up; host states (kernel parameters, /dev/sev, RLIMIT_MEMLOCK, libvirt's capability
 * cache) change what the host is until the handlers are reset. The same JSON travels over the
 * control socket (`serve --control`), so a Python or Go test speaks this vocabulary too.
 *
 * Everything here is derived from the one table of fault kinds (fault-kinds.ts).
 */
import { z } from 'zod';
import type { HardwareProfile } from '../profile/schema.ts';
import type { KernelParamOverrides } from '../profile/derive.ts';
import { countOf, FAULT_TABLE, FaultError, type ArmedRule, type RuleLists, type Times } from './fault-kinds.ts';
import { pristineState, type HostRuntimeState } from './host-state.ts';

export { FaultError, KERNEL_PARAM_VALUES, type KernelParamValue, type Times } from './fault-kinds.ts';

type Entry = (typeof FAULT_TABLE)[number];

export type Fault = z.infer<Entry['schema']>;
export type FaultKind = Fault['kind'];
export type FirmwareFault = Extract<Fault, { kind: 'firmware' }>;
export type DomcapsFaultData = Extract<Fault, { kind: 'domcaps' }>;
/** Faults that answer matching calls and may be used up (rules in the table). */
export type RuleFault = Extract<Fault, { kind: Extract<Entry, { family: 'rule' }>['kind'] }>;
export type StateFault = Exclude<Fault, RuleFault>;

const schemas = FAULT_TABLE.map((e) => e.schema) as unknown as [Entry['schema'], ...Entry['schema'][]];
export const FaultSchema: z.ZodType<Fault> = z.discriminatedUnion('kind', schemas) as unknown as z.ZodType<Fault>;

export const FAULT_KINDS: readonly FaultKind[] = FAULT_TABLE.map((e) => e.kind);

const BY_KIND = new Map<string, Entry>(FAULT_TABLE.map((e) => [e.kind, e]));

/** The table's entry for a fault (typed loosely: the fault was validated against that entry's schema). */
interface LooseEntry {
  readonly changesSysroot?: boolean;
  notOnRealHost(f: Fault): string;
  apply?(base: HardwareProfile, s: HostRuntimeState, f: Fault): HostRuntimeState;
  readonly rule?: { readonly defaultTimes: Times; arm(f: Fault, times: number, lists: RuleLists): ArmedRule };
}
const entryOf = (f: Fault): LooseEntry => BY_KIND.get(f.kind) as unknown as LooseEntry;

export function isRuleFault(f: Fault): f is RuleFault {
  return BY_KIND.get(f.kind)?.family === 'rule';
}

/** Whether a fault changes the host's files (kvm_amd parameters, /proc/cmdline, /dev/sev). */
export function changesSysroot(f: Fault): boolean {
  return entryOf(f).changesSysroot === true;
}

/** Why a real host cannot take this fault (the real target's "not applicable" reason). */
export function notOnRealHost(f: Fault): string {
  return entryOf(f).notOnRealHost(f);
}

/** Arms a rule fault on its rule list; `times` overrides the fault's own count (when restoring). */
export function armRule(f: RuleFault, lists: RuleLists, times?: number): ArmedRule {
  const rule = entryOf(f).rule!;
  return rule.arm(f, times ?? countOf((f as { times?: Times }).times ?? rule.defaultTimes), lists);
}

/** One state fault applied to a state. */
export function applyStateFault(base: HardwareProfile, s: HostRuntimeState, f: StateFault): HostRuntimeState {
  return entryOf(f).apply!(base, s, f);
}

/** The fold: the pristine host, then each fault in the order it was applied. */
export function foldState(base: HardwareProfile, kernelOverrides: KernelParamOverrides, faults: readonly StateFault[]): HostRuntimeState {
  return faults.reduce((s, f) => applyStateFault(base, s, f), pristineState(base, kernelOverrides));
}

/** Validates untrusted fault data (JSON from the control socket); throws a readable error. */
export function parseFault(data: unknown): Fault {
  const r = FaultSchema.safeParse(data);
  if (r.success) return r.data;
  throw new FaultError(`invalid fault: ${r.error.issues.map((i) => `${i.path.join('.') || 'fault'}: ${i.message}`).join('; ')}`);
}

type Factories = { readonly [E in Entry as E['kind']]: (...args: Parameters<E['make']>) => Extract<Fault, { kind: E['kind'] }> };

/** The factories: `fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 })`. */
export const fault: Factories = Object.fromEntries(
  FAULT_TABLE.map((e) => [e.kind, (...args: unknown[]) => parseFault({ kind: e.kind, ...(e.make as (...a: unknown[]) => object)(...args) })]),
) as unknown as Factories;

/**
 * Builds a fault from shell words (`sevharness ctl use KIND ARGS…`): positional arguments in the
 * factory's order, `key=value` for options (`times=2`, `handle=1`).
 */
export function faultFromWords(kind: string, args: readonly string[]): Fault {
  const positional = args.filter((a) => !/^[a-zA-Z]+=/.test(a));
  const options: Record<string, unknown> = {};
  for (const a of args.filter((x) => /^[a-zA-Z]+=/.test(x))) {
    const [k, v] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
    options[k] = /^\d+$/.test(v) ? Number(v) : v;
  }
  const entry = BY_KIND.get(kind);
  if (!entry) throw new FaultError(`unknown fault kind '${kind}' (known: ${FAULT_KINDS.join(', ')})`);
  const data = Object.fromEntries(Object.entries({ kind, ...entry.words(positional), ...options }).filter(([, v]) => v !== undefined));
  return parseFault(data);
}

/** One line for listings: `firmware LAUNCH_START RESOURCE_LIMIT times=1`. */
export function describeFault(f: Fault): string {
  const { kind, ...rest } = f;
  return [kind, ...Object.entries(rest).map(([k, v]) => (['times', 'handle'].includes(k) ? `${k}=${v}` : String(v)))].join(' ');
}
