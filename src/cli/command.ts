/** The shape of a CLI subcommand: its options (node:util parseArgs) and what it does. */
import type { ParseArgsConfig } from 'node:util';
import { packageVersion } from '../fs/package-files.ts';

/** The package's version, as `sevharness --version` prints it. */
export const VERSION: string = packageVersion();

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line after `sevharness <name>`. */
  readonly usage: string;
  readonly options: OptionSpec;
  /** The command takes positional arguments (most take options only). */
  readonly positionals?: boolean;
  /** More than the summary for `sevharness <name> --help`: what the options mean, examples. */
  readonly help?: string;
  run(values: ParsedValues, positionals: readonly string[], io: CliIo): Promise<number> | number;
}

/** A mistake in how the command was called: printed with usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function requireString(values: ParsedValues, key: string): string {
  const v = values[key];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${key} is required`);
  return v;
}

export function optionalString(values: ParsedValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/** Whether an argument list asks for the command's help (`--help` / `-h` before any `--`). */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** `sevharness <name> --help`: summary, usage, every option with its kind, and the command's own help text. */
export function commandHelp(cmd: Command): string {
  const opts = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    return `  ${flag}${o.multiple ? '  (repeatable)' : ''}`;
  });
  return [
    `sevharness ${cmd.name}: ${cmd.summary}`,
    '',
    `usage: sevharness ${cmd.name} ${cmd.usage}`.trimEnd(),
    '',
    'options:',
    ...opts,
    '  -h, --help        show this help',
    ...(cmd.help ? ['', cmd.help.trimEnd()] : []),
    '',
  ].join('\n');
}
