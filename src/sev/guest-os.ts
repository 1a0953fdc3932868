/**
 * The guest-OS metadata a domain carries so the host knows what its guest kernel can do under
 * SEV: drivers write it into `<metadata>`, the fake reads it back when the guest boots. Both
 * sides must agree on the namespace, so it lives here rather than in either.
 */

/** XML namespace of the `<sh:guest-os>` element inside a domain's `<metadata>`. */
export const GUEST_OS_NAMESPACE = 'urn:sevharness:guest-os:1';
