/** The facts the HTML report shows per profile: what the hardware, kernel and libvirt offer, from the profile's truth. */
import { generatedProfile } from '../../../fakelibvirt/profile/generate.ts';
import { allProfiles, loadProfile } from '../../../fakelibvirt/profile/load.ts';
import type { HardwareProfile } from '../../../fakelibvirt/profile/schema.ts';
import { profileTruth } from '../../truth.ts';
import type { ProfileFacts } from './html.ts';

const yn = (b: boolean): string => (b ? 'yes' : 'no');

export function factsOf(ref: string, profile: HardwareProfile): ProfileFacts {
  const t = profileTruth(profile);
  const id = profile.cpuid8000001f;
  return {
    name: ref,
    description: profile.description,
    facts: [
      ['CPU', `${profile.cpu.modelName} (${profile.generation}, ${profile.arch})`],
      ['CPUID 0x8000001F', id ? `ECX ${id.ecx}, EDX ${id.edx}, C-bit ${t.cbitpos ?? '-'}` : 'none'],
      ['SEV / SEV-ES / SNP usable', `${yn(t.sevUsable)} / ${yn(t.sevEsUsable)} / ${yn(t.snpUsable)}`],
      ['slots (maxGuests / maxESGuests)', `${t.maxGuests} / ${t.maxESGuests}`],
      ['kernel', `${profile.kernel.version} (sev ${t.kernel.sysfs.sev?.trim() ?? 'absent'})`],
      ['libvirt / QEMU', `${profile.libvirt.version} / ${profile.qemu.version}${t.staleCache ? ' (stale capability cache)' : ''}`],
      ['/dev/sev', profile.devSev.present ? profile.devSev.mode : 'missing'],
      ['memory', `${Math.round(profile.memory.totalKiB / 1048576)} GiB (${Math.round(t.pinnableKiB / 1048576)} GiB pinnable)`],
    ],
  };
}

/** Facts of each profile the run named; a name that is no profile (a real host) is left out. */
export function profileFacts(refs: readonly string[]): ProfileFacts[] {
  return refs.flatMap((ref) => {
    try {
      const p = generatedProfile(ref) ?? (ref.endsWith('.json') || allProfiles().has(ref) ? loadProfile(ref) : null);
      return p ? [factsOf(ref, p)] : [];
    } catch {
      return [];
    }
  });
}
