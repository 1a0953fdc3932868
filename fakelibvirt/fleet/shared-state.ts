/**
 * The pristine runtime state of a host (control/host-state.ts) is a pure fold of its profile and
 * module parameters into immutable values: every host built from the same profile object without
 * parameters of its own starts from the same one. A fleet of ten thousand hosts derives it once
 * per profile instead of once per host (its platform identity hashes are most of a host's build).
 */
import { pristineState, type HostRuntimeState } from '../control/host-state.ts';
import type { KernelParamOverrides } from '../profile/derive.ts';
import type { HardwareProfile } from '../profile/schema.ts';

const byProfile = new WeakMap<HardwareProfile, HostRuntimeState>();

export function sharedPristineState(profile: HardwareProfile, kernelOverrides: KernelParamOverrides = {}): HostRuntimeState {
  if (Object.keys(kernelOverrides).length > 0) return pristineState(profile, kernelOverrides);
  let s = byProfile.get(profile);
  if (!s) byProfile.set(profile, (s = pristineState(profile, {})));
  return s;
}
