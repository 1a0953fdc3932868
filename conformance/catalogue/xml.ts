/** Guest XML requirements: what an SEV domain definition must (and must not) contain. */
import { versionAtLeast } from '../../fakelibvirt/profile/version.ts';
import { MODEL_SPEC, SEV, SEV_ES, sevFlavor } from './requests.ts';
import { area, needsFreshCacheSev, needsNoSev, needsSevEs, noSevHostAlternatives } from './helpers.ts';
import type { Applicability, Case, XmlRule } from './types.ts';

const xmlCase = (c: Omit<Case, 'area' | 'ops'>): Case & { area: 'xml' } => ({ area: 'xml', ops: ['reportHost', 'buildGuestXml'], ...c });

const launchSecurity = (type: string, policy: string): readonly XmlRule[] => [
  // Anywhere among <domain>'s children: libvirt's schema interleaves them and its parser does not care.
  { path: 'launchSecurity', present: true, attrs: { type } },
  { path: 'launchSecurity/policy', present: true, text: policy },
];

const QGA_RULES: readonly XmlRule[] = [
  { path: 'devices/controller[type=virtio-serial]/driver', present: true, attrs: { iommu: 'on' } },
  { path: 'devices/channel/target', present: true, attrs: { name: 'org.qemu.guest_agent.0' } },
];

