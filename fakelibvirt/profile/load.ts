/**
 * Loading hardware profiles from `hardware-profiles/*.json`, with errors that name the file and the
 * exact path of the bad field.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod';
import { packageFile } from '../../src/fs/package-files.ts';
import { HardwareProfileSchema, type HardwareProfile } from './schema.ts';

export const PROFILE_DIR = packageFile('hardware-profiles');

export class ProfileError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly string[],
  ) {
    super(`invalid hardware profile ${source}:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ProfileError';
  }
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/** Validates parsed JSON as a profile; `source` names it in errors (a file name, or "inline"). */
export function parseProfile(data: unknown, source = 'inline'): HardwareProfile {
  const result = HardwareProfileSchema.safeParse(data);
  if (!result.success) throw new ProfileError(source, result.error.issues.map(formatIssue));
  return result.data;
}

export function loadProfileFile(file: string): HardwareProfile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ProfileError(basename(file), [`(root): not readable JSON: ${(e as Error).message}`]);
  }
  const profile = parseProfile(data, basename(file));
  const expected = basename(file, '.json');
  if (profile.name !== expected) {
    throw new ProfileError(basename(file), [`name: '${profile.name}' must match the file name '${expected}'`]);
  }
  return profile;
}

let cache: Map<string, HardwareProfile> | undefined;

/** Every bundled profile, by name, in file-name order. Loaded once per process. */
export function allProfiles(dir = PROFILE_DIR): Map<string, HardwareProfile> {
  if (dir === PROFILE_DIR && cache) return cache;
  const map = new Map<string, HardwareProfile>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const p = loadProfileFile(join(dir, f));
    map.set(p.name, p);
  }
  if (dir === PROFILE_DIR) cache = map;
  return map;
}

/** A bundled profile by name, or a profile file by path. */
export function loadProfile(nameOrPath: string): HardwareProfile {
  if (nameOrPath.endsWith('.json')) return loadProfileFile(nameOrPath);
  const p = allProfiles().get(nameOrPath);
  if (!p) {
    throw new ProfileError(nameOrPath, [`no such profile; known: ${[...allProfiles().keys()].join(', ')}`]);
  }
  return p;
}
