/**
 * Request validation: how flavor extra specs and image properties turn into a placement request,
 * and which requests are refused before any host is touched.
 */
import { MODEL_TRAITS, inventoryKey } from '../contract.ts';
import type { ProfileTruth } from '../truth.ts';
import { FLAG, IMAGE_FLAG, IMAGE_MODEL, MODEL_SPEC, PLAIN, SEV, sevFlavor, sevWithImage } from './requests.ts';
import { SEV_TRAIT, always, area, needsFreshCacheSev, plainRequestExpectation, sevRequestExpectation } from './helpers.ts';
import type { Applicability, Case, Expectation } from './types.ts';

const UEFI_Q35 = { hw_firmware_type: 'uefi', hw_machine_type: 'q35' } as const;
const refuse = (code: Expectation & { kind: 'refusal' }): Expectation => code;

/** The versioned name behind the q35 alias (pc-q35-7.2 …), if any. */
function versionedQ35(t: ProfileTruth): string | undefined {
  return t.profile.qemu.machineTypes.find((m) => m.alias === 'q35')?.name;
}

/** A q35 machine QEMU offers under its versioned name only (no alias), if any. */
function unaliasedQ35(t: ProfileTruth): string | undefined {
  return t.profile.qemu.machineTypes.find((m) => m.name.includes('q35') && !m.alias)?.name;
}

const validation = (c: Omit<Case, 'area' | 'ops' | 'appliesTo'> & Partial<Pick<Case, 'ops' | 'appliesTo'>>): Case & { area: 'request' } => ({
  area: 'request',
  ops: ['validateRequest'],
  appliesTo: always,
  ...c,
});