export const XML = area('xml', [
  xmlCase({
    id: 'xml.launch-security',
    title: '<launchSecurity type="sev"> with policy 0x0033 (anywhere in <domain>, as libvirt allows)',
    why: 'Without launchSecurity the guest runs unencrypted; 0x33 keeps debug and key sharing off and pins the guest to this platform.',
    fact: 'nova-sev.md §3.3; sev-hardware.md §3.1',
    novaScenario: [34],
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'xml', rules: launchSecurity('sev', '0x0033') }),
  }),
  xmlCase({
    id: 'xml.cbitpos-from-domcaps',
    title: "cbitpos (if given) is the host's, from domain capabilities — never a hard-coded 47",
    why: 'QEMU refuses to start when cbitpos differs from the host (51 on Milan and later); libvirt ≥ 6.9 fills it in when omitted.',
    fact: 'nova-sev.md §3.3; sev-hardware.md §4.2',
    novaScenario: [6, 34],
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: (t) => {
      // libvirt 6.9 fills both in from domcaps, so there they may be left out, but never be wrong.
      const present = versionAtLeast(t.profile.libvirt.version, 6, 9) ? 'may' : true;
      return {
        kind: 'xml',
        rules: [
          { path: 'launchSecurity/cbitpos', present, text: String(t.cbitpos) },
          { path: 'launchSecurity/reducedPhysBits', present, text: String(t.reducedPhysBits) },
        ],
      };
    },
  }),
  xmlCase({
    id: 'xml.q35-uefi',
    title: 'q35 machine, pflash OVMF loader and an NVRAM template',
    why: 'SEV launch measures OVMF; a q35 machine with pflash firmware is the only layout nova-style drivers support.',
    fact: 'nova-sev.md §3.4',
    novaScenario: [34],
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: () => ({
      kind: 'xml',
      rules: [
        { path: 'os/loader', present: true, attrs: { type: 'pflash', readonly: 'yes' } },
        { path: 'os/nvram', present: true },
      ],
      devices: [{ rule: 'loader-is-sev-capable-ovmf' }],
    }),
  }),
  xmlCase({
    id: 'xml.iommu-on-virtio',
    title: '<driver iommu="on"/> on every virtio device; none on sata/usb/serial/graphics',
    why: 'Virtio devices must use the DMA API (bounce buffers) to reach encrypted memory; QEMU < 6.0 does not turn the platform IOMMU on by itself (strict there, advisory on newer QEMU).',
    fact: 'nova-sev.md §3.2',
    novaScenario: [35],
    given: { request: { ...SEV, image: { properties: { hw_firmware_type: 'uefi', hw_machine_type: 'q35', hw_scsi_model: 'virtio-scsi', hw_cdrom_bus: 'sata' } } } },
    appliesTo: needsFreshCacheSev,
    expect: (t) => ({
      kind: 'xml',
      rules: [],
      devices: [{ rule: 'iommu-on-every-virtio-device', strict: !t.qemuAutoIommu }, { rule: 'no-iommu-on', devices: ['disk[bus=sata]', 'controller[type=usb]', 'input', 'serial', 'graphics'] }],
    }),
  }),
  xmlCase({
    id: 'xml.qga-virtio-serial',
    title: 'Guest agent requested → explicit virtio-serial controller with iommu, then the agent channel',
    why: 'libvirt would add an implicit virtio-serial controller without iommu, whose DMA the encrypted guest cannot use.',
    fact: 'nova-sev.md §3.1 (bug #1845986)',
    novaScenario: [36],
    given: { request: { ...SEV, image: { properties: { hw_firmware_type: 'uefi', hw_machine_type: 'q35', hw_qemu_guest_agent: 'yes' } } } },
    appliesTo: needsFreshCacheSev,
    expect: () => ({
      kind: 'xml',
      rules: QGA_RULES,
    }),
  }),
  xmlCase({
    id: 'xml.no-vmcoreinfo',
    title: 'No <vmcoreinfo/> for encrypted guests',
    why: 'vmcoreinfo uses fw_cfg DMA, which SEV forbids; the guest kernel crashes (bug #2117170, fixed after Zed).',
    fact: 'nova-sev.md §3.1, §6',
    novaScenario: [42],
    novaZed: 'fails',
    given: { request: SEV },
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'xml', rules: [{ path: 'features/vmcoreinfo', present: false }] }),
  }),
  xmlCase({
    id: 'xml.ipxe-rom-off',
    title: 'Virtio NICs of an SEV guest load no iPXE option ROM',
    why: "The NIC option ROM is read by firmware through the device's ROM BAR, outside the encrypted launch, and iPXE lacks IOMMU-aware virtio [inference]; disable the ROM.",
    fact: 'nova-sev.md §3.2 (nova emits no rom settings)',
    novaZed: 'fails',
    given: { request: { ...SEV, image: { properties: { hw_firmware_type: 'uefi', hw_machine_type: 'q35', hw_vif_model: 'virtio' } } } },
    appliesTo: needsFreshCacheSev,
    expect: () => ({ kind: 'xml', rules: [], devices: [{ rule: 'virtio-nic-rom-disabled' }] }),
  }),
  xmlCase({
    id: 'xml.sev-es-policy',
    title: 'amd-sev-es → policy 0x0037 (ES bit set)',
    why: 'The ES bit is what makes the firmware encrypt register state; without it an "ES" guest is plain SEV.',
    fact: 'nova-sev.md §3.3; sev-hardware.md §3.1',
    novaScenario: [51],
    novaZed: 'fails',
    given: { request: SEV_ES },
    appliesTo: needsSevEs,
    expect: () => ({ kind: 'xml', rules: launchSecurity('sev', '0x0037') }),
  }),
  xmlCase({
    id: 'xml.snp-launch-security',
    title: 'amd-sev-snp → type="sev-snp", policy 0x00030000, no <locked/>',
    why: 'SNP has its own 64-bit policy and does not need memory pinning.',
    fact: 'nova-sev.md §3.3 (M)',
    novaScenario: [53],
    novaZed: 'fails',
    given: {
      request: {
        flavor: sevFlavor({ [MODEL_SPEC]: 'amd-sev-snp' }),
        image: { properties: { hw_firmware_type: 'uefi', hw_machine_type: 'q35', hw_firmware_stateless: true } },
      },
    },
    appliesTo: (t): Applicability => (t.snpUsable ? true : 'host has no SEV-SNP'),
    expect: () => ({
      kind: 'xml',
      rules: [...launchSecurity('sev-snp', '0x00030000'), { path: 'memoryBacking/locked', present: false }],
    }),
  }),
  {
    id: 'xml.no-sev-host-refuses',
    area: 'xml',
    title: 'SEV request reaching a host without SEV → NO_SEV_HOST (never a silently unencrypted guest)',
    why: 'Zed quietly built a plain guest, so the user believed memory was encrypted when it was not.',
    fact: 'nova-sev.md §3.1',
    novaScenario: [38],
    novaZed: 'differs',
    ops: ['reportHost', 'buildGuestXml'],
    given: { request: SEV },
    appliesTo: needsNoSev,
    expect: (t) => ({ kind: 'refusal', op: 'buildGuestXml', code: 'NO_SEV_HOST', alternatives: noSevHostAlternatives(t) }),
  },
]);

