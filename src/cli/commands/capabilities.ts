/** `sevharness capabilities --profile P`: what `virsh capabilities` prints on that host. */
import { capabilitiesXml } from '../../../fakelibvirt/views/index.ts';
import type { Command } from '../command.ts';
import { PROFILE_OPTION, profileViews } from '../profile-arg.ts';

export const capabilitiesCommand: Command = {
  name: 'capabilities',
  summary: 'print the host capabilities XML (virsh capabilities)',
  usage: '--profile P',
  options: PROFILE_OPTION,
  run(values, _positionals, io) {
    const v = profileViews(values);
    io.out(capabilitiesXml(v.profile, v.kernel));
    return 0;
  },
};
