/** Domain XML builders shared by the host-model tests. */

export interface GuestXmlOptions {
  name: string;
  memoryKiB?: number;
  vcpus?: number;
  machine?: string;
  /** Full `<launchSecurity>` element, or null for a plain guest. */
  launchSecurity?: string | null;
  memory?: string;
  devices?: string;
  features?: string;
  metadata?: string;
  loader?: string | null;
}

export const sevLaunch = (policy = '0x0033', extra = '') => `<launchSecurity type='sev'>${extra}<policy>${policy}</policy></launchSecurity>`;

/**
 * libvirt adds a virtio memballoon (without iommu='on') to an x86 guest that declares none; the
 * fixtures opt out so that each test sees only the virtio devices it writes.
 */
const NO_BALLOON = "<memballoon model='none'/>";

export function guestXml(o: GuestXmlOptions): string {
  const loader =
    o.loader === null ? '' : (o.loader ?? "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>");
  const devices = o.devices ?? "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/lib/libvirt/images/guest.img'/><target dev='sda' bus='sata'/></disk>";
  return `<domain type='kvm'>
  <name>${o.name}</name>
  <memory unit='KiB'>${o.memoryKiB ?? 524288}</memory>
  <vcpu>${o.vcpus ?? 1}</vcpu>
  ${o.metadata ?? ''}
  ${o.memory ?? '<memoryBacking><locked/></memoryBacking>'}
  <os><type arch='x86_64' machine='${o.machine ?? 'q35'}'>hvm</type>${loader}</os>
  <features><acpi/>${o.features ?? ''}</features>
  <devices>${devices}${devices.includes('<memballoon') ? '' : NO_BALLOON}</devices>
  ${o.launchSecurity === null ? '' : (o.launchSecurity ?? sevLaunch())}
</domain>`;
}
