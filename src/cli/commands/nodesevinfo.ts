/** `sevharness nodesevinfo --profile P`: virsh's `%-18s: %s` rendering of virNodeGetSEVInfo. */
import { formatNodeSevInfo, nodeSevInfo } from '../../../fakelibvirt/views/index.ts';
import { isLibvirtError } from '../../libvirt/errors.ts';
import type { Command } from '../command.ts';
import { PROFILE_OPTION, profileViews } from '../profile-arg.ts';

export const nodesevinfoCommand: Command = {
  name: 'nodesevinfo',
  summary: 'print the host SEV information (virsh nodesevinfo)',
  usage: '--profile P',
  options: PROFILE_OPTION,
  run(values, _positionals, io) {
    const v = profileViews(values);
    try {
      io.out(formatNodeSevInfo(nodeSevInfo(v.profile, v.sev)));
      return 0;
    } catch (e) {
      if (!isLibvirtError(e)) throw e;
      // virsh prints its own summary before the driver's error.
      io.err(`error: Unable to get host SEV information\nerror: ${e.message}\n`);
      return 1;
    }
  },
};
