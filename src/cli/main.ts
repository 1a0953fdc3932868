/**
 * The `sevharness` command line. Subcommands live in `commands/`, one module each; adding one is a
 * new module plus a row in COMMANDS.
 */
import { parseArgs } from 'node:util';
import { SocketPathError } from '../../fakelibvirt/daemon/server.ts';
import { ProfileError } from '../../fakelibvirt/profile/load.ts';
import { UnsafePathError } from '../fs/own-files.ts';
import { isLibvirtError } from '../libvirt/errors.ts';
import { asksForHelp, commandHelp, UsageError, VERSION, type CliIo, type Command } from './command.ts';
import { capabilitiesCommand } from './commands/capabilities.ts';
import { conformanceCommand } from './commands/conformance.ts';
import { ctlCommand } from './commands/ctl.ts';
import { doctorCommand } from './commands/doctor.ts';
import { hostsCommand } from './commands/hosts.ts';
import { domcapabilitiesCommand } from './commands/domcapabilities.ts';
import { nodesevinfoCommand } from './commands/nodesevinfo.ts';
import { profilesCommand } from './commands/profiles.ts';
import { realLibvirtCommand } from './commands/real-libvirt.ts';
import { serveCommand } from './commands/serve.ts';
import { sessionCommand } from './commands/session.ts';
import { sysrootCommand } from './commands/sysroot.ts';
import { verifyCommand } from './commands/verify.ts';

export const COMMANDS: readonly Command[] = [
  profilesCommand,
  hostsCommand,
  capabilitiesCommand,
  domcapabilitiesCommand,
  nodesevinfoCommand,
  sysrootCommand,
  serveCommand,
  ctlCommand,
  conformanceCommand,
  doctorCommand,
  realLibvirtCommand,
  sessionCommand,
  verifyCommand,
];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 4);
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n      sevharness ${c.name} ${c.usage}`.trimEnd());
  return `usage: sevharness <command> [options]\n       sevharness <command> --help\n       sevharness --version\n\ncommands:\n${lines.join('\n')}\n  ${'help'.padEnd(width)}  show this help (help <command>: that command's)\n`;
}

const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** A failed system call (EACCES, ENOTDIR, EADDRINUSE, …): its message names the call and the path. */
function isSystemError(e: unknown): e is Error {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { syscall?: unknown }).syscall === 'string';
}

/** Runs one CLI invocation; returns the exit status (2 for usage errors). */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`sevharness ${VERSION}\n`);
    return 0;
  }
  if (name === 'help' && rest[0] !== undefined) return main([rest[0], '--help'], io);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(helpText());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`sevharness: unknown command '${name}'\n\n${helpText()}`);
    return 2;
  }
  if (asksForHelp(rest)) {
    io.out(commandHelp(cmd));
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: cmd.options, allowPositionals: cmd.positionals === true, strict: true });
    return await cmd.run(values, positionals, io);
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      io.err(`sevharness ${cmd.name}: ${e.message}\nusage: sevharness ${cmd.name} ${cmd.usage}\n`);
      return 2;
    }
    if (isLibvirtError(e) || e instanceof ProfileError || e instanceof SocketPathError || e instanceof UnsafePathError || isSystemError(e)) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
