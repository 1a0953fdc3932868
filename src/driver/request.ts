/**
 * Request validation in nova's vocabulary (flavor extra specs, image properties, `[libvirt]` config):
 * `translateRequest` is what an API/scheduler layer can check without a host (nova's
 * get_mem_encryption_constraint + ResourceRequest); `planGuest` adds the compute-side checks against
 * the detected host and resolves everything the XML builder needs.
 */
import { z } from 'zod';
import { NO_PLAIN_SEV_ASIDS, strictBool, type DriverConfig, type HostReport } from './detect.ts';
import { MODELS, RC_MEM_ENCRYPTION_CONTEXT, type EncryptionModel } from './inventory.ts';
import { refuse } from './refusals.ts';

const BoolLike = z.union([z.string(), z.boolean()]);

export const FlavorSchema = z.object({
  name: z.string().min(1),
  vcpus: z.number().int().min(1),
  memory_mb: z.number().int().min(1),
  extra_specs: z.record(z.string(), z.string()).default({}),
});

export const ImageSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  properties: z
    .object({
      hw_mem_encryption: BoolLike.optional(),
      hw_mem_encryption_model: z.string().optional(),
      hw_firmware_type: z.string().optional(),
      hw_machine_type: z.string().optional(),
      hw_disk_bus: z.string().optional(),
      hw_cdrom_bus: z.string().optional(),
      hw_video_model: z.string().optional(),
      hw_scsi_model: z.string().optional(),
      hw_qemu_guest_agent: BoolLike.optional(),
      hw_firmware_stateless: BoolLike.optional(),
    })
    .default({}),
  /** Harness facts about the guest kernel (nothing in nova carries them); see fakelibvirt's guest-os element. */
  guest_os: z.object({ name: z.string(), sev: z.boolean(), sev_es: z.boolean(), virtio_blk_boot: z.boolean() }).optional(),
});

export type Flavor = z.input<typeof FlavorSchema>;
export type Image = z.input<typeof ImageSchema>;
type ParsedImage = z.output<typeof ImageSchema>;
type ParsedFlavor = z.output<typeof FlavorSchema>;

export const requestText = {
  invalidBoolean: (v: string) => `Validation failed; '${v}' is not a valid boolean-like value.`,
  conflict: (flavor: string, fv: string, image: string, iv: boolean) =>
    `Flavor ${flavor} has hw:mem_encryption extra spec explicitly set to ${fv}, conflicting with image ${image} which has hw_mem_encryption property explicitly set to ${iv ? 'True' : 'False'}`,
  modelConflict: (flavor: string, fv: string, image: string, iv: string) =>
    `Flavor ${flavor} has hw:mem_encryption_model extra spec explicitly set to ${fv}, conflicting with image ${image} which has hw_mem_encryption_model property explicitly set to ${iv}`,
  invalidModel: (m: string) => `Invalid memory encryption model '${m}'. Allowed values: ${Object.keys(MODELS).join(', ')}`,
  statelessRequired:
    "The amd-sev-snp memory encryption model requires stateless firmware but the image metadata doesn't have the 'hw_firmware_stateless' property set to True",
  noSnpHost: (why: string) => `The amd-sev-snp model was requested but this host has no SEV-SNP: ${why}`,
  noUefi: (requesters: string, image: string) =>
    `Memory encryption requested by ${requesters} but image ${image} doesn't have 'hw_firmware_type' property set to 'uefi'`,
  notQ35: (m: string, image: string, id: string) => `Machine type '${m}' is not compatible with image ${image} (${id}): q35 type is required for SEV to work`,
  unknownMachine: (m: string, supported: readonly string[]) =>
    `Machine type '${m}' is not valid/supported machine type, Supported machine types are: ${supported.join(', ')}`,
  noSevDomcaps: 'Guest config could not be built without domain capabilities including <sev> feature.',
  ide: (what: string) => `${what} bus 'ide' is not supported for SEV guests: q35 has no IDE controller (use sata, scsi or virtio)`,
  badValue: (prop: string, v: string, allowed: readonly string[]) => `Image property ${prop}='${v}' is not supported; allowed: ${allowed.join(', ')}`,
  guestNotSev: (os: string) => `Guest OS '${os}' cannot run with encrypted memory`,
  guestNotSevEs: (os: string) => `Guest OS '${os}' has no SEV-ES support`,
  noSevHost: (why: string) => `Memory encryption was requested but this host cannot provide it: ${why}`,
  noEsHost: (why: string) => `The amd-sev-es model was requested but this host has no SEV-ES: ${why}`,
  noSlots: (model: string) => `This host has no ${model} slots`,
} as const;

