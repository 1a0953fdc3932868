/** Shared set-up for driver tests: a FakeHost per profile with its sysroot files and a detected report. */
import { join } from 'node:path';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import { materializeSysroot, sysrootFiles } from '../../fakelibvirt/views/sysroot.ts';
import { detectHost, type DriverConfig, type HostReport } from '../../src/driver/detect.ts';
import { FakeHostSource } from '../../conformance/fake-host-source.ts';
import { MapFiles, SysrootFiles } from '../../src/driver/host-source.ts';
import type { Flavor, Image } from '../../src/driver/request.ts';

export function filesOf(host: FakeHost, edit?: (m: Map<string, string>) => void): MapFiles {
  const m = new Map([...sysrootFiles(host.profile, host.kernel)].map(([k, v]) => [k, v.content] as const));
  edit?.(m);
  return new MapFiles(m);
}

/** The host's files written to disk under `dir`/root, read as a driver on a real host reads them. */
export function sysrootOf(host: FakeHost, dir: string): SysrootFiles {
  const root = join(dir, 'root');
  materializeSysroot(host.profile, host.kernel, root);
  return new SysrootFiles(root);
}

export async function setup(profile: string, config: DriverConfig = { hw_machine_type: { x86_64: 'q35' } }, edit?: (m: Map<string, string>) => void) {
  const host = new FakeHost(loadProfile(profile));
  const source = new FakeHostSource(host);
  const files = filesOf(host, edit);
  const report: HostReport = await detectHost(source, files, config);
  return { host, source, files, report };
}

export const profileNames = [...allProfiles().keys()];

export const sevFlavor = (extra: Record<string, string> = { 'hw:mem_encryption': 'true' }): Flavor => ({ name: 'm1.sev', vcpus: 2, memory_mb: 2048, extra_specs: extra });
export const plainFlavor: Flavor = { name: 'm1.small', vcpus: 1, memory_mb: 1024, extra_specs: {} };
export const uefiImage = (props: Record<string, string | boolean> = {}, extra: Partial<Image> = {}): Image => ({
  id: '150d530b-1c57-4367-b754-1f1b5237923d',
  name: 'fake_image',
  properties: { hw_firmware_type: 'uefi', ...props },
  ...extra,
});
