/** `sevharness domcapabilities --profile P [...]`: what `virsh domcapabilities` prints. */
import { domainCapabilitiesXml } from '../../../fakelibvirt/views/index.ts';
import { optionalString, type Command } from '../command.ts';
import { PROFILE_OPTION, profileViews } from '../profile-arg.ts';

export const domcapabilitiesCommand: Command = {
  name: 'domcapabilities',
  summary: 'print the domain capabilities XML (virsh domcapabilities)',
  usage: '--profile P [--emulatorbin E] [--arch A] [--machine M] [--virttype T]',
  options: {
    ...PROFILE_OPTION,
    emulatorbin: { type: 'string' },
    arch: { type: 'string' },
    machine: { type: 'string' },
    virttype: { type: 'string' },
  },
  run(values, _positionals, io) {
    const v = profileViews(values);
    io.out(
      domainCapabilitiesXml(v.profile, v.sev, {
        emulatorbin: optionalString(values, 'emulatorbin') ?? null,
        arch: optionalString(values, 'arch') ?? null,
        machine: optionalString(values, 'machine') ?? null,
        virttype: optionalString(values, 'virttype') ?? null,
      }),
    );
    return 0;
  },
};
