/** Resolving `--profile` (a bundled name or a .json path) into the profile and its derived views. */
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import { hostViews, type HostViews } from '../../fakelibvirt/views/index.ts';
import { UsageError, requireString, type ParsedValues } from './command.ts';

export function profileViews(values: ParsedValues): HostViews {
  const name = requireString(values, 'profile');
  if (!name.endsWith('.json') && !allProfiles().has(name)) {
    throw new UsageError(`unknown profile '${name}'; known: ${[...allProfiles().keys()].join(', ')}`);
  }
  return hostViews(loadProfile(name));
}

export const PROFILE_OPTION = { profile: { type: 'string', short: 'p' } } as const;
