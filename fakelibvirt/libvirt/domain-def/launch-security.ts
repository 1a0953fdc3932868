/**
 * The launch-security fields the host acts on (the firmware's LAUNCH_START policy, the platform
 * parts QEMU is given, the SNP blobs), read from the canonical `<launchSecurity>` element that
 * domain/launch-security.ts parsed and checked: this module decides nothing libvirt decides.
 */
import { child, type XmlNode } from '../xml-tree.ts';

export type LaunchSecurity =
  | {
      readonly type: 'sev';
      readonly policy: number;
      readonly cbitpos?: number;
      readonly reducedPhysBits?: number;
      readonly kernelHashes?: boolean;
      readonly dhCert?: string;
      readonly session?: string;
    }
  | {
      readonly type: 'sev-snp';
      /** QEMU's default 0x30000 when the element is absent (libvirt 10.x makes it optional). */
      readonly policy: bigint;
      readonly cbitpos?: number;
      readonly reducedPhysBits?: number;
      /** authorKey / vcek / kernelHashes attributes (yes|no). */
      readonly authorKey?: boolean;
      readonly vcek?: boolean;
      readonly kernelHashes?: boolean;
      /** Base64 blobs handed to QEMU's sev-snp-guest object as they are. */
      readonly guestVisibleWorkarounds?: string;
      readonly idBlock?: string;
      readonly idAuth?: string;
      readonly hostData?: string;
    };

/** QEMU's DEFAULT_SEV_SNP_POLICY (sev-hardware.md §3.2), used when `<policy>` is omitted. */
export const DEFAULT_SNP_POLICY = 0x30000n;

/**
 * The launch-security fields the host acts on, read from the canonical element (parsed and checked
 * by domain/launch-security.ts). Null for s390-pv, which QEMU validation refuses on x86.
 */
export function launchSecurityFields(node: XmlNode): LaunchSecurity | null {
  const text = (name: string) => child(node, name)?.text;
  // libvirt formats these unsigned ints with %d: a value past INT_MAX reads back negative.
  const uint = (name: string) => {
    const t = text(name);
    return t === undefined ? undefined : (Number(t) + 2 ** 32) % 2 ** 32;
  };
  const bool = (name: string) => (node.attrs[name] === undefined ? undefined : node.attrs[name] === 'yes');
  const cbitpos = uint('cbitpos');
  const reducedPhysBits = uint('reducedPhysBits');
  const kernelHashes = bool('kernelHashes');
  const common = {
    ...(cbitpos !== undefined && { cbitpos }),
    ...(reducedPhysBits !== undefined && { reducedPhysBits }),
    ...(kernelHashes !== undefined && { kernelHashes }),
  };
  if (node.attrs.type === 'sev') {
    const dhCert = text('dhCert');
    const session = text('session');
    return {
      type: 'sev',
      policy: Number.parseInt(text('policy') ?? '0', 16),
      ...common,
      ...(dhCert !== undefined && { dhCert }),
      ...(session !== undefined && { session }),
    };
  }
  if (node.attrs.type !== 'sev-snp') return null;
  const policy = text('policy');
  const authorKey = bool('authorKey');
  const vcek = bool('vcek');
  const gvw = text('guestVisibleWorkarounds');
  const idBlock = text('idBlock');
  const idAuth = text('idAuth');
  const hostData = text('hostData');
  return {
    type: 'sev-snp',
    policy: policy === undefined ? DEFAULT_SNP_POLICY : BigInt(policy),
    ...common,
    ...(authorKey !== undefined && { authorKey }),
    ...(vcek !== undefined && { vcek }),
    ...(gvw !== undefined && { guestVisibleWorkarounds: gvw }),
    ...(idBlock !== undefined && { idBlock }),
    ...(idAuth !== undefined && { idAuth }),
    ...(hostData !== undefined && { hostData }),
  };
}

