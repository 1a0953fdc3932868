/**
 * Which driver to judge: `ref` (the reference driver in-process), a module path (its default export
 * is a driver or a factory of drivers), or a command line of an executable speaking PROTOCOL.md.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SevDriver } from '../contract.ts';
import { RunnerUsageError } from './outcomes.ts';

/**
 * Makes a fresh driver: at the start of a run, and again for every `restart-driver`. `prestart`:
 * starting one takes long (a process), so the runner starts the next one as soon as the last has
 * stopped instead of when it is first needed.
 */
export type DriverFactory = (() => Promise<SevDriver>) & { readonly prestart?: boolean };

const MODULE_PATH = /\.(m?js|ts)$/;

/** The methods every driver has; the other operations are optional (PROTOCOL.md). */
const REQUIRED_METHODS = ['describe', 'reportHost'] as const;

export function isSevDriver(x: unknown): x is SevDriver {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Record<string, unknown>;
  return REQUIRED_METHODS.every((k) => typeof d[k] === 'function');
}

/** Splits a command line as a POSIX shell would for plain words, quotes and backslashes (no expansion). */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 < line.length) word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new RunnerUsageError(`unterminated ${quote} quote in driver command: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/** What a would-be driver object lacks, for the refusal message. */
function missingMembers(x: unknown): string {
  if (typeof x !== 'object' || x === null) return `it is ${x === null ? 'null' : typeof x}`;
  const d = x as Record<string, unknown>;
  const missing = REQUIRED_METHODS.filter((k) => typeof d[k] !== 'function');
  return `it has no ${missing.map((k) => `${k}()`).join(' and no ')}`;
}

/** The factory a module's default export stands for: a driver (shared), or a function making one. */
export function factoryFromExport(exported: unknown, source: string): DriverFactory {
  if (isSevDriver(exported)) return async () => exported;
  if (typeof exported === 'function') {
    return async () => {
      const made: unknown = await (exported as () => unknown)();
      if (!isSevDriver(made)) throw new Error(`${source}: the default export's result is not a SevDriver: ${missingMembers(made)}`);
      return made;
    };
  }
  throw new RunnerUsageError(`${source}: the default export is neither a SevDriver nor a function returning one: ${missingMembers(exported)}`);
}

/**
 * Imports a driver module. A TypeScript one under plain Node (the checkout's bundled CLI, which
 * registers no loader) goes through tsx's tsImport, which loads that module's graph alone; where
 * TypeScript imports natively (tsx registered, vitest) it is imported as any module.
 */
async function importDriverModule(file: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as { default?: unknown };
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && e.code === 'ERR_UNKNOWN_FILE_EXTENSION')) throw e;
    const tsx = await import('tsx/esm/api').catch(() => null);
    if (tsx === null) throw e;
    return (await tsx.tsImport(url, import.meta.url)) as { default?: unknown };
  }
}

/** Resolves a `--driver` value into a driver factory. */
export async function resolveDriverSpec(spec: string, cwd: string = process.cwd()): Promise<DriverFactory> {
  const trimmed = spec.trim();
  if (trimmed === '') throw new RunnerUsageError('the driver spec is empty');
  if (trimmed === 'ref') {
    const { createReferenceDriver } = await import('../adapters/reference.ts');
    return async () => createReferenceDriver();
  }
  if (MODULE_PATH.test(trimmed) && !/\s/.test(trimmed)) {
    const file = resolve(cwd, trimmed);
    if (!existsSync(file)) throw new RunnerUsageError(`driver module not found: ${file}`);
    let mod: { default?: unknown };
    try {
      mod = await importDriverModule(file);
    } catch (e) {
      throw new RunnerUsageError(`driver module ${trimmed} failed to load: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    return factoryFromExport(mod.default, trimmed);
  }
  const argv = splitCommandLine(trimmed);
  const { startProcessDriver } = await import('../adapters/process.ts');
  return Object.assign(() => startProcessDriver(argv, { cwd }), { prestart: true });
}
