/**
 * Detection that never reads the kvm_amd `sev` parameter: SEV is "on" whenever libvirt's domain
 * capabilities say `<sev supported='yes'>`. Modelled as the stock driver given host-file reads that
 * answer "on" for that one file; detection then runs unchanged.
 *
 * Who catches it: only a host where the kernel says off while libvirt still advertises SEV. libvirt
 * ≥ 6.5 re-probes when kvm_amd is reloaded, so there domcaps lose SEV too and this driver is right by
 * luck. libvirt 6.0 (naples-7001) keeps its cached `<sev>`: after `kvm_amd.sev=0` and a restart the
 * driver still reports SEV — caught by detect.redetect-after-restart and faults.kernel-param-off.
 * rome-7002-sev-off (kernel off from boot) does not catch it: QEMU's probe fails there, so libvirt
 * shows no SEV either. milan-7003-253 (libvirt 8.0) is the control that re-probes.
 */
import { type HostFiles, KVM_AMD_PARAM_DIR, ReferenceSevDriver } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

const SEV_PARAM = `${KVM_AMD_PARAM_DIR}/sev`;

class SevParamAssumedOn implements HostFiles {
  constructor(private readonly real: HostFiles) {}
  readText(relPath: string): string | null {
    return relPath === SEV_PARAM ? 'Y\n' : this.real.readText(relPath);
  }
  mode(relPath: string): number | null {
    return this.real.mode(relPath);
  }
}

export const IGNORES_KERNEL_PARAM: BrokenDriverSpec = {
  name: 'ignores-kernel-param',
  bug: 'treats SEV as on whenever domain capabilities report it, never reading the kvm_amd sev parameter',
  variant: (h) => new ReferenceSevDriver(h.libvirt, new SevParamAssumedOn(h.files), h.config),
  runs: [
    { profiles: ['naples-7001', 'rome-7002-sev-off'] },
    { profiles: ['milan-7003-253'], cases: ['detect', 'inventory', 'faults'] },
  ],
  expectedFailures: [
    {
      cases: ['detect.redetect-after-restart', 'faults.kernel-param-off'],
      profiles: ['naples-7001'],
      why: 'libvirt 6.0 still advertises SEV after kvm_amd.sev=0; only the kernel parameter says it is gone',
    },
  ],
};