/** Device vocabularies as data: what each image property may say and whether it is virtio. */
export const DISK_BUSES = ['virtio', 'scsi', 'sata', 'ide'] as const;
export const CDROM_BUSES = ['sata', 'scsi', 'ide'] as const;
export const VIDEO_MODELS = ['virtio', 'vga', 'qxl', 'cirrus', 'bochs', 'none'] as const;
export const SCSI_MODELS = ['virtio-scsi'] as const;
export type DiskBus = (typeof DISK_BUSES)[number];
export type CdromBus = (typeof CDROM_BUSES)[number];
export type VideoModel = (typeof VIDEO_MODELS)[number];

export interface GuestOsPlan {
  readonly name: string;
  readonly sev: boolean;
  readonly sevEs: boolean;
  readonly virtioBlkBoot: boolean;
}

export interface Translation {
  readonly encrypted: boolean;
  readonly model: EncryptionModel | null;
  readonly resources: Readonly<Record<string, number>>;
  readonly requiredTraits: readonly string[];
  readonly requesters: string;
}

export interface GuestPlan extends Translation {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** Canonical machine name, e.g. `pc-q35-8.2`. */
  readonly machine: string;
  readonly uefi: boolean;
  readonly diskBus: Exclude<DiskBus, 'ide'> | 'ide';
  readonly cdromBus: CdromBus;
  readonly videoModel: VideoModel;
  readonly guestAgent: boolean;
  readonly guestOs: GuestOsPlan;
  /** Why the plan differs from what the image asked for (e.g. virtio-blk boot disk moved to virtio-scsi). */
  readonly notes: readonly string[];
}

