/**
 * The placement workload the scheduler benches share: a synthetic fleet (40% plain, 40% SEV, 20%
 * SEV + SEV-ES hosts) and a guest mix (70% plain, 25% SEV, 5% SEV-ES) placed one per iteration,
 * releasing the oldest once 5,000 are live so the fleet stays loaded but never fills.
 */
import { poolKey } from '../src/driver/inventory.ts';
import type { BaseScheduler, Demand, HostSpec } from '../src/driver/scheduler.ts';

export const SEV = poolKey('amd-sev');
export const ES = poolKey('amd-sev-es');

export function syntheticHostSpecs(n: number): HostSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const kind = i % 10;
    const traits = kind < 4 ? [] : kind < 8 ? ['HW_CPU_X86_AMD_SEV'] : ['HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_ES'];
    const capacity: Record<string, number> = { MEMORY_MB: 262_144 + (i % 7) * 32_768, VCPU: 128 };
    if (kind >= 4) capacity[SEV] = 253 + (i % 5);
    if (kind >= 8) capacity[ES] = 8;
    return { id: `host-${i}`, traits, capacity };
  });
}

const DEMANDS: readonly Demand[] = [
  ...Array.from({ length: 14 }, () => ({ resources: { MEMORY_MB: 2048, VCPU: 2 }, requiredTraits: [] })),
  ...Array.from({ length: 5 }, () => ({ resources: { MEMORY_MB: 4096, VCPU: 2, [SEV]: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV'] })),
  { resources: { MEMORY_MB: 4096, VCPU: 4, [ES]: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV_ES'] },
];

/** A bench task: each call places the next guest of the mix on `s`, releasing the oldest past 5,000. */
export function placementLoop(s: BaseScheduler, hosts: readonly HostSpec[]): () => void {
  for (const h of hosts) s.addHost(h);
  let n = 0;
  let oldest = 0;
  return () => {
    s.place(`vm-${n}`, DEMANDS[n % DEMANDS.length]!);
    n++;
    if (n - oldest > 5_000) s.release(`vm-${oldest++}`);
  };
}
