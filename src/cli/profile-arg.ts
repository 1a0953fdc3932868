/**
 * Resolving profile arguments: `--profile` (a bundled name, a `.json` file or a generated host's
 * name `gen-SEED-I`) into the profile and its derived views, and `conformance --profiles` (a comma
 * list of those plus `generated:N[:SEED]`) into the names the runner takes.
 */
import { existsSync } from 'node:fs';
import {
  DEFAULT_GENERATED_COUNT,
  DEFAULT_GENERATED_SEED,
  expandGeneratedSpec,
  GeneratedSpecError,
  generatedProfile,
  isGeneratedName,
} from '../../fakelibvirt/profile/generate.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import type { HardwareProfile } from '../../fakelibvirt/profile/schema.ts';
import { hostViews, type HostViews } from '../../fakelibvirt/views/index.ts';
import { UsageError, requireString, type ParsedValues } from './command.ts';

const known = (): string => `known: ${[...allProfiles().keys()].join(', ')}; or a .json file, or a generated host gen-SEED-I`;

/** One profile by reference; a name that is none of the three forms is a usage error. */
export function resolveProfile(ref: string): HardwareProfile {
  const generated = generatedProfile(ref);
  if (generated) return generated;
  if (!ref.endsWith('.json') && !allProfiles().has(ref)) throw new UsageError(`unknown profile: ${ref} (${known()})`);
  if (ref.endsWith('.json') && !existsSync(ref)) throw new UsageError(`profile file not found: ${ref}`);
  return loadProfile(ref);
}

export function profileViews(values: ParsedValues): HostViews {
  return hostViews(resolveProfile(requireString(values, 'profile')));
}

export const PROFILE_OPTION = { profile: { type: 'string', short: 'p' } } as const;

/** What `conformance` judges without `--profiles`: every bundled profile and a few generated hosts of a fixed seed. */
export function defaultConformanceProfiles(): string[] {
  return [...allProfiles().keys(), `generated:${DEFAULT_GENERATED_COUNT}:${DEFAULT_GENERATED_SEED}`];
}

/**
 * `--profiles a,b,…` as the runner's names, `generated:N[:SEED]` expanded; profile files are read
 * now, so a bad one is reported before anything runs (as a ProfileError naming the field).
 */
export function conformanceProfiles(items: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    let expanded: string[] | null;
    try {
      expanded = expandGeneratedSpec(item);
    } catch (e) {
      if (e instanceof GeneratedSpecError) throw new UsageError(`--profiles: ${e.message}`);
      throw e;
    }
    if (expanded) {
      out.push(...expanded);
      continue;
    }
    if (!isGeneratedName(item)) resolveProfile(item);
    out.push(item);
  }
  return [...new Set(out)];
}
