/**
 * Enum values libvirt learned after the others, with the release that first accepts each: a
 * profile at an older libvirt refuses them as unknown. Versions are read from libvirt's
 * docs/formatdomain.rst (":since:" notes, libvirt 11.3.0 source) and measured where a container
 * runs that release (7.0.0, 9.0.0, 11.3.0; containers/README.md says which).
 */
import type { DomainContext } from './context.ts';

export type Since = Readonly<Record<string, readonly [number, number, number?]>>;

/** The values of `table` the profile's libvirt knows (values without an entry are older than any profile). */
export function knownValues<T extends string>(table: readonly T[], since: Since, ctx: Pick<DomainContext, 'libvirtAtLeast'>): readonly T[] {
  return table.filter((v) => {
    const s = since[v];
    return s === undefined || ctx.libvirtAtLeast(s[0], s[1], s[2]);
  });
}
