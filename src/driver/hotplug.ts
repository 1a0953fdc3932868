/**
 * Devices attached to a running guest (volumes, interfaces). The same SEV rules as at boot apply:
 * a virtio device of an encrypted guest needs `iommu='on'` so the guest kernel bounces its DMA
 * through shared memory (required before QEMU 6.0, harmless after), and a virtio NIC carries no
 * iPXE ROM. Plain guests get neither.
 */
import { escapeXml, INSTANCE_DIR } from './builder.ts';

export type HotplugKind = 'volume' | 'interface';

/** The first unused `vdX` name in a domain document (vda is the boot disk). */
export function nextVirtioDiskTarget(domainXml: string): string {
  const used = new Set<string>();
  for (const m of domainXml.matchAll(/<target\s[^>]*dev=['"]vd([a-z]+)['"]/g)) used.add(m[1]!);
  for (let c = 'a'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const letter = String.fromCharCode(c);
    if (!used.has(letter)) return `vd${letter}`;
  }
  throw new Error('no free virtio disk name (vda…vdz all in use)');
}

export function volumeDeviceXml(instanceName: string, target: string, encrypted: boolean): string {
  return (
    `<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'${encrypted ? " iommu='on'" : ''}/>` +
    `<source file='${INSTANCE_DIR}/${escapeXml(instanceName)}/volume-${target}'/><target dev='${target}' bus='virtio'/></disk>`
  );
}

export function interfaceDeviceXml(encrypted: boolean, network = 'default'): string {
  return (
    `<interface type='network'><source network='${escapeXml(network)}'/><model type='virtio'/>` +
    `${encrypted ? "<driver iommu='on'/><rom enabled='no'/>" : ''}</interface>`
  );
}

/** The domain document with `device` appended to its `<devices>`. */
export function withDevice(domainXml: string, device: string): string {
  const at = domainXml.lastIndexOf('</devices>');
  if (at < 0) throw new Error('domain XML has no <devices> element');
  return domainXml.slice(0, at) + device + domainXml.slice(at);
}
