/** Every derived host view of a profile, computed once with the profile's own cache state. */
import type { HardwareProfile } from '../profile/schema.ts';
import { deriveKernel, type KernelParamOverrides, type KernelSevState } from '../profile/derive.ts';
import { profileSevView, type LibvirtSevView } from './libvirt-sev.ts';

export interface HostViews {
  readonly profile: HardwareProfile;
  readonly kernel: KernelSevState;
  readonly sev: LibvirtSevView | null;
}

export function hostViews(profile: HardwareProfile, overrides: KernelParamOverrides = {}): HostViews {
  const kernel = deriveKernel(profile, overrides);
  return { profile, kernel, sev: profileSevView(profile, kernel) };
}

export { capabilitiesXml } from './capabilities.ts';
export { domainCapabilitiesXml, resolveDomainCapsQuery, type DomainCapsQuery } from './domain-capabilities.ts';
export { libvirtSevView, profileSevView, type LibvirtSevView } from './libvirt-sev.ts';
export { nodeSevInfo, formatNodeSevInfo, noSevError } from './sev-info.ts';
export { nodeInfo, freeMemoryBytes } from './node-info.ts';
export { materializeSysroot, sysrootFiles } from './sysroot.ts';
export { cpuinfoFlags, formatCpuinfo } from './cpuinfo.ts';
export { platformIdentity } from './platform-identity.ts';
