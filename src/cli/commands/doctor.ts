/**
 * `sevharness doctor`: whether this host (or a fake host's sysroot and URI) can run SEV guests,
 * check by check with what was found and how to fix it. Exit 0 when it can, 1 when it cannot (each
 * reason printed), 2 on usage errors.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { doctorLibvirt, formatDoctor, runDoctor } from '../../../conformance/real/doctor.ts';
import { sysrootTree } from '../../../conformance/real/host-files.ts';
import { parseUri, UriError } from '../../libvirt/uri.ts';
import { optionalString, UsageError, type Command } from '../command.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check whether a host can run SEV guests: each check with what was found and how to fix it',
  usage: '[--uri qemu:///system] [--sysroot /] [--json]',
  options: {
    uri: { type: 'string' },
    sysroot: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const uri = optionalString(values, 'uri') ?? 'qemu:///system';
    try {
      parseUri(uri);
    } catch (e) {
      if (e instanceof UriError) throw new UsageError(`--uri: ${e.message}`);
      throw e;
    }
    const root = resolve(optionalString(values, 'sysroot') ?? '/');
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`--sysroot ${root} is not a directory`);
    const tree = sysrootTree(root);
    const report = runDoctor({ tree, libvirt: await doctorLibvirt(uri, tree) });
    if (values.json === true) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else io.out(formatDoctor(report, `sevharness doctor: host files under ${root}, libvirt at ${uri}`));
    return report.ready ? 0 : 1;
  },
};
