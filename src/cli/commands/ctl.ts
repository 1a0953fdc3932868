/**
 * `sevharness ctl`: the control socket of `serve --control PATH` from a shell script. Faults are
 * named as in code (`use devSev missing`, `use firmware LAUNCH_START RESOURCE_LIMIT times=1`,
 * `use kernelParam sev N`); `reset` undoes them, `reset-host` also drops guests, definitions and
 * secrets, `list` shows the handlers, `inspect` prints the host's inside view as JSON.
 */
import { ControlClient, ControlError } from '../../../fakelibvirt/control/client.ts';
import { FAULT_KINDS, FaultError, faultFromWords } from '../../../fakelibvirt/control/fault.ts';
import type { HandlerInfo } from '../../../fakelibvirt/control/host-control.ts';
import { optionalString, requireString, UsageError, type CliIo, type Command } from '../command.ts';

const VERBS = ['use', 'reset', 'reset-host', 'list', 'inspect'] as const;

function printHandlers(handlers: readonly HandlerInfo[], json: boolean, io: CliIo): void {
  if (json) {
    io.out(`${JSON.stringify(handlers)}\n`);
    return;
  }
  for (const h of handlers) {
    const left = h.remaining === null ? 'until reset' : h.used ? 'used' : `${h.remaining} left`;
    io.out(`${h.id}\t${h.description}\t(${left})\n`);
  }
}

export const ctlCommand: Command = {
  name: 'ctl',
  summary: 'inject faults into and look inside hosts served with `serve --control PATH`',
  usage: `--control PATH [--host NAME] [--json] ${VERBS.join(' | ')}  (use KIND ARGS… [times=N] [handle=N]; kinds: ${FAULT_KINDS.join(', ')})`,
  positionals: true,
  options: {
    control: { type: 'string', short: 'c' },
    host: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    const client = new ControlClient(requireString(values, 'control'), optionalString(values, 'host'));
    const [verb, ...args] = positionals;
    const json = values.json === true;
    try {
      switch (verb) {
        case 'use': {
          const [kind, ...rest] = args;
          if (kind === undefined) throw new UsageError(`use needs a fault kind (${FAULT_KINDS.join(', ')})`);
          printHandlers(await client.use(faultFromWords(kind, rest)), json, io);
          return 0;
        }
        case 'reset':
          await client.resetHandlers();
          return 0;
        case 'reset-host':
          await client.reset();
          return 0;
        case 'list':
          printHandlers(await client.listHandlers(), json, io);
          return 0;
        case 'inspect':
          io.out(`${JSON.stringify(await client.inspect(), null, json ? 0 : 2)}\n`);
          return 0;
        default:
          throw new UsageError(verb === undefined ? `a verb is required: ${VERBS.join(', ')}` : `unknown verb '${verb}' (${VERBS.join(', ')})`);
      }
    } catch (e) {
      if (e instanceof FaultError) throw new UsageError(e.message);
      if (e instanceof ControlError) {
        io.err(`error: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
