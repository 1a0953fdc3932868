/**
 * nova Zed's silent downgrade: an encryption request reaching a host without usable SEV is built and
 * started as an ordinary, unencrypted guest instead of being refused with NO_SEV_HOST. The user
 * believes the memory is encrypted; it is not.
 *
 * Who catches it:
 * - on hosts without SEV (intel-xeon): xml.no-sev-host-refuses and boot.no-sev-host-refuses-spawn;
 * - on SEV hosts whose SEV goes away underneath (milan-7003-253): faults.cache-goes-stale,
 *   faults.kernel-param-off, faults.dev-sev-missing and faults.dev-sev-unopenable, whose final
 *   spawn must be refused but boots a plain guest;
 * - rome-7002-stale-cache (libvirt shows no SEV until its cache is refreshed) is caught by
 *   faults.kernel-param-off only: xml/boot "no SEV host" cases do not apply there (its truth has
 *   SEV), and faults.cache-goes-stale needs a fresh cache at start.
 * Detection, traits, inventory and request validation are unchanged, so nothing else fails.
 */
import { FLAG, IMAGE_FLAG, IMAGE_MODEL, MODEL_SPEC } from '../../catalogue/requests.ts';
import { DriverRefusal, ReferenceSevDriver, type BootRequest, type DriverConfig, type GuestPlan } from '../../../src/driver/index.ts';
import type { BrokenDriverSpec } from '../types.ts';

type Request = Omit<BootRequest, 'uuid'>;

/** The same request with every memory-encryption setting dropped: what the host will get instead. */
function unencrypted(r: Request): Request {
  const extra_specs = Object.fromEntries(Object.entries(r.flavor.extra_specs ?? {}).filter(([k]) => k !== FLAG && k !== MODEL_SPEC));
  const properties = Object.fromEntries(Object.entries(r.image.properties ?? {}).filter(([k]) => k !== IMAGE_FLAG && k !== IMAGE_MODEL));
  return { ...r, flavor: { ...r.flavor, extra_specs }, image: { ...r.image, properties } };
}

/**
 * The compute side plans a plain guest where the reference refuses NO_SEV_HOST; build, spawn,
 * rebuild and resize all plan through here. Request validation (the API and placement side) is the
 * adapter's and stays as it is.
 */
class SilentPlainGuestDriver extends ReferenceSevDriver {
  override plan(req: Request, config: DriverConfig = this.config): GuestPlan {
    try {
      return super.plan(req, config);
    } catch (e) {
      if (e instanceof DriverRefusal && e.code === 'NO_SEV_HOST') return super.plan(unencrypted(req), config);
      throw e;
    }
  }
}

export const SILENT_PLAIN_GUEST: BrokenDriverSpec = {
  name: 'silent-plain-guest',
  bug: 'builds and boots an unencrypted guest when an SEV request reaches a host without SEV (nova Zed)',
  variant: (h) => new SilentPlainGuestDriver(h.libvirt, h.files, h.config),
  runs: [
    { profiles: ['intel-xeon', 'milan-7003-253'] },
    { profiles: ['rome-7002-stale-cache'], cases: ['detect', 'xml', 'boot', 'faults'] },
  ],
  expectedFailures: [
    { cases: ['xml.no-sev-host-refuses', 'boot.no-sev-host-refuses-spawn'], profiles: ['intel-xeon'], why: 'a plain guest is built and booted instead of NO_SEV_HOST' },
    {
      cases: ['faults.cache-goes-stale', 'faults.kernel-param-off', 'faults.dev-sev-missing', 'faults.dev-sev-unopenable'],
      profiles: ['milan-7003-253'],
      why: 'once SEV is gone (stale cache, kvm_amd off, /dev/sev missing or unopenable) the SEV spawn boots a plain guest instead of being refused',
    },
    { cases: ['faults.kernel-param-off'], profiles: ['rome-7002-stale-cache'], why: 'with the kernel parameter off the SEV spawn boots a plain guest instead of being refused' },
  ],
};
