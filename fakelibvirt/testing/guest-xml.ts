/**
 * Guest XML for tests and benches: a plain or SEV q35 guest as the daemon tests define it, and an
 * SEV guest carrying a guest owner's session (dhCert, session blob) for attestation.
 */
import type { OwnerSession } from '../firmware/session.ts';
import type { FakeHost } from '../host/fake-host.ts';

export interface GuestOptions {
  readonly name: string;
  readonly uuid: string;
  readonly memoryKiB?: number;
  /** SEV guest (q35, OVMF pflash, locked memory, policy 0x0033). */
  readonly sev?: boolean;
  readonly hardLimitKiB?: number;
}

export function guestXml(o: GuestOptions): string {
  const mem = o.memoryKiB ?? 524288;
  const lines = [
    "<domain type='kvm'>",
    `  <name>${o.name}</name>`,
    `  <uuid>${o.uuid}</uuid>`,
    `  <memory unit='KiB'>${mem}</memory>`,
    '  <vcpu>1</vcpu>',
    ...(o.hardLimitKiB ? [`  <memtune><hard_limit unit='KiB'>${o.hardLimitKiB}</hard_limit></memtune>`] : []),
    ...(o.sev ? ['  <memoryBacking><locked/></memoryBacking>'] : []),
    '  <os>',
    "    <type arch='x86_64' machine='q35'>hvm</type>",
    ...(o.sev
      ? ["    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>", `    <nvram>/var/lib/libvirt/qemu/nvram/${o.name}_VARS.fd</nvram>`]
      : []),
    '  </os>',
    // libvirt's QEMU driver refuses UEFI (the pflash loader) on x86 without ACPI.
    ...(o.sev ? ['  <features><acpi/></features>'] : []),
    ...(o.sev ? ["  <launchSecurity type='sev'><policy>0x0033</policy></launchSecurity>"] : []),
    '</domain>',
  ];
  return `${lines.join('\n')}\n`;
}

export const SEV_GUEST = { name: 'sevguest', uuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809', sev: true } as const;
export const PLAIN_GUEST = { name: 'plainguest', uuid: '5b9f3c2e-1d4a-4e8b-9c7d-2a1b3c4d5e6f', sev: false } as const;

/** The PDH as the guest owner receives it: `virsh nodesevinfo`'s base64, decoded. */
export function exportedPdh(host: FakeHost): Buffer {
  const pdh = host.nodeSevInfo().find((p) => p.field === 'pdh')?.value;
  if (typeof pdh !== 'string') throw new Error('host exports no PDH');
  return Buffer.from(pdh, 'base64');
}

export interface GuestSpec {
  readonly name: string;
  readonly policy: number;
  readonly vcpus?: number;
  readonly loader: string;
  readonly loaderType?: 'pflash' | 'rom';
  /** The session's policy when it differs from the domain's (a host starting the guest differently). */
  readonly session?: OwnerSession | null;
  readonly kernel?: { readonly kernel: string; readonly initrd: string; readonly cmdline: string };
}

export function sevGuestXml(host: FakeHost, g: GuestSpec): string {
  const ls = g.session
    ? `<dhCert>${g.session.godh.toString('base64')}</dhCert><session>${g.session.session.toString('base64')}</session>`
    : '';
  const cbit = host.sevView?.cbitpos ?? 51;
  const loader = g.loaderType === 'rom' ? `<loader type='rom'>${g.loader}</loader>` : `<loader readonly='yes' type='pflash'>${g.loader}</loader>`;
  const kernel = g.kernel ? `<kernel>${g.kernel.kernel}</kernel><initrd>${g.kernel.initrd}</initrd><cmdline>${g.kernel.cmdline}</cmdline>` : '';
  return `<domain type='kvm'>
  <name>${g.name}</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu>${g.vcpus ?? 1}</vcpu>
  <memoryBacking><locked/></memoryBacking>
  <os><type arch='x86_64' machine='q35'>hvm</type>${loader}${kernel}</os>
  <features><acpi/></features>
  <devices><memballoon model='none'/></devices>
  <launchSecurity type='sev'${g.kernel ? " kernelHashes='yes'" : ''}><cbitpos>${cbit}</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>0x${g.policy.toString(16).padStart(4, '0')}</policy>${ls}</launchSecurity>
</domain>`;
}
