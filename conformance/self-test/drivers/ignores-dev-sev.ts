/**
 * Detection that never looks at /dev/sev: SEV is "on" when the kernel parameter and libvirt's domain
 * capabilities say so, as nova does. Modelled as the stock driver given host files that report a
 * usable /dev/sev (mode 0600) whatever is there; detection then runs unchanged.
 *
 * Who catches it: a host whose /dev/sev QEMU cannot open while libvirt still advertises SEV.
 * faults.dev-sev-unopenable (mode 0000) does that on every SEV host: libvirt only checks that the
 * node exists. faults.dev-sev-missing does it only where libvirt is older than 6.5 (naples-7001):
 * newer libvirt notices the node is gone, re-probes and drops <sev>, so there the driver is right
 * by luck (rome-7002, libvirt 8.0, is that control).
 */
import { DEV_SEV, type HostFiles, ReferenceSevDriver } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

class DevSevAssumedUsable implements HostFiles {
  constructor(private readonly real: HostFiles) {}
  readText(relPath: string): string | null {
    return this.real.readText(relPath);
  }
  mode(relPath: string): number | null {
    return relPath === DEV_SEV ? 0o600 : this.real.mode(relPath);
  }
}

export const IGNORES_DEV_SEV: BrokenDriverSpec = {
  name: 'ignores-dev-sev',
  bug: 'treats SEV as on whenever the kernel parameter and domain capabilities say so, never checking that QEMU can open /dev/sev',
  variant: (h) => new ReferenceSevDriver(h.libvirt, new DevSevAssumedUsable(h.files), h.config),
  runs: [
    { profiles: ['milan-7003-es8', 'intel-xeon'] },
    { profiles: ['naples-7001', 'rome-7002'], cases: ['detect', 'faults'] },
  ],
  expectedFailures: [
    {
      cases: ['faults.dev-sev-unopenable'],
      profiles: ['milan-7003-es8', 'naples-7001', 'rome-7002'],
      why: 'libvirt keeps reporting SEV for a /dev/sev QEMU cannot open (it checks existence only)',
    },
    {
      cases: ['faults.dev-sev-missing'],
      profiles: ['naples-7001'],
      why: 'libvirt 6.0 never re-checks /dev/sev and keeps its cached <sev>',
    },
  ],
};
