/**
 * nova Zed's silent downgrade: an encryption request reaching a host without usable SEV is built and
 * started as an ordinary, unencrypted guest instead of being refused with NO_SEV_HOST. The user
 * believes the memory is encrypted; it is not.
 *
 * Who catches it:
 * - on hosts without SEV (intel-xeon): xml.no-sev-host-refuses and boot.no-sev-host-refuses-spawn;
 * - on SEV hosts whose SEV goes away underneath (milan-7003-253): faults.cache-goes-stale and
 *   faults.kernel-param-off, whose final spawn must be refused but boots a plain guest;
 * - rome-7002-stale-cache (libvirt shows no SEV until its cache is refreshed) is caught by
 *   faults.kernel-param-off only: xml/boot "no SEV host" cases do not apply there (its truth has
 *   SEV), and faults.cache-goes-stale needs a fresh cache at start.
 * Detection, traits, inventory and request validation are unchanged, so nothing else fails.
 */
import { isRefusal, type BootRequest } from '../../contract.ts';
import { FLAG, IMAGE_FLAG, IMAGE_MODEL, MODEL_SPEC } from '../../catalogue/requests.ts';
import { BrokenReferenceDriver } from '../broken-reference.ts';
import type { BrokenDriverSpec } from '../types.ts';

/** The same request with every memory-encryption setting dropped: what the host will get instead. */
function unencrypted(r: BootRequest): BootRequest {
  const extraSpecs = Object.fromEntries(Object.entries(r.flavor.extraSpecs).filter(([k]) => k !== FLAG && k !== MODEL_SPEC));
  const properties = Object.fromEntries(Object.entries(r.image.properties).filter(([k]) => k !== IMAGE_FLAG && k !== IMAGE_MODEL));
  return { ...r, flavor: { ...r.flavor, extraSpecs }, image: { ...r.image, properties } };
}

export const SILENT_PLAIN_GUEST: BrokenDriverSpec = {
  name: 'silent-plain-guest',
  bug: 'builds and boots an unencrypted guest when an SEV request reaches a host without SEV (nova Zed)',
  create: () =>
    new BrokenReferenceDriver('silent-plain-guest', {
      ops: (next) => ({
        buildGuestXml: async (p) => {
          const r = await next.buildGuestXml(p);
          return isRefusal(r) && r.code === 'NO_SEV_HOST' ? next.buildGuestXml({ ...p, request: unencrypted(p.request) }) : r;
        },
        spawn: async (p) => {
          const r = await next.spawn(p);
          if (!isRefusal(r) || r.code !== 'NO_SEV_HOST' || !('request' in p)) return r;
          return next.spawn({ ...p, request: unencrypted(p.request) });
        },
      }),
    }),
  profiles: ['intel-xeon', 'rome-7002-stale-cache', 'milan-7003-253'],
  expectedFailures: [
    { cases: ['xml.no-sev-host-refuses', 'boot.no-sev-host-refuses-spawn'], profiles: ['intel-xeon'], why: 'a plain guest is built and booted instead of NO_SEV_HOST' },
    { cases: ['faults.cache-goes-stale', 'faults.kernel-param-off'], profiles: ['milan-7003-253'], why: 'once SEV is gone the SEV spawn boots a plain guest instead of being refused' },
    { cases: ['faults.kernel-param-off'], profiles: ['rome-7002-stale-cache'], why: 'with the kernel parameter off the SEV spawn boots a plain guest instead of being refused' },
  ],
};