function parse<T extends z.ZodType>(schema: T, v: unknown, what: string): z.output<T> {
  const r = schema.safeParse(v);
  if (!r.success) return refuse('INVALID_REQUEST', `invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Strict bool-like: nova's API validator for the extra spec; FlexibleBooleanField for the image. */
function boolLike(v: string | boolean | undefined): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  const b = strictBool(v);
  return b === undefined ? refuse('INVALID_BOOLEAN', requestText.invalidBoolean(v)) : b;
}

function resolveModel(flavor: ParsedFlavor, image: ParsedImage): EncryptionModel {
  const fv = flavor.extra_specs['hw:mem_encryption_model'];
  const iv = image.properties.hw_mem_encryption_model;
  if (fv !== undefined && iv !== undefined && fv !== iv) refuse('FLAVOR_IMAGE_CONFLICT', requestText.modelConflict(flavor.name, fv, image.name, iv));
  const m = fv ?? iv ?? 'amd-sev';
  if (!(m in MODELS)) refuse('INVALID_MODEL', requestText.invalidModel(m));
  return m as EncryptionModel;
}

function translateParsed(flavor: ParsedFlavor, image: ParsedImage): Translation {
  const rawFlavor = flavor.extra_specs['hw:mem_encryption'];
  const fv = boolLike(rawFlavor);
  const iv = boolLike(image.properties.hw_mem_encryption);
  const none: Translation = { encrypted: false, model: null, resources: {}, requiredTraits: [], requesters: '' };
  if (!fv && !iv) return none;
  if (fv !== undefined && iv !== undefined && fv !== iv) refuse('FLAVOR_IMAGE_CONFLICT', requestText.conflict(flavor.name, rawFlavor!, image.name, iv));
  const requesters = [
    ...(fv ? [`hw:mem_encryption extra spec in ${flavor.name} flavor`] : []),
    ...(iv ? [`hw_mem_encryption property of image ${image.id}`] : []),
  ].join(' and ');
  if (image.properties.hw_firmware_type !== 'uefi') refuse('UEFI_REQUIRED', requestText.noUefi(requesters, image.name));
  const mt = image.properties.hw_machine_type;
  // nova's substring rule: pc-q35-2.1, q35 and fake-q35-2.11 all count as q35.
  if (mt !== undefined && !mt.includes('q35')) refuse('Q35_REQUIRED', requestText.notQ35(mt, image.name, image.id));
  const model = resolveModel(flavor, image);
  // SNP boots from a stateless ROM loader; an NVRAM-backed firmware would break attestation.
  if (model === 'amd-sev-snp' && boolLike(image.properties.hw_firmware_stateless) !== true) refuse('STATELESS_FIRMWARE_REQUIRED', requestText.statelessRequired);
  return { encrypted: true, model, resources: { [RC_MEM_ENCRYPTION_CONTEXT]: 1 }, requiredTraits: [MODELS[model].trait], requesters };
}

/** API/scheduler-level translation: no host needed. */
export function translateRequest(flavor: Flavor, image: Image): Translation {
  return translateParsed(parse(FlavorSchema, flavor, 'flavor'), parse(ImageSchema, image, 'image'));
}

function pick<T extends string>(prop: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) refuse('UNSUPPORTED_DEVICE_MODEL', requestText.badValue(prop, v, allowed));
  return v as T;
}

/** Compute-level planning against the detected host. */
export function planGuest(input: { name: string; flavor: Flavor; image: Image }, host: HostReport, config: DriverConfig = {}): GuestPlan {
  const flavor = parse(FlavorSchema, input.flavor, 'flavor');
  const image = parse(ImageSchema, input.image, 'image');
  const t = translateParsed(flavor, image);
  const p = image.properties;
  const f = host.facts;
  const requested = p.hw_machine_type ?? config.hw_machine_type?.x86_64 ?? f.defaultMachine;
  // The host default applies here; nova Zed only finds a `pc` default at spawn and reschedules.
  if (t.encrypted && !requested.includes('q35')) refuse('Q35_REQUIRED', requestText.notQ35(requested, image.name, image.id));
  const canonical = f.canonical.get(requested);
  if (canonical === undefined) refuse('UNKNOWN_MACHINE_TYPE', requestText.unknownMachine(requested, f.machines));
  const q35 = canonical!.includes('q35');

  const diskBus = pick('hw_disk_bus', p.hw_disk_bus, DISK_BUSES, 'virtio');
  const cdromBus = pick('hw_cdrom_bus', p.hw_cdrom_bus, CDROM_BUSES, q35 ? 'sata' : 'ide');
  const videoModel = pick('hw_video_model', p.hw_video_model, VIDEO_MODELS, 'virtio');
  pick('hw_scsi_model', p.hw_scsi_model, SCSI_MODELS, 'virtio-scsi');
  if (q35 || t.encrypted) {
    if (diskBus === 'ide') refuse('IDE_NOT_SUPPORTED', requestText.ide('Disk'));
    if (cdromBus === 'ide') refuse('IDE_NOT_SUPPORTED', requestText.ide('CD-ROM'));
  }
  const g = image.guest_os;
  const guestOs: GuestOsPlan = g ? { name: g.name, sev: g.sev, sevEs: g.sev_es, virtioBlkBoot: g.virtio_blk_boot } : { name: 'generic-sev-aware', sev: true, sevEs: true, virtioBlkBoot: true };
  const notes: string[] = [];
  let bootBus = diskBus;
  if (t.encrypted) {
    if (!f.sevMachines.has(requested)) {
      if (!host.sev.available) refuse('NO_SEV_HOST', requestText.noSevHost(host.sev.reason ?? 'SEV not detected'));
      refuse('NO_SEV_DOMAIN_CAPS', requestText.noSevDomcaps);
    }
    if (t.model === 'amd-sev-es') {
      if (!host.sevEs.available) refuse('SEV_ES_UNAVAILABLE', requestText.noEsHost(host.sevEs.reason ?? 'not detected'));
      if (host.sevEs.slots === 0) refuse('NO_SLOTS', requestText.noSlots('SEV-ES'));
      if (!guestOs.sevEs) refuse('GUEST_OS_NOT_SEV_CAPABLE', requestText.guestNotSevEs(guestOs.name));
    } else if (t.model === 'amd-sev-snp') {
      // No dedicated code: the host simply has no SNP slots to give.
      if (!host.snp.available || host.snp.slots === 0) refuse('NO_SLOTS', requestText.noSnpHost(host.snp.reason ?? 'no SNP slots'));
      if (!guestOs.sevEs) refuse('GUEST_OS_NOT_SEV_CAPABLE', requestText.guestNotSevEs(guestOs.name));
    } else {
      // A host whose BIOS gave every ASID to SEV-ES has SEV, just no slot for a plain SEV guest.
      if (host.sev.reason === NO_PLAIN_SEV_ASIDS || (host.sev.available && host.sev.slots === 0)) refuse('NO_SLOTS', requestText.noSlots('SEV'));
      if (!host.sev.available) refuse('NO_SEV_HOST', requestText.noSevHost(host.sev.reason ?? 'SEV not detected'));
    }
    if (!guestOs.sev) refuse('GUEST_OS_NOT_SEV_CAPABLE', requestText.guestNotSev(guestOs.name));
    if (bootBus === 'virtio' && !guestOs.virtioBlkBoot) {
      bootBus = 'scsi';
      notes.push(`guest OS '${guestOs.name}' cannot boot encrypted from virtio-blk: boot disk moved to virtio-scsi`);
    }
  }
  return {
    ...t,
    name: input.name,
    vcpus: flavor.vcpus,
    memoryMiB: flavor.memory_mb,
    machine: canonical!,
    uefi: p.hw_firmware_type === 'uefi',
    diskBus: bootBus,
    cdromBus,
    videoModel,
    guestAgent: boolLike(p.hw_qemu_guest_agent) ?? false,
    guestOs,
    notes,
  };
}
