/** Every deliberately broken driver, in the order the README lists them. */
import { CBITPOS_FROM_CPU_TABLE } from './drivers/cbitpos-from-cpu-table.ts';
import { HARDCODED_CBITPOS } from './drivers/hardcoded-cbitpos.ts';
import { IGNORES_ALLOCATIONS } from './drivers/ignores-allocations.ts';
import { IGNORES_DEV_SEV } from './drivers/ignores-dev-sev.ts';
import { IGNORES_KERNEL_PARAM } from './drivers/ignores-kernel-param.ts';
import { NO_IOMMU } from './drivers/no-iommu.ts';
import { NO_LIFECYCLE_GUARD } from './drivers/no-lifecycle-guard.ts';
import { OVERREPORTS_SEV_SLOTS } from './drivers/overreports-sev-slots.ts';
import { SILENT_PLAIN_GUEST } from './drivers/silent-plain-guest.ts';
import { STRICT_ARCH_WALK } from './drivers/strict-arch-walk.ts';
import { UNLIMITED_SLOTS } from './drivers/unlimited-slots.ts';
import { WEAK_POLICY_DRIVER } from './drivers/weak-policy.ts';
import { unionRuns } from './runs.ts';
import type { BrokenDriverSpec, SelfTestRun } from './types.ts';

export const BROKEN_DRIVERS: readonly BrokenDriverSpec[] = [
  IGNORES_KERNEL_PARAM, HARDCODED_CBITPOS, NO_IOMMU, UNLIMITED_SLOTS, NO_LIFECYCLE_GUARD, WEAK_POLICY_DRIVER, SILENT_PLAIN_GUEST, STRICT_ARCH_WALK,
  CBITPOS_FROM_CPU_TABLE, OVERREPORTS_SEV_SLOTS, IGNORES_DEV_SEV, IGNORES_ALLOCATIONS,
];

export { CORRECT_VARIANTS, type CorrectVariantSpec } from './correct/variants.ts';

/** Everything any broken driver is judged on: where the reference driver must fail nothing. */
export function selfTestRuns(): SelfTestRun[] {
  return unionRuns(BROKEN_DRIVERS);
}

export type { BrokenDriverSpec, FailureGroup, SelfTestRun } from './types.ts';
