/** `sevharness sysroot --profile P --dir D`: write the host's kernel-facing files under D. */
import { resolve } from 'node:path';
import { materializeSysroot } from '../../../fakelibvirt/views/index.ts';
import { requireString, type Command } from '../command.ts';
import { PROFILE_OPTION, profileViews } from '../profile-arg.ts';

export const sysrootCommand: Command = {
  name: 'sysroot',
  summary: 'write sysfs/procfs/dev files of the host into a directory',
  usage: '--profile P --dir D',
  options: { ...PROFILE_OPTION, dir: { type: 'string', short: 'd' } },
  run(values, _positionals, io) {
    const v = profileViews(values);
    const dir = resolve(requireString(values, 'dir'));
    const manifest = materializeSysroot(v.profile, v.kernel, dir);
    io.out(manifest.entries.map((e) => `${e.mode} ${e.owner}:${e.group} ${e.kind.padEnd(7)} ${e.path}\n`).join(''));
    return 0;
  },
};
