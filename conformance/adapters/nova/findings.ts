/**
 * Why nova Zed (26.2.2) does not meet a case: the nova bug, limitation or later change behind each
 * known failure, as data (from nova-sev.md). The report quotes these next to every failure; a
 * failure of a case without an entry is flagged as unexplained.
 */
export interface NovaFinding {
  /** What Zed does, in one sentence. */
  readonly zed: string;
  /** The nova bug or change that fixes or changes it, and the first release with it; null when none. */
  readonly fix: string | null;
  /** Where the fact is written down. */
  readonly fact: string;
}

const SEV_ES: NovaFinding = {
  zed: 'Zed has no SEV-ES: no sev_es detection, no HW_CPU_X86_AMD_SEV_ES trait, no hw:mem_encryption_model, policy always 0x0033.',
  fix: 'SEV-ES support (policy 0x0037, per-model child providers, model selector) in 32.0.0 (2025.2)',
  fact: 'nova-sev.md §1.6, §2.3, §6',
};

const SLOTS: NovaFinding = {
  zed: 'Zed cannot read maxGuests: with num_memory_encrypted_guests unset it reports MEM_ENCRYPTION_CONTEXT total 2147483647 (db MAX_INT), so slots are never exhausted in placement.',
  fix: "blueprint libvirt-detect-sev-max-guests (03055de176) in 29.0.0: slots = min(option, domcaps maxGuests)",
  fact: 'nova-sev.md §1.5',
};

const MODEL: NovaFinding = {
  zed: 'Zed has no memory-encryption model selector: hw:mem_encryption_model is ignored (and not validated).',
  fix: 'model selector in 32.0.0; model conflicts, unknown models and SNP stateless firmware checks in master',
  fact: 'nova-sev.md §2.3, §2.4 (M adds)',
};

const SNP: NovaFinding = {
  zed: 'Zed has no SEV-SNP (no sev_snp detection, no type="sev-snp" launchSecurity).',
  fix: 'SEV-SNP in master (2026.2 cycle)',
  fact: 'nova-sev.md §1.6, §3.3',
};

const SILENT_PLAIN: NovaFinding = {
  zed: "Zed's _sev_enabled returns False on a host without SEV: an encrypted request is silently built and booted as a plain guest, no error.",
  fix: null,
  fact: 'nova-sev.md §3.1, §9 scenario 38',
};

const VMCOREINFO: NovaFinding = {
  zed: 'Zed still emits <features><vmcoreinfo/> for SEV guests; fw_cfg needs DMA, which an SEV guest cannot do, and the guest kernel crashes (the fake records the fault).',
  fix: 'bug #2117170, fixed in 32.0.0 (backports 31.2.0, 30.2.0, 29.4.0; not Zed)',
  fact: 'nova-sev.md §3.1',
};

/** Cases nova could meet but the adapter does not drive the operation: adapter limits, not nova findings. */
const ADAPTER_LIMIT = (what: string, why: string): NovaFinding => ({
  zed: `Not a nova finding: the adapter refuses ${what} NOT_IMPLEMENTED (${why}).`,
  fix: null,
  fact: 'conformance/adapters/nova/README.md',
});

