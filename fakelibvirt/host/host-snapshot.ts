/** A look inside a fake host for tests: kernel state, ASIDs in use, pinned memory and each guest's state. */
import { DomainState } from '../libvirt/states.ts';
import type { KernelSevState } from '../profile/derive.ts';
import type { HostContext } from './host-context.ts';

export interface HostSnapshot {
  readonly profile: string;
  readonly kernel: KernelSevState;
  readonly sevVisibleToLibvirt: boolean;
  readonly asids: { readonly inUse: ReadonlyArray<{ asid: number; kind: string; domain: string }>; readonly flushes: number };
  readonly pinnedKiB: number;
  readonly guests: ReadonlyArray<{
    name: string;
    state: string;
    asid?: number;
    firmwareState?: string;
    policy?: string;
    pinnedKiB: number;
    faults: readonly string[];
  }>;
}

export function hostSnapshot(ctx: HostContext): HostSnapshot {
  const { qemu, firmware } = ctx;
  const inUse = qemu.all().flatMap((g) => (g.sev ? [{ asid: g.sev.asid, kind: g.sev.kind, domain: g.name }] : []));
  return {
    profile: ctx.profile.name,
    kernel: ctx.kernel,
    sevVisibleToLibvirt: ctx.sevCache !== null,
    asids: { inUse: inUse.sort((a, b) => a.asid - b.asid), flushes: ctx.asids?.flushCount ?? 0 },
    pinnedKiB: qemu.totalPinnedKiB(),
    guests: ctx.domains.all().map((o) => {
      const g = o.runtime;
      const fwState = g?.sev && firmware ? firmware.guestStatus(g.sev.handle).state : undefined;
      return {
        name: o.def.name,
        state: o.state === DomainState.RUNNING ? 'running' : o.state === DomainState.PAUSED ? 'paused' : 'shut off',
        ...(g?.sev && { asid: g.sev.asid, policy: `0x${g.sev.policy.toString(16)}` }),
        ...(fwState !== undefined && { firmwareState: fwState }),
        pinnedKiB: g?.pinnedKiB ?? 0,
        faults: g?.faults.map((f) => f.code) ?? [],
      };
    }),
  };
}