export const REQUEST = area('request', [
  validation({
    id: 'request.no-flag',
    title: 'No memory-encryption flag anywhere → plain request',
    why: 'Ordinary guests must not consume encrypted-guest slots or be steered to SEV hosts.',
    fact: 'nova-sev.md §2.4 step 2',
    novaScenario: [17],
    given: { request: PLAIN },
    expect: () => plainRequestExpectation,
  }),
  validation({
    id: 'request.flag-false',
    title: "Flag false ('0', 'false', 'False') → plain request, no SEV checks (even for a BIOS image)",
    why: 'An explicit "no" is the same as silence; validating UEFI/q35 for it would refuse ordinary guests.',
    fact: 'nova-sev.md §2.4 step 2',
    novaScenario: [18],
    given: { request: { flavor: { extraSpecs: { [FLAG]: 'False' } }, image: { properties: { hw_firmware_type: 'bios' } } } },
    expect: () => plainRequestExpectation,
  }),
  validation({
    id: 'request.flavor-flag',
    title: 'Flavor hw:mem_encryption=true + UEFI q35 image → one MEM_ENCRYPTION_CONTEXT',
    why: 'The flavor is the operator-controlled way to ask for SEV.',
    fact: 'nova-sev.md §2.3',
    novaScenario: [19],
    given: { request: SEV },
    expect: sevRequestExpectation,
  }),
  validation({
    id: 'request.image-flag',
    title: 'Image hw_mem_encryption=true (flavor silent) → one MEM_ENCRYPTION_CONTEXT',
    why: 'The image is the user-controlled way to ask for SEV.',
    fact: 'nova-sev.md §2.3',
    novaScenario: [20],
    given: { request: { image: { properties: { ...UEFI_Q35, [IMAGE_FLAG]: true } } } },
    expect: sevRequestExpectation,
  }),
  validation({
    id: 'request.both-flags',
    title: 'Flavor and image both true → one MEM_ENCRYPTION_CONTEXT (not two)',
    why: 'Agreeing sources ask for one guest, which takes one slot.',
    fact: 'nova-sev.md §2.4 step 4',
    novaScenario: [21],
    given: { request: sevWithImage({ ...UEFI_Q35, [IMAGE_FLAG]: true }) },
    expect: sevRequestExpectation,
  }),
  validation({
    id: 'request.conflict-flavor-false-image-true',
    title: 'Flavor false, image true → FLAVOR_IMAGE_CONFLICT',
    why: 'Neither side may silently win over an explicit setting of the other.',
    fact: 'nova-sev.md §2.4 step 3',
    novaScenario: [22],
    given: { request: { flavor: { extraSpecs: { [FLAG]: 'false' } }, image: { properties: { ...UEFI_Q35, [IMAGE_FLAG]: true } } } },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'FLAVOR_IMAGE_CONFLICT' }),
  }),
  validation({
    id: 'request.conflict-flavor-true-image-false',
    title: 'Flavor true, image false → FLAVOR_IMAGE_CONFLICT',
    why: 'Neither side may silently win over an explicit setting of the other.',
    fact: 'nova-sev.md §2.4 step 3',
    novaScenario: [23],
    given: { request: sevWithImage({ ...UEFI_Q35, [IMAGE_FLAG]: false }) },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'FLAVOR_IMAGE_CONFLICT' }),
  }),
  validation({
    id: 'request.uefi-required',
    title: 'SEV with an image lacking hw_firmware_type=uefi → UEFI_REQUIRED',
    why: 'SEV guests boot only with OVMF; SeaBIOS cannot run encrypted.',
    fact: 'nova-sev.md §2.4 step 5',
    novaScenario: [24],
    given: { request: sevWithImage({ hw_machine_type: 'q35' }) },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'UEFI_REQUIRED' }),
  }),
  validation({
    id: 'request.bios-image',
    title: 'SEV with hw_firmware_type=bios → UEFI_REQUIRED',
    why: 'An explicit BIOS image is as unbootable encrypted as one without the property.',
    fact: 'nova-sev.md §2.4 step 5',
    novaScenario: [24],
    given: { request: sevWithImage({ hw_firmware_type: 'bios', hw_machine_type: 'q35' }) },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'UEFI_REQUIRED' }),
  }),
  validation({
    id: 'request.q35-required',
    title: 'SEV with hw_machine_type=pc → Q35_REQUIRED',
    why: 'SEV needs a PCIe machine (q35); i440fx guests cannot be encrypted by nova-style drivers.',
    fact: 'nova-sev.md §2.4 step 6',
    novaScenario: [25],
    given: { request: sevWithImage({ hw_firmware_type: 'uefi', hw_machine_type: 'pc' }) },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'Q35_REQUIRED' }),
  }),
  validation({
    id: 'request.q35-versioned',
    title: "SEV with the host's versioned q35 machine (pc-q35-x.y) → accepted",
    why: 'Operators pin versioned machine types for migration stability; any q35 version works.',
    fact: 'nova-sev.md §2.4 step 6',
    novaScenario: [26],
    appliesTo: (t) => (versionedQ35(t) ? true : 'QEMU offers no versioned q35 machine'),
    given: (t) => ({ request: sevWithImage({ hw_firmware_type: 'uefi', hw_machine_type: versionedQ35(t) ?? 'q35' }) }),
    expect: sevRequestExpectation,
  }),
  validation({
    id: 'request.invalid-boolean',
    title: "hw:mem_encryption=tru → INVALID_BOOLEAN",
    why: 'A typo must not silently become "no encryption" (nova parses unknown strings as false at run time).',
    fact: 'nova-sev.md §2.3',
    novaScenario: [27],
    given: { request: { flavor: { extraSpecs: { [FLAG]: 'tru' } } } },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'INVALID_BOOLEAN' }),
  }),
  validation({
    id: 'request.trait-only',
    title: 'Flavor with only trait:HW_CPU_X86_AMD_SEV=required → SEV host, but no encryption and no slot',
    why: 'Asking for an SEV host is not asking for an encrypted guest; the difference must stay visible.',
    fact: 'nova-sev.md §2.3',
    novaScenario: [29],
    given: { request: { flavor: { extraSpecs: { [`trait:${SEV_TRAIT}`]: 'required' } } } },
    expect: () => ({ kind: 'request', model: null, resources: {}, requiredTraits: { includes: [SEV_TRAIT], excludes: [] } }),
  }),
  validation({
    id: 'request.default-machine-pc',
    title: 'Image without hw_machine_type, host default pc → Q35_REQUIRED before spawn',
    why: "Nova Zed found this only at spawn and burned every retry; the host's default machine is known up front.",
    fact: 'nova-sev.md §2.5',
    novaScenario: [39],
    novaZed: 'differs',
    given: { request: sevWithImage({ hw_firmware_type: 'uefi' }, { config: { machineTypes: { x86_64: 'pc' } } }) },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'Q35_REQUIRED' }),
  }),
  validation({
    id: 'request.default-machine-q35',
    title: 'Image without hw_machine_type, operator default x86_64=q35 → accepted',
    why: 'With q35 configured as the default the image needs no machine property.',
    fact: 'nova-sev.md §2.5',
    novaScenario: [39],
    given: { request: sevWithImage({ hw_firmware_type: 'uefi' }, { config: { machineTypes: { x86_64: 'q35' } } }) },
    expect: sevRequestExpectation,
  }),
  {
    id: 'request.unaliased-q35',
    area: 'request',
    title: 'An offered q35 version without an alias → accepted (libvirt has domcaps for it)',
    why: 'Nova looked up <sev> only under aliases and refused valid machines (MissingDomainCapabilityFeature); libvirt answers for every offered machine.',
    fact: 'nova-sev.md §3.1 step 2',
    novaScenario: [40],
    novaZed: 'fails',
    ops: ['validateRequest', 'buildGuestXml'],
    appliesTo: (t): Applicability => {
      const sev = needsFreshCacheSev(t);
      if (sev !== true) return sev;
      return unaliasedQ35(t) ? true : 'QEMU offers no unaliased q35 machine';
    },
    given: (t) => ({ request: sevWithImage({ hw_firmware_type: 'uefi', hw_machine_type: unaliasedQ35(t) ?? 'q35' }) }),
    expect: (t) => ({
      kind: 'all',
      of: [sevRequestExpectation(), { kind: 'xml', rules: [{ path: 'os/type', present: true, attrs: { machine: unaliasedQ35(t) ?? '' } }] }],
    }),
  },
  validation({
    id: 'request.unknown-machine',
    title: 'SEV with a q35 version QEMU does not offer (pc-q35-1.0) → UNKNOWN_MACHINE_TYPE',
    why: 'libvirt would refuse the domain anyway; refusing early names the real problem.',
    fact: 'nova-sev.md §9 scenario 41',
    novaScenario: [41],
    // Which machines QEMU offers is a host fact: validated against the host's report.
    ops: ['reportHost', 'validateRequest'],
    given: { request: sevWithImage({ hw_firmware_type: 'uefi', hw_machine_type: 'pc-q35-1.0' }) },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'UNKNOWN_MACHINE_TYPE', alternatives: ['NO_SEV_DOMAIN_CAPS'] }),
  }),
  validation({
    id: 'request.bfv-no-uefi',
    title: 'Boot from volume, SEV flavor, volume metadata without uefi → UEFI_REQUIRED (not a crash)',
    why: 'Zed crashed with HTTP 500 on the missing image name (#2006952); the request is simply invalid.',
    fact: 'nova-sev.md §9 scenario 48',
    novaScenario: [48],
    novaZed: 'fails',
    given: { request: { flavor: sevFlavor(), image: { volumeBacked: true, properties: { hw_machine_type: 'q35' } } } },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'UEFI_REQUIRED' }),
  }),
  validation({
    id: 'request.bfv-uefi-q35',
    title: 'Boot from volume, SEV flavor, volume metadata uefi + q35 → accepted',
    why: 'Volume-backed SEV guests are supported when the volume image is UEFI q35.',
    fact: 'nova-sev.md §9 scenario 49',
    novaScenario: [49],
    given: { request: { flavor: sevFlavor(), image: { volumeBacked: true, properties: UEFI_Q35 } } },
    expect: sevRequestExpectation,
  }),
  validation({
    id: 'request.bfv-image-flag',
    title: 'Boot from volume, volume metadata hw_mem_encryption=true → accepted',
    why: 'Zed crashed with HTTP 500 on the missing image id (#2041511); the flag on volume metadata is valid.',
    fact: 'nova-sev.md §9 scenario 50',
    novaScenario: [50],
    novaZed: 'fails',
    given: { request: { image: { volumeBacked: true, properties: { ...UEFI_Q35, [IMAGE_FLAG]: true } } } },
    expect: sevRequestExpectation,
  }),
  validation({
    id: 'request.sev-es-model',
    title: 'hw:mem_encryption_model=amd-sev-es → an SEV-ES slot and the SEV-ES trait',
    why: 'An ES guest must land where ES ASIDs exist and consume one of them, not a plain SEV slot.',
    fact: 'nova-sev.md §2.3 (32.0.0+)',
    novaScenario: [51],
    novaZed: 'fails',
    given: { request: { flavor: sevFlavor({ [MODEL_SPEC]: 'amd-sev-es' }) } },
    expect: () => ({
      kind: 'request',
      model: 'amd-sev-es',
      resources: { [inventoryKey('amd-sev-es')]: 1 },
      requiredTraits: { includes: [MODEL_TRAITS['amd-sev-es']], excludes: [] },
    }),
  }),
  validation({
    id: 'request.model-conflict',
    title: 'Flavor model amd-sev, image model amd-sev-es → FLAVOR_IMAGE_CONFLICT',
    why: 'Two explicit, different models cannot both be honoured.',
    fact: 'nova-sev.md §2.4 (M adds)',
    novaScenario: [54],
    novaZed: 'fails',
    given: { request: sevWithImage({ ...UEFI_Q35, [IMAGE_MODEL]: 'amd-sev-es' }, { flavor: sevFlavor({ [MODEL_SPEC]: 'amd-sev' }) }) },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'FLAVOR_IMAGE_CONFLICT' }),
  }),
  validation({
    id: 'request.unknown-model',
    title: 'hw:mem_encryption_model=amd-sev-xx → INVALID_MODEL',
    why: 'An unknown model must not fall back to plain SEV silently.',
    fact: 'nova-sev.md §2.4 (M adds)',
    novaScenario: [54],
    novaZed: 'fails',
    given: { request: { flavor: sevFlavor({ [MODEL_SPEC]: 'amd-sev-xx' }) } },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'INVALID_MODEL' }),
  }),
  validation({
    id: 'request.snp-needs-stateless-firmware',
    title: 'amd-sev-snp without hw_firmware_stateless=True → STATELESS_FIRMWARE_REQUIRED',
    why: 'SNP guests boot from a stateless ROM loader; an NVRAM-backed OVMF breaks attestation.',
    fact: 'nova-sev.md §2.4 (M adds), §3.3',
    novaScenario: [53],
    novaZed: 'fails',
    given: { request: { flavor: sevFlavor({ [MODEL_SPEC]: 'amd-sev-snp' }) } },
    expect: () => refuse({ kind: 'refusal', op: 'validateRequest', code: 'STATELESS_FIRMWARE_REQUIRED', alternatives: ['MODEL_NOT_IMPLEMENTED'] }),
  }),
]);

