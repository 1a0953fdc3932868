/** Choosing cases and profiles by name: `--cases detect,xml.launch-security`, `--profiles rome-7002`. */
import { CASES } from '../catalogue/index.ts';
import { AREAS, type Case } from '../catalogue/types.ts';
import { expandGeneratedSpec, GeneratedSpecError, isGeneratedName } from '../../fakelibvirt/profile/generate.ts';
import { RunnerUsageError } from './outcomes.ts';

/** The cases named by id or area, in catalogue order; all when no filter is given. */
export function selectCases(filters: readonly string[] | undefined, all: readonly Case[] = CASES): readonly Case[] {
  if (!filters || filters.length === 0) return all;
  const unknown = filters.filter((f) => !(AREAS as readonly string[]).includes(f) && !all.some((c) => c.id === f));
  if (unknown.length) {
    throw new RunnerUsageError(`unknown case or area: ${unknown.join(', ')} (areas: ${AREAS.join(', ')}; ids look like detect.sev-es)`);
  }
  return all.filter((c) => filters.includes(c.area) || filters.includes(c.id));
}

/**
 * Profiles by name, checked against what the target offers; all of them when none are given. A
 * `.json` path names a profile file, `generated:N[:SEED]` N generated hosts (`gen-SEED-I` each).
 */
export function selectProfiles(names: readonly string[] | undefined, known: readonly string[]): readonly string[] {
  if (!names || names.length === 0) return known;
  let expanded: string[];
  try {
    expanded = names.flatMap((n) => expandGeneratedSpec(n) ?? [n]);
  } catch (e) {
    if (e instanceof GeneratedSpecError) throw new RunnerUsageError(e.message);
    throw e;
  }
  const unknown = expanded.filter((n) => !known.includes(n) && !n.endsWith('.json') && !isGeneratedName(n));
  if (unknown.length) throw new RunnerUsageError(`unknown profile: ${unknown.join(', ')} (known: ${known.join(', ')}; or a .json file, or generated:N[:SEED])`);
  return [...new Set(expanded)];
}

/** One of `count` shards (1-based `index`), as `--shard index/count` names it. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n` as vitest's --shard does: 1 ≤ i ≤ n. */
export function parseShard(text: string): Shard {
  const m = /^([1-9]\d*)\/([1-9]\d*)$/.exec(text.trim());
  if (!m) throw new RunnerUsageError(`--shard must look like 1/3 (index/count, from 1), not '${text}'`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  if (shard.index > shard.count) throw new RunnerUsageError(`--shard index ${shard.index} is greater than its count ${shard.count}`);
  return shard;
}

/**
 * The shard's part of `items`: contiguous slices of ⌈length / count⌉, as vitest splits its files,
 * so the shards of one count partition the list (every item in exactly one) in the same order.
 */
export function shardOf<T>(items: readonly T[], shard: Shard): readonly T[] {
  const size = Math.ceil(items.length / shard.count);
  return items.slice(size * (shard.index - 1), size * shard.index);
}
