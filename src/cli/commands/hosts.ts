/**
 * `sevharness hosts`: boots small SEV and SEV-ES guests on every hardware profile's fake host until
 * the host refuses one, and prints what each host allowed and why it stopped. A quick look at the
 * whole fake without any driver.
 */
import { FakeHost } from '../../../fakelibvirt/host/fake-host.ts';
import { allProfiles, loadProfile } from '../../../fakelibvirt/profile/load.ts';
import { isLibvirtError } from '../../libvirt/errors.ts';
import type { Command } from '../command.ts';

const GUEST_KIB = 65536;

function guestXml(name: string, policy: string, host: FakeHost): string {
  const sev = host.sevView;
  // libvirt before 6.9 requires cbitpos and reducedPhysBits in the XML.
  const bits = sev ? `<cbitpos>${sev.cbitpos}</cbitpos><reducedPhysBits>${sev.reducedPhysBits}</reducedPhysBits>` : '';
  return `<domain type='kvm'><name>${name}</name><memory unit='KiB'>${GUEST_KIB}</memory><vcpu>1</vcpu>
<memoryBacking><locked/></memoryBacking>
<os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>
<devices><disk type='file' device='disk'><target dev='sda' bus='sata'/></disk></devices>
<launchSecurity type='sev'>${bits}<policy>${policy}</policy></launchSecurity></domain>`;
}

/** Starts guests with `policy` until one fails; returns how many ran and the first error. */
function fill(host: FakeHost, prefix: string, policy: string, limit: number): { started: number; stop: string } {
  for (let i = 0; i < limit; i++) {
    try {
      host.create(host.defineXML(guestXml(`${prefix}${i}`, policy, host)));
    } catch (e) {
      if (!isLibvirtError(e)) throw e;
      return { started: i, stop: e.message.split('\n').at(-2) ?? e.message };
    }
  }
  return { started: limit, stop: '' };
}

const shorten = (s: string) => s.replace(/^.*qemu-system-x86_64: (-accel kvm: )?/, '').replace(/^unsupported configuration: /, '');

export const hostsCommand: Command = {
  name: 'hosts',
  summary: 'boot SEV and SEV-ES guests on each profile until the host refuses one',
  usage: '[--profile P]',
  options: { profile: { type: 'string' } },
  run(values, _positionals, io) {
    const names = typeof values.profile === 'string' ? [values.profile] : [...allProfiles().keys()];
    const rows: string[][] = [['profile', 'domcaps SEV', 'SEV guests', 'SEV-ES guests', 'stopped by']];
    for (const name of names) {
      const host = new FakeHost(loadProfile(name));
      const sev = host.sevView;
      const caps = sev ? `${sev.maxGuests}/${sev.maxESGuests}` : 'no';
      const plain = fill(host, 'sev', '0x0033', 2048);
      const es = fill(host, 'es', '0x0037', 2048);
      rows.push([name, caps, String(plain.started), String(es.started), shorten(plain.stop || es.stop)]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) io.out(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
    return 0;
  },
};
