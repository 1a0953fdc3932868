/** The shape of a CLI subcommand: its options (node:util parseArgs) and what it does. */
import type { ParseArgsConfig } from 'node:util';

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
