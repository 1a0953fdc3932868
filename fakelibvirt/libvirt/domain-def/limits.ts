/** Bounds and readings the domain-definition modules share. */

/** libvirt refuses RPC strings above this size; the in-process API applies the same bound. */
export const MAX_XML_BYTES = 4 * 1024 * 1024;

/** A yes/on attribute (absent or anything else: no). */
export const yes = (v: string | undefined) => v === 'yes' || v === 'on';
