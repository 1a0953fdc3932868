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
 */
import { z } from 'zod';
import { COMMAND_IDS, type FirmwareCommand } from '../firmware/commands.ts';
import { FIRMWARE_STATUS_NAMES, type FirmwareStatusName } from '../firmware/status.ts';
import { KVM_AMD_PARAMS, type KvmAmdParam } from '../profile/derive.ts';

const FIRMWARE_COMMANDS = Object.keys(COMMAND_IDS) as [FirmwareCommand, ...FirmwareCommand[]];

/** How many matching calls a rule answers: a positive count, or 'always' (never used up). */
const Times = z.union([z.number().int().positive(), z.literal('always')]);
export type Times = z.infer<typeof Times>;

/** The values `modprobe kvm_amd sev=…` accepts for a bool parameter, as the kernel parses them. */
export const KERNEL_PARAM_VALUES = ['Y', 'N', 'y', 'n', '1', '0'] as const;
export type KernelParamValue = (typeof KERNEL_PARAM_VALUES)[number];

export const FaultSchema = z.discriminatedUnion('kind', [
  /** The next matching firmware command answers `status` instead of running (default: once). */
  z.strictObject({
    kind: z.literal('firmware'),
    command: z.enum(FIRMWARE_COMMANDS),
    status: z.enum(FIRMWARE_STATUS_NAMES).refine((s) => s !== 'SUCCESS', 'an injected status must be a failure'),
    times: Times.optional(),
    /** Only this guest handle's commands match; any guest's when absent. */
    handle: z.number().int().nonnegative().optional(),
  }),
  /** getDomainCapabilities for this guest arch fails as when its QEMU binary is gone (default: always). */
  z.strictObject({ kind: z.literal('domcaps'), arch: z.string().min(1), times: Times.optional() }),
  /** kvm_amd loaded with this parameter (`kvm_amd.<param>=<value>` on the kernel command line). */
  z.strictObject({ kind: z.literal('kernelParam'), param: z.enum(KVM_AMD_PARAMS as [KvmAmdParam, ...KvmAmdParam[]]), value: z.enum(KERNEL_PARAM_VALUES) }),
  /** /dev/sev removed, or left in place but unopenable by QEMU (mode 0000; libvirt's probe still opens it). */
  z.strictObject({ kind: z.literal('devSev'), state: z.enum(['missing', 'eacces']) }),
  /** The RLIMIT_MEMLOCK QEMU starts with when the domain sets neither <locked/> nor <hard_limit>. */
  z.strictObject({ kind: z.literal('memlock'), limitKiB: z.number().int().nonnegative() }),
  /** libvirt's QEMU capability cache predates SEV: libvirt reports no SEV until it re-probes. */
  z.strictObject({ kind: z.literal('cacheStale') }),
  /** libvirt re-probes QEMU (cache file deleted, libvirtd restarted): its capabilities follow the host as it is now. */
  z.strictObject({ kind: z.literal('cacheRefresh') }),
]);

export type Fault = z.infer<typeof FaultSchema>;
export type FaultKind = Fault['kind'];
export type FirmwareFault = Extract<Fault, { kind: 'firmware' }>;
export type DomcapsFaultData = Extract<Fault, { kind: 'domcaps' }>;
/** Faults that answer matching calls and may be used up. */
export type RuleFault = FirmwareFault | DomcapsFaultData;
export type StateFault = Exclude<Fault, RuleFault>;

export const FAULT_KINDS = FaultSchema.options.map((o) => o.shape.kind.value) as readonly FaultKind[];

export function isRuleFault(f: Fault): f is RuleFault {
  return f.kind === 'firmware' || f.kind === 'domcaps';
}

/** Whether a fault changes the host's files (kvm_amd parameters, /proc/cmdline, /dev/sev). */
export function changesSysroot(f: Fault): boolean {
  return f.kind === 'kernelParam' || f.kind === 'devSev';
}

/** Validates untrusted fault data (JSON from the control socket); throws a readable error. */
export function parseFault(data: unknown): Fault {
  const r = FaultSchema.safeParse(data);
  if (r.success) return r.data;
  throw new FaultError(`invalid fault: ${r.error.issues.map((i) => `${i.path.join('.') || 'fault'}: ${i.message}`).join('; ')}`);
}

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

/** The factories: `fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 })`. */
export const fault = {
  firmware(command: FirmwareCommand, status: Exclude<FirmwareStatusName, 'SUCCESS'>, opts: { times?: Times; handle?: number } = {}): FirmwareFault {
    return parseFault({ kind: 'firmware', command, status, ...opts }) as FirmwareFault;
  },
  domcaps(arch: string, opts: { times?: Times } = {}): DomcapsFaultData {
    return parseFault({ kind: 'domcaps', arch, ...opts }) as DomcapsFaultData;
  },
  kernelParam(param: KvmAmdParam, value: KernelParamValue | boolean): Fault {
    return parseFault({ kind: 'kernelParam', param, value: typeof value === 'boolean' ? (value ? '1' : '0') : value });
  },
  devSev(state: 'missing' | 'eacces'): Fault {
    return parseFault({ kind: 'devSev', state });
  },
  memlock(limitKiB: number): Fault {
    return parseFault({ kind: 'memlock', limitKiB });
  },
  cacheStale(): Fault {
    return { kind: 'cacheStale' };
  },
  cacheRefresh(): Fault {
    return { kind: 'cacheRefresh' };
  },
} as const;

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
  const [a, b] = positional;
  const shapes: Record<string, () => Record<string, unknown>> = {
    firmware: () => ({ command: a, status: b }),
    domcaps: () => ({ arch: a }),
    kernelParam: () => ({ param: a, value: b }),
    devSev: () => ({ state: a }),
    memlock: () => ({ limitKiB: a !== undefined && /^\d+$/.test(a) ? Number(a) : a }),
    cacheStale: () => ({}),
    cacheRefresh: () => ({}),
  };
  const shape = shapes[kind];
  if (!shape) throw new FaultError(`unknown fault kind '${kind}' (known: ${FAULT_KINDS.join(', ')})`);
  const data = Object.fromEntries(Object.entries({ kind, ...shape(), ...options }).filter(([, v]) => v !== undefined));
  return parseFault(data);
}

/** One line for listings: `firmware LAUNCH_START RESOURCE_LIMIT times=1`. */
export function describeFault(f: Fault): string {
  const { kind, ...rest } = f;
  return [kind, ...Object.entries(rest).map(([k, v]) => (['times', 'handle'].includes(k) ? `${k}=${v}` : String(v)))].join(' ');
}
