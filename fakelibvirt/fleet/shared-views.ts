/**
 * Host views shared by every host of one profile. `<capabilities>` and `<domainCapabilities>` are
 * pure functions of the profile, libvirt's SEV view and the query, yet a driver asks for them on
 * every detection: a suite or a fleet of a thousand hosts of one profile formats them once.
 */
import type { HardwareProfile } from '../profile/schema.ts';
import { capabilitiesXml } from '../views/capabilities.ts';
import { domainCapabilitiesXml, type DomainCapsQuery } from '../views/domain-capabilities.ts';
import type { LibvirtSevView } from '../views/libvirt-sev.ts';

interface ProfileViews {
  capabilities?: string;
  readonly domcaps: Map<string, string>;
}

const byProfile = new WeakMap<HardwareProfile, ProfileViews>();
/** Enough for every arch × machine × virttype a profile offers; beyond it the cache starts over. */
const MAX_DOMCAPS = 256;

function views(profile: HardwareProfile): ProfileViews {
  let v = byProfile.get(profile);
  if (!v) byProfile.set(profile, (v = { domcaps: new Map() }));
  return v;
}

export function sharedCapabilitiesXml(profile: HardwareProfile): string {
  const v = views(profile);
  return (v.capabilities ??= capabilitiesXml(profile));
}

/**
 * Every field of the SEV view the document shows (not the PDH or certificate chain, which are
 * built lazily and never shown there); hosts whose views agree share the text.
 */
function sevKey(sev: LibvirtSevView | null): string {
  if (!sev) return '-';
  return `${sev.cbitpos}|${sev.reducedPhysBits}|${sev.maxGuests}|${sev.maxESGuests}|${sev.cpu0Id ?? ''}|${sev.sectypes.join(',')}`;
}

export function sharedDomainCapabilitiesXml(profile: HardwareProfile, sev: LibvirtSevView | null, query: DomainCapsQuery): string {
  const v = views(profile);
  const key = `${query.emulatorbin ?? ''}\0${query.arch ?? ''}\0${query.machine ?? ''}\0${query.virttype ?? ''}\0${query.emulatorbin === null ? 'n' : ''}${query.arch === null ? 'n' : ''}${query.machine === null ? 'n' : ''}${query.virttype === null ? 'n' : ''}\0${sevKey(sev)}`;
  let xml = v.domcaps.get(key);
  if (xml === undefined) {
    xml = domainCapabilitiesXml(profile, sev, query);
    if (v.domcaps.size >= MAX_DOMCAPS) v.domcaps.clear();
    v.domcaps.set(key, xml);
  }
  return xml;
}