export const NOVA_FINDINGS: Readonly<Record<string, NovaFinding>> = {
  'detect.sev-es': SEV_ES,
  'detect.sev-es-off-when-snp': { ...SEV_ES, fix: 'SEV-ES ignored when SNP is enabled (bug #2157891, CVE-2025-48514) in master' },
  'inventory.slots-from-domcaps': SLOTS,
  'detect.foreign-arch-domcaps-fails': {
    ...SLOTS,
    zed: `Zed skips the guest arch whose domain capabilities fail and still detects SEV (trait and inventory are there); the case fails only on the slot count. ${SLOTS.zed}`,
  },
  'inventory.es-slots-from-domcaps': SEV_ES,
  'slots.sev-exhaustion': SLOTS,
  'slots.sev-es-exhaustion': SEV_ES,
  'request.sev-es-model': SEV_ES,
  'scheduling.sev-es-to-es-host': SEV_ES,
  'boot.sev-es-guest-runs-encrypted': SEV_ES,
  'xml.sev-es-policy': SEV_ES,
  'xml.snp-launch-security': SNP,
  'request.snp-needs-stateless-firmware': SNP,
  'request.model-conflict': MODEL,
  'request.unknown-model': MODEL,
  'request.default-machine-pc': {
    zed: "The API cannot know the compute's default machine type; with the default pc the request passes validation and fails only at spawn with InvalidMachineType (reschedule until retries run out).",
    fix: null,
    fact: 'nova-sev.md §2.5, §9 scenario 39 (bug #1780138: the x86 default is still pc)',
  },
  'request.unaliased-q35': {
    zed: 'Zed looks the <sev> feature up by the literal machine string among the default machine and the canonical aliases only; a valid but unaliased q35 version raises MissingDomainCapabilityFeatureException.',
    fix: 'the launch-time _find_sev_feature check was dropped in master (da9077994e)',
    fact: 'nova-sev.md §3.1 step 2, §9 scenario 40',
  },
  'request.bfv-no-uefi': {
    zed: "Boot from volume: image_meta.name is not loadable for volume image metadata, so the UEFI check crashes with NotImplementedError (HTTP 500).",
    fix: 'bug #2006952, fixed in 27.0.0 (2023.1)',
    fact: 'nova-sev.md §9 scenario 48',
  },
  'request.bfv-image-flag': {
    zed: 'Boot from volume with hw_mem_encryption on the volume metadata: image_meta.id is not loadable, NotImplementedError (HTTP 500).',
    fix: 'bug #2041511, fixed in 30.0.0 and backported to 29.4.0',
    fact: 'nova-sev.md §9 scenario 50',
  },
  'xml.no-vmcoreinfo': VMCOREINFO,
  'boot.sev-guest-runs-encrypted': VMCOREINFO,
  'memory.pinned-covers-regions': VMCOREINFO,
  'faults.cache-goes-stale': SILENT_PLAIN,
  'faults.kernel-param-off': SILENT_PLAIN,
  'inventory.cap-on-plain-host': {
    zed: 'On libvirt < 6.0.0 nova-compute does not start (MIN_LIBVIRT_VERSION); its only warning is about the version, so the SEV cap is never judged there.',
    fix: null,
    fact: 'nova/virt/libvirt/driver.py init_host',
  },
  'request.unknown-machine': {
    zed: "The API checks only that the machine type contains 'q35'; a version QEMU does not offer passes validation and fails later on the compute.",
    fix: null,
    fact: 'nova-sev.md §2.4 step 6, §9 scenario 41',
  },
  'xml.q35-uefi': {
    zed: "Zed's Host.get_loader picks the first firmware descriptor of the machine nova runs on (here Debian's /usr/share/OVMF/OVMF_CODE_4M.fd), not a loader the libvirt host offers in its domain capabilities.",
    fix: 'libvirt firmware auto-selection in 33.0.0 (bug #2122296)',
    fact: 'nova-sev.md §3.4 (loader selection), §6',
  },
  'lifecycle.snapshot-allowed': ADAPTER_LIMIT(
    'snapshot',
    "nova live-snapshots a running guest with libvirt block jobs (virDomainBlockRebase, block-job polling), which the fake does not implement, and qemu-img on the instance disk, which the adapter never creates",
  ),
  'xml.ipxe-rom-off': {
    zed: 'nova never emits <rom bar="off"/> (or any rom setting) on virtio NICs of SEV guests.',
    fix: null,
    fact: 'nova-sev.md §3.2',
  },
  'xml.no-sev-host-refuses': SILENT_PLAIN,
  'boot.no-sev-host-refuses-spawn': SILENT_PLAIN,
  'lifecycle.sev-disabled-with-guests': {
    zed: 'Zed reports no slots once the option is 0 and says nothing about the running SEV guest; placement later refuses to delete the in-use inventory (InventoryInUse) and nova-compute dies at start-up.',
    fix: 'start-up InvalidConfiguration guard in master',
    fact: 'nova-sev.md §4, §9 scenario 47',
  },
};
