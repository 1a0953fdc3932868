/**
 * What the guest kernel can do under SEV, which no host can observe: drivers state it in the
 * domain's `<metadata>` (namespace in src/sev/guest-os.ts), the fake's guest boot reads it back.
 */
import { GUEST_OS_NAMESPACE } from '../../../src/sev/guest-os.ts';
import { child, type XmlNode } from '../xml-tree.ts';
import { yes } from './limits.ts';

/** Facts about the guest OS the fake cannot observe; see README "Guest OS facts". */
export interface GuestOsFacts {
  readonly name: string;
  /** The guest kernel supports running with SEV memory encryption. */
  readonly sev: boolean;
  /** The guest kernel supports SEV-ES (GHCB). */
  readonly sevEs: boolean;
  /** The guest can boot from a virtio-blk disk while encrypted (some older kernels cannot). */
  readonly virtioBlkBoot: boolean;
}

export const DEFAULT_GUEST_OS: GuestOsFacts = { name: 'generic-sev-aware', sev: true, sevEs: true, virtioBlkBoot: true };


/** The guest-OS facts a domain's metadata states, the defaults where it states none. */
export function guestOsFacts(domain: XmlNode): GuestOsFacts {
  const meta = child(domain, 'metadata');
  if (!meta) return DEFAULT_GUEST_OS;
  for (const el of meta.children) {
    const local = el.name.includes(':') ? el.name.slice(el.name.indexOf(':') + 1) : el.name;
    const ns = Object.entries(el.attrs).find(([k]) => k === 'xmlns' || k.startsWith('xmlns:'))?.[1];
    if (local !== 'guest-os' || ns !== GUEST_OS_NAMESPACE) continue;
    const flag = (k: string, d: boolean) => (el.attrs[k] === undefined ? d : yes(el.attrs[k]));
    return {
      name: el.attrs.name ?? DEFAULT_GUEST_OS.name,
      sev: flag('sev', true),
      sevEs: flag('sev-es', true),
      virtioBlkBoot: flag('virtio-blk-boot', true),
    };
  }
  return DEFAULT_GUEST_OS;
}

